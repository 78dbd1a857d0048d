import Foundation

/// Muster keeps time in whole milliseconds everywhere (store, log, wire), so that a date read
/// back from any of them is bit-for-bit the date that was written, and replays compare equal.
extension Date {
    public init(ms: Int64) { self.init(timeIntervalSince1970: Double(ms) / 1000) }

    public var ms: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }

    /// This date moved by whole milliseconds, staying canonical.
    public func adding(ms delta: Int64) -> Date { Date(ms: ms + delta) }
}
