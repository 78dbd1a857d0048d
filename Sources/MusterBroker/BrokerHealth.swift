import Foundation
import Synchronization

/// The broker's health as `/healthz`, `/readyz` and `muster status` report it, readable from any
/// thread: written by the broker's loop (each turn) and its commits (each batch made durable,
/// or not). Ready: the loop is turning, and the last commit tried succeeded (an idle broker,
/// with none tried since the last success, is ready).
public final class BrokerHealth: Sendable {
    public struct Snapshot: Sendable {
        public var startedAt: Date
        public var loopAt: Date
        public var lastCommitAt: Date?
        public var lastFailureAt: Date?
        public var lastFailure: String?
        public var commits: Int64
        public var failures: Int64
    }

    /// The loop turns at least every 100 ms; this much silence means it is stuck.
    public static let stuckAfter: TimeInterval = 5
    private let state: Mutex<Snapshot>

    public init(now: Date = Date()) {
        state = Mutex(Snapshot(startedAt: now, loopAt: now, commits: 0, failures: 0))
    }

    func turned(_ now: Date) { state.withLock { $0.loopAt = now } }
    func committed(_ now: Date) { state.withLock { $0.lastCommitAt = now; $0.commits += 1 } }
    func failed(_ now: Date, _ error: String) {
        state.withLock { $0.lastFailureAt = now; $0.lastFailure = error; $0.failures += 1 }
    }

    public var snapshot: Snapshot { state.withLock { $0 } }

    /// Ready, or why not.
    public func readiness(now: Date = Date()) -> (ready: Bool, reasons: [String]) {
        let s = snapshot
        var reasons: [String] = []
        if now.timeIntervalSince(s.loopAt) > Self.stuckAfter {
            reasons.append("the broker's loop has not turned for \(Int(now.timeIntervalSince(s.loopAt)))s")
        }
        if let failed = s.lastFailureAt, s.lastCommitAt.map({ $0 < failed }) ?? true {
            reasons.append("the store cannot commit: \(s.lastFailure ?? "")")
        }
        return (reasons.isEmpty, reasons)
    }
}
