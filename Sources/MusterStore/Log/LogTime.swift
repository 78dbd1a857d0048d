import Foundation
import MusterCore
import MusterWire

/// Times in the log (docs/LOG-FORMAT.md): RFC 3339 in the city's offset, always with
/// milliseconds — `2026-11-18T19:06:40.000+08:00`. Fixed width, so the text sorts as the time
/// does, and whole milliseconds, so a time read back is bit-for-bit the one written.
/// Integer arithmetic only: the broker writes several per fact, and a formatter costs µs each.
enum LogTime {
    /// `"2026-11-18T19:06:40.000+08:00"`, quotes included.
    static let width = 31

    /// Writes the quoted time into `out` (at least `width` bytes); returns the count.
    static func format(_ date: Date, into out: UnsafeMutableBufferPointer<UInt8>) -> Int {
        out[0] = UInt8(ascii: "\"")
        let n = Timestamp.write(date, milliseconds: true, into: UnsafeMutableBufferPointer(rebasing: out[1...]))
        out[n + 1] = UInt8(ascii: "\"")
        return n + 2
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
        text.withUTF8Bytes { s -> Date? in
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
}
