import Foundation

/// RFC 3339 with the city's offset (PROTOCOL.md: `2026-06-27T10:00:00+08:00`). Formatting a
/// value is not reading the clock, so this is allowed in the core.
public enum Timestamp {
    /// Formats in +08:00 with integer arithmetic (CivilDay's civil-from-days): the broker writes
    /// several of these per message, and Calendar costs microseconds each.
    public static func format(_ date: Date) -> String {
        guard hasFourDigitYear(date) else {
            let ms = date.ms + 8 * 3_600_000
            let secs = ms.floorDiv(1000), (year, month, day) = CivilDay(ordinal: secs.floorDiv(86_400)).civil
            return formatAnyYear(year, month, day, secs.floorMod(86_400), ms.floorMod(1000))
        }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: width) { out in
            String(decoding: UnsafeBufferPointer(rebasing: out[..<write(date, milliseconds: false, into: out)]), as: UTF8.self)
        }
    }

    /// Whether `write` can write it: its year (in +08:00) is within 0…9999, from
    /// 0000-01-01T00:00:00+08:00 to the last millisecond of 9999.
    public static func hasFourDigitYear(_ date: Date) -> Bool {
        (-62_167_248_000_000..<253_402_272_000_000).contains(date.ms)
    }

    /// The longest text `write` makes: `2026-11-18T19:06:40.000+08:00`.
    public static let width = 29

    /// Writes `YYYY-MM-DDTHH:MM:SS[.mmm]+08:00` into `out` (at least `width` bytes) and returns
    /// its length; the milliseconds always, or (`milliseconds: false`) only when not zero. Digits
    /// written into bytes: String's appends and `String(Int)` cost ~9,000 instructions a time,
    /// and the broker formats several per DISPATCH, reply and fact. A year outside 0…9999 is
    /// clamped (`format` writes those another way).
    public static func write(_ date: Date, milliseconds: Bool, into out: UnsafeMutableBufferPointer<UInt8>) -> Int {
        let local = date.ms + 8 * 3_600_000
        let secs = local.floorDiv(1000), milli = local.floorMod(1000)
        let days = secs.floorDiv(86_400), sod = secs.floorMod(86_400)
        let (year, month, day) = CivilDay(ordinal: days).civil
        var i = 0
        func put(_ b: UInt8) { out[i] = b; i += 1 }
        func digits(_ v: Int64, _ width: Int) {
            var v = v, end = i + width
            i = end
            while end > i - width { end -= 1; out[end] = UInt8(ascii: "0") + UInt8(v % 10); v /= 10 }
        }
        digits(Int64(min(max(year, 0), 9999)), 4); put(UInt8(ascii: "-")); digits(Int64(month), 2); put(UInt8(ascii: "-"))
        digits(Int64(day), 2); put(UInt8(ascii: "T")); digits(sod / 3600, 2); put(UInt8(ascii: ":")); digits(sod / 60 % 60, 2)
        put(UInt8(ascii: ":")); digits(sod % 60, 2)
        if milliseconds || milli != 0 { put(UInt8(ascii: ".")); digits(milli, 3) }
        for b in "+08:00".utf8 { put(b) }
        return i
    }

    /// The same for a year outside 0…9999 (never a case's; kept for completeness).
    static func formatAnyYear(_ year: Int, _ month: Int, _ day: Int, _ sod: Int64, _ milli: Int64) -> String {
        var out = ""
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
