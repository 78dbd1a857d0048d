import Foundation

/// A date on the calendar of China Standard Time (+08:00), without a time: what holiday
/// schedules and working days are made of.
public struct CivilDay: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Days since 1970-01-01.
    public let ordinal: Int64

    public init(ordinal: Int64) { self.ordinal = ordinal }

    public init(year: Int, month: Int, day: Int) {
        // Hinnant's days_from_civil.
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let m = Int64(month)
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        ordinal = era * 146_097 + doe - 719_468
    }

    /// `2026-10-01`.
    public init?(_ iso: String) {
        let parts = iso.split(separator: "-")
        guard parts.count == 3, parts[0].count == 4, let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]),
              (1...12).contains(m), (1...31).contains(d) else { return nil }
        self.init(year: y, month: m, day: d)
        guard self.civil == (y, m, d) else { return nil }  // 2026-02-30
    }

    /// The day a moment falls on in +08:00.
    public init(_ date: Date) {
        ordinal = (date.ms + Self.offsetMs).floorDiv(Self.dayMs)
    }

    public static let dayMs: Int64 = 86_400_000
    public static let offsetMs: Int64 = 8 * 3_600_000

    public var civil: (year: Int, month: Int, day: Int) {
        let z = ordinal + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (Int(yoe + era * 400 + (m <= 2 ? 1 : 0)), Int(m), Int(d))
    }

    public var year: Int { civil.year }

    /// 1 = Monday … 7 = Sunday (1970-01-01 was a Thursday).
    public var weekday: Int { Int((ordinal + 3).floorMod(7)) + 1 }

    /// Midnight at the start of this day, +08:00.
    public var start: Date { Date(ms: ordinal * Self.dayMs - Self.offsetMs) }

    public func adding(days: Int64) -> CivilDay { CivilDay(ordinal: ordinal + days) }

    public static func < (a: CivilDay, b: CivilDay) -> Bool { a.ordinal < b.ordinal }

    public var description: String {
        let c = civil
        return String(format: "%04d-%02d-%02d", c.year, c.month, c.day)
    }
}

extension Int64 {
    func floorDiv(_ b: Int64) -> Int64 { let q = self / b; return (self % b != 0 && (self < 0) != (b < 0)) ? q - 1 : q }
    func floorMod(_ b: Int64) -> Int64 { self - floorDiv(b) * b }
}
