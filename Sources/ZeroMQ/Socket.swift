import CZeroMQ
import Foundation

/// A thin wrapper over a libzmq socket. libzmq sockets are not thread-safe: keep each one on
/// the thread that uses it (the `@unchecked Sendable` only lets it be handed to that thread).
public final class Socket: @unchecked Sendable {
    public enum Kind { case router, dealer, rep
        var raw: Int32 {
            switch self {
            case .router: ZMQ_ROUTER
            case .dealer: ZMQ_DEALER
            case .rep: ZMQ_REP
            }
        }
    }

    let handle: UnsafeMutableRawPointer
    /// Held so that the context outlives the socket (terminating it waits for its sockets).
    private let context: Context
    private var closed = false

    public init(_ kind: Kind, context: Context = .shared) throws {
        guard let h = zmq_socket(context.handle, kind.raw) else { throw ZMQError.last() }
        handle = h
        self.context = context
        try set(ZMQ_LINGER, Int32(0))
    }

    deinit { close() }

    public func close() {
        if !closed { zmq_close(handle); closed = true }
    }

    // MARK: options

    public func set(_ option: Int32, _ value: Int32) throws {
        var v = value
        guard zmq_setsockopt(handle, option, &v, MemoryLayout<Int32>.size) == 0 else { throw ZMQError.last() }
    }

    public func set(_ option: Int32, _ value: Int64) throws {
        var v = value
        guard zmq_setsockopt(handle, option, &v, MemoryLayout<Int64>.size) == 0 else { throw ZMQError.last() }
    }

    public func set(_ option: Int32, bytes: [UInt8]) throws {
        let rc = bytes.withUnsafeBytes { zmq_setsockopt(handle, option, $0.baseAddress, $0.count) }
        guard rc == 0 else { throw ZMQError.last() }
    }

    /// Report EHOSTUNREACH instead of silently dropping messages to unknown peers.
    public func setRouterMandatory() throws { try set(ZMQ_ROUTER_MANDATORY, Int32(1)) }
    public func setIdentity(_ id: String) throws { try set(ZMQ_ROUTING_ID, bytes: Array(id.utf8)) }
    public func setMaxMessageSize(_ bytes: Int64) throws { try set(ZMQ_MAXMSGSIZE, bytes) }
    public func setHighWaterMarks(send: Int32, receive: Int32) throws {
        try set(ZMQ_SNDHWM, send); try set(ZMQ_RCVHWM, receive)
    }
    public func setReconnect(initialMs: Int32, maxMs: Int32) throws {
        try set(ZMQ_RECONNECT_IVL, initialMs); try set(ZMQ_RECONNECT_IVL_MAX, maxMs)
    }

    // MARK: connect

    public func bind(_ endpoint: String) throws {
        guard zmq_bind(handle, endpoint) == 0 else { throw ZMQError.last() }
    }

    public func connect(_ endpoint: String) throws {
        guard zmq_connect(handle, endpoint) == 0 else { throw ZMQError.last() }
    }

    /// The endpoint actually bound (resolves `tcp://127.0.0.1:*` to a port).
    public func lastEndpoint() -> String {
        var buf = [UInt8](repeating: 0, count: 256)
        var len = buf.count
        zmq_getsockopt(handle, ZMQ_LAST_ENDPOINT, &buf, &len)
        return String(decoding: buf.prefix { $0 != 0 }, as: UTF8.self)
    }

    // MARK: send / receive

    /// Sends all frames as one message. Returns false when it would block (`dontWait`).
    @discardableResult
    public func send(_ frames: [[UInt8]], dontWait: Bool = false) throws -> Bool {
        for (i, frame) in frames.enumerated() {
            var flags: Int32 = i < frames.count - 1 ? ZMQ_SNDMORE : 0
            if dontWait { flags |= ZMQ_DONTWAIT }
            let rc = frame.withUnsafeBytes { zmq_send(handle, $0.baseAddress, $0.count, flags) }
            if rc < 0 {
                let e = ZMQError.last()
                if e.isAgain && i == 0 { return false }
                throw e
            }
        }
        return true
    }

    /// Receives one whole message with the ZAP user id of the connection it came on (the
    /// principal CURVE authenticated; nil without security).
    public func receiveWithUser(dontWait: Bool = false) throws -> (frames: [[UInt8]], user: String?)? {
        var frames: [[UInt8]] = []
        var user: String?
        var msg = zmq_msg_t()
        zmq_msg_init(&msg)
        defer { zmq_msg_close(&msg) }
        while true {
            let rc = zmq_msg_recv(&msg, handle, dontWait ? ZMQ_DONTWAIT : 0)
            if rc < 0 {
                let e = ZMQError.last()
                if (e.isAgain || e.isInterrupted) && frames.isEmpty { return nil }
                throw e
            }
            // Metadata rides on the frames that came over the wire (not the ROUTER's id frame).
            if user == nil, let u = zmq_msg_gets(&msg, "User-Id") {
                let s = String(cString: u)
                user = s.isEmpty ? nil : s
            }
            frames.append(Array(UnsafeRawBufferPointer(start: zmq_msg_data(&msg)!, count: zmq_msg_size(&msg))))
            if zmq_msg_more(&msg) == 0 { return (frames, user) }
        }
    }

    /// Receives one whole message. Returns nil when nothing is ready (`dontWait`) or on EINTR.
    public func receive(dontWait: Bool = false) throws -> [[UInt8]]? {
        try receiveWithUser(dontWait: dontWait)?.frames
    }

    /// Waits until the socket or the file descriptor `fd` is readable, or `timeoutMs` passes.
    /// Returns (socket readable, fd readable). The fd lets another thread wake the owner.
    public func waitReadable(timeoutMs: Int, orFD fd: Int32) -> (socket: Bool, fd: Bool) {
        var items = [
            zmq_pollitem_t(socket: handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0),
            zmq_pollitem_t(socket: nil, fd: fd, events: Int16(ZMQ_POLLIN), revents: 0),
        ]
        let rc = zmq_poll(&items, 2, timeoutMs)
        guard rc > 0 else { return (false, false) }
        return ((items[0].revents & Int16(ZMQ_POLLIN)) != 0, (items[1].revents & Int16(ZMQ_POLLIN)) != 0)
    }

    /// Waits on this socket, another socket and a file descriptor (the broker's ROUTER, its ZAP
    /// handler and the writer's wake-up).
    public func waitReadable(timeoutMs: Int, also other: Socket, orFD fd: Int32) -> (socket: Bool, other: Bool, fd: Bool) {
        var items = [
            zmq_pollitem_t(socket: handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0),
            zmq_pollitem_t(socket: other.handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0),
            zmq_pollitem_t(socket: nil, fd: fd, events: Int16(ZMQ_POLLIN), revents: 0),
        ]
        guard zmq_poll(&items, 3, timeoutMs) > 0 else { return (false, false, false) }
        let r = items.map { ($0.revents & Int16(ZMQ_POLLIN)) != 0 }
        return (r[0], r[1], r[2])
    }

    /// Waits until the socket is readable or `timeoutMs` passes (-1: forever).
    public func waitReadable(timeoutMs: Int) -> Bool {
        var item = zmq_pollitem_t(socket: handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0)
        let rc = zmq_poll(&item, 1, timeoutMs)
        return rc > 0 && (item.revents & Int16(ZMQ_POLLIN)) != 0
    }
}
