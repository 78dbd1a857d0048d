import Foundation

/// RFC 3339 with the city's offset (PROTOCOL.md: `2026-06-27T10:00:00+08:00`). Formatting a
/// value is not reading the clock, so this is allowed in the core.
public enum Timestamp {
    /// Formats in +08:00 with integer arithmetic (CivilDay's civil-from-days): the broker writes
    /// several of these per message, and Calendar costs microseconds each.
    public static func format(_ date: Date) -> String {
        let ms = date.ms + 8 * 3_600_000
        let secs = ms.floorDiv(1000), milli = ms.floorMod(1000)
        let days = secs.floorDiv(86_400), sod = secs.floorMod(86_400)
        let (year, month, day) = CivilDay(ordinal: days).civil
        var out = ""
        out.reserveCapacity(29)
        func pad(_ v: Int64, _ w: Int) {
            let s = String(v)
            if s.count < w { out += String(repeating: "0", count: w - s.count) }
            out += s
        }
        pad(Int64(year), 4); out += "-"; pad(Int64(month), 2); out += "-"; pad(Int64(day), 2); out += "T"
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
