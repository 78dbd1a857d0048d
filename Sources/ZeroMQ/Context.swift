import CZeroMQ
import Foundation

/// A libzmq context. Thread-safe by libzmq's contract.
public final class Context: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer
    private var terminated = false

    public init() {
        handle = zmq_ctx_new()
    }

    /// Waits until every socket of this context is closed and its I/O threads have released
    /// their endpoints (a listening port is free again when this returns). Call once, after
    /// closing the sockets; the deinit does it otherwise.
    public func terminate() {
        guard !terminated else { return }
        terminated = true
        while zmq_ctx_term(handle) != 0 && zmq_errno() == EINTR {}
    }

    /// For a process about to exit: gives what closed sockets still hold (within their linger:
    /// a BYE queued just before) up to `seconds` to leave, then returns even if a socket is still
    /// open (the wait goes on on a thread of its own, until the process ends).
    public func terminate(waitingAtMost seconds: Double) {
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread { [self] in
            terminate()
            done.signal()
        }
        _ = done.wait(timeout: .now() + seconds)
    }

    deinit { terminate() }

    public static let shared = Context()
}
