import CZeroMQ
import Foundation
import Synchronization

/// libzmq's socket monitor (`zmq_socket_monitor`): the connection events of one socket, read
/// from a PAIR socket. It is how a peer tells "the broker refused my key" (ZAP said no:
/// `handshakeFailedAuth`) from "the two sides speak different security mechanisms"
/// (`handshakeFailedProtocol`) from "the connection was dropped mid-handshake" — libzmq
/// otherwise just retries forever in silence.
///
/// Use it on the monitored socket's thread, and create it in the monitored socket's context
/// (inproc endpoints do not cross contexts).
public final class SocketMonitor: @unchecked Sendable {
    public enum Kind: Equatable, Sendable {
        case connected, connectDelayed, connectRetried, closed, disconnected
        case handshakeSucceeded
        /// The connection ended during the handshake without a ZMTP reason (value: errno).
        case handshakeFailedNoDetail
        /// The peer broke the protocol or the mechanisms differ (value: a `ZMQ_PROTOCOL_ERROR_*`).
        case handshakeFailedProtocol
        /// The server's ZAP handler refused us (value: its status code, e.g. 400).
        case handshakeFailedAuth
        case other(UInt16)
    }

    public struct Event: Sendable, Equatable {
        public var kind: Kind
        public var value: UInt32
        public var endpoint: String

        /// CURVE on one side, NULL (plain) on the other.
        public var isMechanismMismatch: Bool {
            kind == .handshakeFailedProtocol && Int32(bitPattern: value) == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH
        }
        /// A CURVE box that would not open: the wrong server key, or a damaged message.
        public var isCryptographic: Bool {
            kind == .handshakeFailedProtocol && Int32(bitPattern: value) == ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC
        }
    }

    private static let counter = Atomic<Int>(0)
    let handle: UnsafeMutableRawPointer
    private var closed = false

    public init(_ socket: Socket, context: Context = .shared) throws {
        let n = SocketMonitor.counter.add(1, ordering: .relaxed).newValue
        let address = "inproc://muster-monitor-\(getpid())-\(n)"
        guard zmq_socket_monitor(socket.handle, address, ZMQ_EVENT_ALL) == 0 else { throw ZMQError.last() }
        guard let h = zmq_socket(context.handle, ZMQ_PAIR) else { throw ZMQError.last() }
        handle = h
        var linger: Int32 = 0
        zmq_setsockopt(h, ZMQ_LINGER, &linger, MemoryLayout<Int32>.size)
        guard zmq_connect(h, address) == 0 else {
            let e = ZMQError.last()
            zmq_close(h)
            throw e
        }
    }

    deinit { close() }

    public func close() {
        if !closed { zmq_close(handle); closed = true }
    }

    /// The next event, if one is waiting (never blocks).
    public func next() -> Event? {
        // Two frames: 6 bytes (event number, u16; value, u32; host byte order), then the endpoint.
        var frames: [[UInt8]] = []
        var msg = zmq_msg_t()
        zmq_msg_init(&msg)
        defer { zmq_msg_close(&msg) }
        while true {
            let flags: Int32 = frames.isEmpty ? ZMQ_DONTWAIT : 0
            guard zmq_msg_recv(&msg, handle, flags) >= 0 else { return nil }
            let size = zmq_msg_size(&msg)
            frames.append(size == 0 ? [] : Array(UnsafeRawBufferPointer(start: zmq_msg_data(&msg)!, count: size)))
            if zmq_msg_more(&msg) == 0 { break }
        }
        guard let first = frames.first, first.count >= 6 else { return nil }
        let number = first.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 0, as: UInt16.self) }
        let value = first.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 2, as: UInt32.self) }
        let endpoint = frames.count > 1 ? String(decoding: frames[1], as: UTF8.self) : ""
        return Event(kind: SocketMonitor.kind(number), value: value, endpoint: endpoint)
    }

    static func kind(_ n: UInt16) -> Kind {
        switch Int32(n) {
        case ZMQ_EVENT_CONNECTED: .connected
        case ZMQ_EVENT_CONNECT_DELAYED: .connectDelayed
        case ZMQ_EVENT_CONNECT_RETRIED: .connectRetried
        case ZMQ_EVENT_CLOSED: .closed
        case ZMQ_EVENT_DISCONNECTED: .disconnected
        case ZMQ_EVENT_HANDSHAKE_SUCCEEDED: .handshakeSucceeded
        case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL: .handshakeFailedNoDetail
        case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL: .handshakeFailedProtocol
        case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH: .handshakeFailedAuth
        default: .other(n)
        }
    }
}

extension Socket {
    /// Waits until the socket or its monitor is readable, or `timeoutMs` passes.
    public func waitReadable(timeoutMs: Int, orMonitor monitor: SocketMonitor) -> (socket: Bool, monitor: Bool) {
        var items = [
            zmq_pollitem_t(socket: handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0),
            zmq_pollitem_t(socket: monitor.handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0),
        ]
        guard zmq_poll(&items, 2, timeoutMs) > 0 else { return (false, false) }
        return ((items[0].revents & Int16(ZMQ_POLLIN)) != 0, (items[1].revents & Int16(ZMQ_POLLIN)) != 0)
    }

    /// How long `close()` may wait to send what is queued (the socket starts at 0).
    public func setLinger(ms: Int32) throws { try set(ZMQ_LINGER, ms) }
}
