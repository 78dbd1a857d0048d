import Foundation

/// A pipe another thread writes to, to wake a thread blocked in `zmq_poll` (sockets cannot be
/// shared, so work is handed over in a queue and the owner is woken to send it).
public final class Wakeup: @unchecked Sendable {
    public let readFD: Int32
    private let writeFD: Int32

    public init() {
        var fds: [Int32] = [0, 0]
        precondition(pipe(&fds) == 0, "pipe() failed")
        readFD = fds[0]
        writeFD = fds[1]
        _ = fcntl(readFD, F_SETFL, O_NONBLOCK)
        _ = fcntl(writeFD, F_SETFL, O_NONBLOCK)
    }

    deinit { close(readFD); close(writeFD) }

    public func signal() {
        var b: UInt8 = 1
        _ = write(writeFD, &b, 1)
    }

    /// Empties the pipe after a wake-up.
    public func drain() {
        var buf = [UInt8](repeating: 0, count: 256)
        while read(readFD, &buf, buf.count) > 0 {}
    }
}

extension Wakeup {
    /// Waits until signalled or `timeoutMs` passes; true if signalled.
    public func wait(timeoutMs: Int) -> Bool {
        var p = pollfd(fd: readFD, events: Int16(POLLIN), revents: 0)
        return poll(&p, 1, Int32(timeoutMs)) > 0
    }
}
