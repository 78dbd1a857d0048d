import Foundation

/// Working days and working hours: the national holiday schedule of each year (days off and
/// the weekend make-up working days, 调休) and the city's office hours by season. Deadline
/// arithmetic in `s m h d wh wd` (PROTOCOL.md units).
///
/// A year with the State Council's notice (config/calendar/cn-YYYY.yaml) is official. A year
/// without one but within `StatutoryHolidays.years` is provisional: weekends and the statutory
/// days off with their 补假, no make-up working days — callers mark deadlines that reach into it
/// (`provisionalYears`). Any other year is an error, never a weekday guess.
public struct WorkCalendar: Sendable, Equatable {
    /// Office hours for part of the year (夏季作息, 冬季作息), as minutes after midnight.
    public struct Season: Sendable, Equatable {
        public var name: String
        /// Month and day, inclusive; `from` after `to` wraps over the new year.
        public var from: (month: Int, day: Int)
        public var to: (month: Int, day: Int)
        public var hours: [Range<Int>]

        public init(name: String, from: (Int, Int), to: (Int, Int), hours: [Range<Int>]) {
            self.name = name; self.from = from; self.to = to; self.hours = hours
        }

        func contains(_ month: Int, _ day: Int) -> Bool {
            let x = month * 100 + day, a = from.month * 100 + from.day, b = to.month * 100 + to.day
            return a <= b ? (a...b).contains(x) : (x >= a || x <= b)
        }

        public static func == (l: Season, r: Season) -> Bool {
            l.name == r.name && l.from == r.from && l.to == r.to && l.hours == r.hours
        }
    }

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case noSchedule(year: Int)
        case noOfficeHours(CivilDay)
        public var description: String {
            switch self {
            case .noSchedule(let y): "no holiday schedule for \(y) (config/calendar/cn-\(y).yaml)"
            case .noOfficeHours(let d): "no office hours configured for \(d)"
            }
        }
    }

    /// The official years: those with the State Council's notice.
    public var years: Set<Int> { didSet { officialDays = OfficialDays(self) } }
    public var daysOff: Set<CivilDay> { didSet { officialDays = OfficialDays(self) } }
    public var makeUpWorkdays: Set<CivilDay> { didSet { officialDays = OfficialDays(self) } }
    public var seasons: [Season]
    /// The three sets above as one answer a day, derived from them.
    private var officialDays = OfficialDays()

    public init(years: Set<Int>, daysOff: Set<CivilDay>, makeUpWorkdays: Set<CivilDay>, seasons: [Season]) {
        self.years = years; self.daysOff = daysOff; self.makeUpWorkdays = makeUpWorkdays; self.seasons = seasons
        officialDays = OfficialDays(self)
    }

    public func isWorkingDay(_ d: CivilDay) throws(Failure) -> Bool {
        if let working = officialDays.isWorking(d) { return working }
        let year = d.year
        guard let statutory = StatutoryHolidays.daysOff(in: year) else { throw .noSchedule(year: year) }
        return d.weekday <= 5 && !statutory.contains(d)
    }

    /// Each day from the first official year's first to the last's last, working or not, by
    /// ordinal. A deadline's walk asks about every day it passes (~15 a case's lifecycle); the
    /// year's and the day's hashed look-ups were 1 % of a lifecycle's instructions.
    private struct OfficialDays: Sendable, Equatable {
        private enum Kind: UInt8 { case unofficial, working, off }
        private var first: Int64 = 0
        private var kinds: [Kind] = []

        init() {}

        init(_ c: WorkCalendar) {
            guard let lo = c.years.min(), let hi = c.years.max() else { return }
            first = CivilDay(year: lo, month: 1, day: 1).ordinal
            let end = CivilDay(year: hi + 1, month: 1, day: 1).ordinal
            kinds = (first..<end).map { ordinal in
                let d = CivilDay(ordinal: ordinal)
                guard c.years.contains(d.year) else { return .unofficial }
                if c.makeUpWorkdays.contains(d) { return .working }
                return c.daysOff.contains(d) || d.weekday > 5 ? .off : .working
            }
        }

        /// Nil outside the official years.
        func isWorking(_ d: CivilDay) -> Bool? {
            let i = d.ordinal - first
            guard i >= 0, i < kinds.count else { return nil }
            switch kinds[Int(i)] {
            case .working: return true
            case .off: return false
            case .unofficial: return nil
            }
        }
    }

    /// Whether the year's schedule is the State Council's (cn-YYYY.yaml), not computed from the law.
    public func isOfficial(_ year: Int) -> Bool { years.contains(year) }

    /// The provisional years that the span from `from` to `to` (either order) touches, days in
    /// +08:00, ascending: a deadline computed over them may move when the notice comes.
    public func provisionalYears(from: Date, to: Date) -> [Int] {
        let a = CivilDay(from).year, b = CivilDay(to).year
        return (min(a, b)...max(a, b)).filter { !isOfficial($0) && StatutoryHolidays.years.contains($0) }
    }

    /// The year's listed days off (holiday days, weekend ones inside a holiday included, not
    /// every weekend) and make-up working days, ascending, and whether they are official.
    public func daysOff(year: Int) throws(Failure) -> (daysOff: [CivilDay], makeUpWorkdays: [CivilDay], official: Bool) {
        if isOfficial(year) {
            return (daysOff.filter { $0.year == year }.sorted(), makeUpWorkdays.filter { $0.year == year }.sorted(), true)
        }
        guard let statutory = StatutoryHolidays.daysOff(in: year) else { throw .noSchedule(year: year) }
        return (statutory.sorted(), [], false)
    }

    /// The next working day strictly after `d`.
    public func nextWorkingDay(after d: CivilDay) throws(Failure) -> CivilDay {
        var x = d.adding(days: 1)
        while try !isWorkingDay(x) { x = x.adding(days: 1) }
        return x
    }

    /// `d` itself if it is a working day, else the next one.
    public func workingDay(onOrAfter d: CivilDay) throws(Failure) -> CivilDay {
        try isWorkingDay(d) ? d : nextWorkingDay(after: d)
    }

    /// The office-hour intervals of a working day, as moments.
    public func officeHours(on d: CivilDay) throws(Failure) -> [Range<Date>] {
        let c = d.civil
        guard let season = seasons.first(where: { $0.contains(c.month, c.day) }) else { throw .noOfficeHours(d) }
        let base = d.start.ms
        return season.hours.map { Date(ms: base + Int64($0.lowerBound) * 60_000)..<Date(ms: base + Int64($0.upperBound) * 60_000) }
    }

    /// When a period that starts at `from` ends.
    /// - `s`, `m`, `h`: clock time.
    /// - `d`: calendar days; if that lands on a day off it moves to the next working day, same time.
    /// - `wd`: the same time of day, that many working days later (from a day off, counting
    ///   starts at the next working day's opening).
    /// - `wh`: that many hours of office time, walked through the working days' office hours.
    public func end(of period: Period, from: Date) throws(Failure) -> Date {
        switch period.unit {
        case .s, .m, .h:
            return period.after(from)
        case .d:
            let t = from.adding(ms: Int64(period.amount) * CivilDay.dayMs)
            let day = CivilDay(t)
            let moved = try workingDay(onOrAfter: day)
            return t.adding(ms: (moved.ordinal - day.ordinal) * CivilDay.dayMs)
        case .wd:
            var start = from
            var day = CivilDay(from)
            if try !isWorkingDay(day) {
                day = try nextWorkingDay(after: day)
                start = try officeHours(on: day).first?.lowerBound ?? day.start
            }
            let timeOfDay = start.ms - day.start.ms
            var end = day
            for _ in 0..<period.amount { end = try nextWorkingDay(after: end) }
            return Date(ms: end.start.ms + timeOfDay)
        case .wh:
            var remaining = Int64(period.amount) * 3_600_000
            var cursor = from
            var day = CivilDay(from)
            for _ in 0..<(366 * 3) {
                if try isWorkingDay(day) {
                    for interval in try officeHours(on: day) where cursor < interval.upperBound {
                        let begin = max(cursor, interval.lowerBound)
                        let available = interval.upperBound.ms - begin.ms
                        if remaining <= available { return begin.adding(ms: remaining) }
                        remaining -= available
                        cursor = interval.upperBound
                    }
                }
                day = day.adding(days: 1)
                cursor = max(cursor, day.start)
            }
            throw .noSchedule(year: day.year)
        }
    }
}
