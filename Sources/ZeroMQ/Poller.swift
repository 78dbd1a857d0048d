import CZeroMQ

/// Waits on several sockets of one thread at once.
public enum Poller {
    /// Which of `sockets` are readable after at most `timeoutMs`.
    public static func readable(_ sockets: [Socket], timeoutMs: Int) -> [Bool] {
        var items = sockets.map { zmq_pollitem_t(socket: $0.handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0) }
        let rc = zmq_poll(&items, Int32(items.count), timeoutMs)
        guard rc > 0 else { return Array(repeating: false, count: sockets.count) }
        return items.map { ($0.revents & Int16(ZMQ_POLLIN)) != 0 }
    }
}
