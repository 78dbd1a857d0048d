import Foundation

/// RFC 3339 with the city's offset (PROTOCOL.md: `2026-06-27T10:00:00+08:00`). Formatting a
/// value is not reading the clock, so this is allowed in the core.
public enum Timestamp {
    /// China Standard Time; one zone for the whole country.
    public static let zone = TimeZone(secondsFromGMT: 8 * 3600)!

    /// Formats in +08:00 with integer arithmetic (Hinnant's civil-from-days): the broker writes
    /// several of these per message, and Calendar costs microseconds each.
    public static func format(_ date: Date) -> String {
        let ms = date.ms + 8 * 3_600_000
        let (secs, milli) = floorDiv(ms, 1000)
        let (days, sod) = floorDiv(secs, 86_400)
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        var out = ""
        out.reserveCapacity(29)
        func pad(_ v: Int64, _ w: Int) {
            let s = String(v)
            if s.count < w { out += String(repeating: "0", count: w - s.count) }
            out += s
        }
        pad(year, 4); out += "-"; pad(month, 2); out += "-"; pad(day, 2); out += "T"
        pad(sod / 3600, 2); out += ":"; pad(sod / 60 % 60, 2); out += ":"; pad(sod % 60, 2)
        if milli != 0 { out += "."; pad(milli, 3) }
        out += "+08:00"
        return out
    }

    /// Parses RFC 3339 with any offset, with or without fractional seconds.
    public static func parse(_ s: String) -> Date? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = f.date(from: s) { return d }
        f.formatOptions = [.withInternetDateTime]
        return f.date(from: s)
    }
}

/// Division rounding toward minus infinity, with a non-negative remainder (dates before 1970).
private func floorDiv(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
    let (q, r) = a.quotientAndRemainder(dividingBy: b)
    return r < 0 ? (q - 1, r + b) : (q, r)
}
