import Foundation
import MusterCore

/// Times in the log (docs/LOG-FORMAT.md): RFC 3339 in the city's offset, always with
/// milliseconds — `2026-11-18T19:06:40.000+08:00`. Fixed width, so the text sorts as the time
/// does, and whole milliseconds, so a time read back is bit-for-bit the one written.
/// Integer arithmetic only: the broker writes several per fact, and a formatter costs µs each.
enum LogTime {
    static let offsetMs: Int64 = 8 * 3_600_000
    /// `"2026-11-18T19:06:40.000+08:00"`, quotes included.
    static let width = 31

    /// Writes the quoted time into `out` (at least `width` bytes); returns the count.
    static func format(_ date: Date, into out: UnsafeMutableBufferPointer<UInt8>) -> Int {
        let local = date.ms + offsetMs
        let secs = floorDiv(local, 1000), milli = local - secs * 1000
        let days = floorDiv(secs, 86_400), sod = secs - days * 86_400
        let (year, month, day) = CivilDay(ordinal: days).civil
        var i = 0
        func put(_ b: UInt8) { out[i] = b; i += 1 }
        func digits(_ v: Int64, _ width: Int) {
            var v = v, end = i + width
            i = end
            while end > i - width { end -= 1; out[end] = UInt8(ascii: "0") + UInt8(v % 10); v /= 10 }
        }
        put(UInt8(ascii: "\""))
        digits(Int64(min(max(year, 0), 9999)), 4); put(UInt8(ascii: "-")); digits(Int64(month), 2); put(UInt8(ascii: "-"))
        digits(Int64(day), 2); put(UInt8(ascii: "T")); digits(sod / 3600, 2); put(UInt8(ascii: ":"))
        digits(sod / 60 % 60, 2); put(UInt8(ascii: ":")); digits(sod % 60, 2); put(UInt8(ascii: ".")); digits(milli, 3)
        for b in "+08:00\"".utf8 { put(b) }
        return i
    }

    static func string(_ date: Date) -> String {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: width) { buf in
            let n = format(date, into: buf)
            return String(decoding: buf[1..<(n - 1)], as: UTF8.self)
        }
    }

    /// Reads `YYYY-MM-DDTHH:MM:SS[.f{1,3}](Z|±HH:MM)`: what `format` writes, in any offset.
    /// Nil for anything else, including finer fractions than a millisecond.
    static func parse(_ text: String) -> Date? {
        var text = text
        return text.withUTF8 { s -> Date? in
            var i = 0
            func number(_ width: Int) -> Int64? {
                guard i + width <= s.count else { return nil }
                var v: Int64 = 0
                for _ in 0..<width {
                    let d = s[i] &- UInt8(ascii: "0")
                    guard d < 10 else { return nil }
                    v = v * 10 + Int64(d); i += 1
                }
                return v
            }
            func expect(_ c: Character) -> Bool {
                guard i < s.count, s[i] == c.asciiValue! else { return false }
                i += 1
                return true
            }
            guard let y = number(4), expect("-"), let mo = number(2), expect("-"), let d = number(2), expect("T"),
                  let h = number(2), expect(":"), let mi = number(2), expect(":"), let sec = number(2),
                  (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, sec < 60 else { return nil }
            var milli: Int64 = 0
            if expect(".") {
                var n = 0
                while i < s.count, s[i] >= UInt8(ascii: "0"), s[i] <= UInt8(ascii: "9") {
                    guard n < 3 else { return nil }
                    milli = milli * 10 + Int64(s[i] - UInt8(ascii: "0")); i += 1; n += 1
                }
                guard n > 0 else { return nil }
                for _ in n..<3 { milli *= 10 }
            }
            var offset: Int64 = 0
            if expect("Z") {
            } else if i < s.count, s[i] == UInt8(ascii: "+") || s[i] == UInt8(ascii: "-") {
                let sign: Int64 = s[i] == UInt8(ascii: "-") ? -1 : 1
                i += 1
                guard let oh = number(2), expect(":"), let om = number(2), oh < 24, om < 60 else { return nil }
                offset = sign * (oh * 3600 + om * 60) * 1000
            } else {
                return nil
            }
            guard i == s.count else { return nil }
            let day = CivilDay(year: Int(y), month: Int(mo), day: Int(d))
            guard day.civil == (Int(y), Int(mo), Int(d)) else { return nil }  // 2026-02-30
            return Date(ms: ((day.ordinal * 86_400 + h * 3600 + mi * 60 + sec) * 1000 + milli) - offset)
        }
    }

    private static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }
}
