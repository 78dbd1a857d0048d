import CZeroMQ

/// An error reported by libzmq, with its errno and message.
public struct ZMQError: Error, CustomStringConvertible, Sendable {
    public let code: Int32
    public var description: String { String(cString: zmq_strerror(code)) }

    static func last() -> ZMQError { ZMQError(code: zmq_errno()) }

    public var isAgain: Bool { code == EAGAIN }
    public var isInterrupted: Bool { code == EINTR }
    /// ROUTER_MANDATORY: the routing id is not (or no longer) connected.
    public var isHostUnreachable: Bool { code == EHOSTUNREACH }
}
