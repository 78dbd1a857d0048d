import CZeroMQ

/// A libzmq context. Thread-safe by libzmq's contract; one per process is enough.
public final class Context: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer

    public init() {
        handle = zmq_ctx_new()
    }

    deinit {
        zmq_ctx_term(handle)
    }

    public static let shared = Context()
}
