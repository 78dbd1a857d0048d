import Foundation
import MusterCore

/// Where the broker reads the time: every deadline, rung and heartbeat is measured against it.
/// The system clock in service; a settable one (MusterTesting's `ManualClock`) in tests, so that
/// deadline logic is tested by moving time, never by waiting for it.
public protocol BrokerClock: Sendable {
    /// Now, truncated to the millisecond like every stored time.
    func now() -> Date
}

public struct SystemClock: BrokerClock {
    public init() {}
    public func now() -> Date { Date(ms: Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))) }
}
