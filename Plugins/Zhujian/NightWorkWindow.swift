import Foundation

/// A permitted night-work window of a construction site (夜间施工许可): dates `from`…`to`
/// (inclusive, the register's local calendar) and daily hours `start`–`end`, which may run past
/// midnight (22:00-06:00: the night that begins on `to` ends on the morning after).
struct NightWorkWindow: Sendable, Equatable {
    struct Day: Sendable, Equatable, Comparable {
        var year: Int, month: Int, day: Int
        static func < (a: Day, b: Day) -> Bool { (a.year, a.month, a.day) < (b.year, b.month, b.day) }
        var text: String { String(format: "%04d-%02d-%02d", year, month, day) }
    }

    var from: Day
    var to: Day
    /// Minutes after midnight; `end` 1440 for a window to 24:00.
    var start: Int
    var end: Int
    var hours: String
    var reason: String

    /// Across midnight: the window opens on one day and closes on the next.
    var crossesMidnight: Bool { end < start }

    /// Whether `moment` (seen in `zone`) falls inside the window.
    func contains(_ moment: Date, in zone: TimeZone) -> Bool {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: moment)
        guard let y = c.year, let m = c.month, let d = c.day, let h = c.hour, let mi = c.minute else { return false }
        let today = Day(year: y, month: m, day: d)
        let minute = h * 60 + mi
        if !crossesMidnight { return (from...to).contains(today) && minute >= start && minute < end }
        // Evening part: the night begins today. Morning part: it began yesterday.
        if minute >= start { return (from...to).contains(today) }
        guard minute < end, let y1 = calendar.date(byAdding: .day, value: -1, to: moment) else { return false }
        let p = calendar.dateComponents([.year, .month, .day], from: y1)
        return (from...to).contains(Day(year: p.year ?? 0, month: p.month ?? 0, day: p.day ?? 0))
    }

    /// A window as the register writes it: `{"from": "2026-12-01", "to": "2026-12-31", "hours":
    /// "22:00-06:00", "reason": "混凝土连续浇筑"}`; nil (with why) if it is not one.
    static func parse(_ doc: Any) -> Result<NightWorkWindow, WindowError> {
        guard let w = doc as? [String: Any] else { return .failure(.init("a night-work window is an object")) }
        guard let f = (w["from"] as? String).flatMap(day), let t = (w["to"] as? String).flatMap(day) else {
            return .failure(.init("from and to must be dates YYYY-MM-DD"))
        }
        guard f <= t else { return .failure(.init("from \(f.text) is after to \(t.text)")) }
        guard let hours = w["hours"] as? String, let (start, end) = span(hours) else {
            return .failure(.init("hours must be HH:MM-HH:MM"))
        }
        return .success(NightWorkWindow(from: f, to: t, start: start, end: end, hours: hours, reason: w["reason"] as? String ?? ""))
    }

    struct WindowError: Error, Equatable {
        var message: String
        init(_ message: String) { self.message = message }
    }

    static func day(_ text: String) -> Day? {
        let p = text.split(separator: "-")
        guard p.count == 3, p[0].count == 4, let y = Int(p[0]), let m = Int(p[1]), let d = Int(p[2]),
              (1...12).contains(m), (1...31).contains(d) else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 0)!
        guard let date = calendar.date(from: DateComponents(year: y, month: m, day: d)),
              calendar.component(.day, from: date) == d else { return nil }  // no 2026-02-30
        return Day(year: y, month: m, day: d)
    }

    /// "22:00-06:00" → (1320, 360), across midnight; "00:00-24:00" → the whole day. Equal ends are no window.
    static func span(_ text: String) -> (Int, Int)? {
        let parts = text.split(separator: "-").map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 2, let a = minute(parts[0]), let b = minute(parts[1]), a < 1440, a != b else { return nil }
        return (a, b)
    }

    static func minute(_ text: String) -> Int? {
        let p = text.split(separator: ":")
        guard p.count == 2, p[1].count == 2, let h = Int(p[0]), let m = Int(p[1]), (0...24).contains(h), (0..<60).contains(m) else { return nil }
        guard h < 24 || m == 0 else { return nil }
        return h * 60 + m
    }
}
