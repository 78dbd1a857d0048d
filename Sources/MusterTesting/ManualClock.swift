import Foundation
import MusterBroker
import MusterCore
import Synchronization

/// A clock that moves only when told: give it to a `TestBroker` and a ladder's rungs, a
/// deadline or a return window come due when the test says so, without waiting. The broker looks
/// at it at least every 50 ms, so what falls due is acted on at once (wait for its effect — a
/// NOTICE on a socket — never for time).
///
/// Session liveness, resends and per-adapter rate limits are measured on the same clock: advance
/// it by more than three heartbeat intervals and the broker drops every silent peer; hold it
/// still and a rate limit's bucket never refills. Tests that move time by hours start the broker
/// with a long heartbeat and resend interval. `set` may move time backwards; the broker does not
/// expect it to.
public final class ManualClock: BrokerClock, @unchecked Sendable {
    private let current: Mutex<Int64>

    /// Starts at `start` (default: the real time now, to the millisecond).
    public init(_ start: Date = SystemClock().now()) { current = Mutex(start.ms) }

    public func now() -> Date { Date(ms: current.withLock { $0 }) }

    public func set(_ date: Date) { current.withLock { $0 = date.ms } }

    public func advance(seconds: Double) { current.withLock { $0 += Int64(seconds * 1000) } }
}
