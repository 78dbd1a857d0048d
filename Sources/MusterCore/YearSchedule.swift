import Foundation

/// One year's holiday schedule as deadlines were computed with it: official (from the State
/// Council's notice) or provisional (from the law), its days off and make-up working days. The
/// broker stores the schedules it has applied, so that a notice installed while it was down, or
/// a recomputation lost to a crash, is caught up at the next start.
public struct YearSchedule: Sendable, Equatable {
    public var official: Bool
    public var daysOff: [CivilDay]
    public var makeUpWorkdays: [CivilDay]

    public init(official: Bool, daysOff: [CivilDay], makeUpWorkdays: [CivilDay]) {
        self.official = official; self.daysOff = daysOff.sorted(); self.makeUpWorkdays = makeUpWorkdays.sorted()
    }
}

extension WorkCalendar {
    /// The schedules of these years as this calendar has them (years it cannot place are left out).
    public func schedules(_ years: some Sequence<Int>) -> [Int: YearSchedule] {
        var out: [Int: YearSchedule] = [:]
        for y in years {
            guard let s = try? daysOff(year: y) else { continue }
            out[y] = YearSchedule(official: s.official, daysOff: s.daysOff, makeUpWorkdays: s.makeUpWorkdays)
        }
        return out
    }

    /// This calendar with some years' schedules replaced — what the deadlines of an earlier
    /// schedule were computed on. A provisional year takes the law's days, as it did then.
    public func replacing(_ schedules: [Int: YearSchedule]) -> WorkCalendar {
        var c = self
        for (year, s) in schedules {
            c.years.remove(year)
            c.daysOff = c.daysOff.filter { $0.year != year }
            c.makeUpWorkdays = c.makeUpWorkdays.filter { $0.year != year }
            guard s.official else { continue }
            c.years.insert(year)
            c.daysOff.formUnion(s.daysOff)
            c.makeUpWorkdays.formUnion(s.makeUpWorkdays)
        }
        return c
    }
}
