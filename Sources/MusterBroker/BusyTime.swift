import Dispatch

/// How much of its wall time the broker's loop spent working rather than waiting for its socket
/// or the writer. One thread decides every request, so at 100 % it is the bound: under the
/// harness's full load it is busy 99.7 % of the time while the writer commits 82 % of it
/// (docs/PERFORMANCE.md, issue 16's twenty-first round). Exported as
/// `muster_broker_busy_seconds_total`; the writer's own share is the rate of
/// `muster_commit_duration_seconds_sum`.
struct BusyTime {
    /// Monotonic nanoseconds (injected in tests).
    private let clock: () -> UInt64
    private var since: UInt64
    private var waited: UInt64 = 0

    init(clock: @escaping () -> UInt64 = { DispatchTime.now().uptimeNanoseconds }) {
        self.clock = clock
        since = clock()
    }

    /// Runs `wait`, counted as waiting.
    mutating func waiting<T>(_ wait: () -> T) -> T {
        let started = clock()
        defer { waited &+= clock() &- started }
        return wait()
    }

    /// Seconds spent working since the last call (or since the start), and starts counting again.
    mutating func takeBusySeconds() -> Double {
        let now = clock()
        let busy = (now &- since) &- min(waited, now &- since)
        since = now
        waited = 0
        return Double(busy) / 1e9
    }
}
