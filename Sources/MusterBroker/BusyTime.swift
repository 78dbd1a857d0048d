import Dispatch

/// How much of its wall time the broker's loop spent deciding and answering, rather than
/// waiting for its socket or the writer, or committing on its own thread (the low-latency path;
/// that time is in `muster_commit_duration_seconds` with the writer's). One thread decides every
/// request, so near 100 % it is the bound (docs/PERFORMANCE.md, issue 16's twenty-first round).
/// Wall time: a turn spent queued for a CPU counts as work, as do the log's pages copied back at
/// a quiet moment (`finishCheckpoint`). Exported as `muster_broker_busy_seconds_total`.
struct BusyTime {
    /// Monotonic nanoseconds (injected in tests).
    private let clock: () -> UInt64
    private var since: UInt64
    private var excluded: UInt64 = 0

    init(clock: @escaping () -> UInt64 = { DispatchTime.now().uptimeNanoseconds }) {
        self.clock = clock
        since = clock()
    }

    /// Runs `body`, its time left out of the loop's work.
    mutating func excluding<T>(_ body: () -> T) -> T {
        let started = clock()
        defer { excluded += clock() - started }
        return body()
    }

    /// Seconds of work since the last call (or since the start), and starts counting again.
    /// Called between waits, never inside one, so what was left out fits in the interval.
    mutating func takeBusySeconds() -> Double {
        let now = clock()
        let busy = now - since - excluded
        since = now
        excluded = 0
        return Double(busy) / 1e9
    }
}
