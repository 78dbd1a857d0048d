import Foundation
import PropertyBased
import Testing
@testable import MusterCore

/// Deadline arithmetic on the real 2026 schedule (docs/PROTOCOL.md, "Units").
@Suite struct WorkCalendarTests {
    static func days(_ from: String, _ to: String) -> [CivilDay] {
        let a = CivilDay(from)!, b = CivilDay(to)!
        return (a.ordinal...b.ordinal).map(CivilDay.init(ordinal:))
    }

    static let cn2026 = WorkCalendar(
        years: [2026],
        daysOff: Set(days("2026-01-01", "2026-01-03") + days("2026-02-15", "2026-02-23") + days("2026-04-04", "2026-04-06")
            + days("2026-05-01", "2026-05-05") + days("2026-06-19", "2026-06-21") + days("2026-09-25", "2026-09-27")
            + days("2026-10-01", "2026-10-07")),
        makeUpWorkdays: Set(["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"].map { CivilDay($0)! }),
        seasons: [
            .init(name: "summer", from: (5, 1), to: (9, 30), hours: [510..<720, 900..<1080]),
            .init(name: "winter", from: (10, 1), to: (4, 30), hours: [510..<720, 840..<1050]),
        ])

    /// A moment in +08:00.
    static func at(_ day: String, _ hh: Int, _ mm: Int = 0) -> Date {
        CivilDay(day)!.start.adding(ms: Int64(hh * 60 + mm) * 60_000)
    }

    static func end(_ p: String, _ from: Date) throws -> Date { try cn2026.end(of: Period(p)!, from: from) }

    @Test func civilDaysRoundTripAndKnowTheirWeekday() {
        #expect(CivilDay("2026-10-01")!.weekday == 4)  // Thursday
        #expect(CivilDay("2026-09-20")!.weekday == 7)  // Sunday, worked
        #expect(CivilDay("2026-10-10")!.weekday == 6)  // Saturday, worked
        #expect(CivilDay("2026-02-30") == nil)
        #expect(CivilDay(Self.at("2026-10-01", 0, 0)) == CivilDay("2026-10-01"), "midnight +08:00 is that day")
        #expect(CivilDay(Self.at("2026-10-01", 23, 59)) == CivilDay("2026-10-01"))
        #expect(CivilDay("2026-10-01")!.description == "2026-10-01")
    }

    @Test func guoqing2026() throws {
        #expect(try Self.end("1wd", Self.at("2026-09-30", 10)) == Self.at("2026-10-08", 10), "National Day week is off")
        #expect(try Self.end("1wd", Self.at("2026-10-09", 10)) == Self.at("2026-10-10", 10), "Sat Oct 10 is worked")
        #expect(try Self.end("1wd", Self.at("2026-09-18", 9)) == Self.at("2026-09-20", 9), "Sun Sep 20 is worked")
        #expect(try Self.end("3d", Self.at("2026-09-28", 10)) == Self.at("2026-10-08", 10), "a day period ending on a day off moves")
        #expect(try Self.end("2d", Self.at("2026-09-28", 10)) == Self.at("2026-09-30", 10))
        #expect(try Self.end("2wh", Self.at("2026-09-30", 17)) == Self.at("2026-10-08", 9, 30), "1 h left on Sep 30, 1 h on Oct 8 (winter hours)")
        #expect(try Self.end("1wd", Self.at("2026-10-03", 11)) == Self.at("2026-10-09", 8, 30), "from a day off: opening of the next working day, then one more")
    }

    @Test func chunjie2026() throws {
        #expect(try Self.end("1wd", Self.at("2026-02-13", 14)) == Self.at("2026-02-14", 14), "Sat Feb 14 is worked")
        #expect(try Self.end("1wd", Self.at("2026-02-14", 14)) == Self.at("2026-02-24", 14), "Feb 15–23 off")
        #expect(try Self.end("1wd", Self.at("2026-02-27", 14)) == Self.at("2026-02-28", 14), "Sat Feb 28 is worked")
        #expect(try Self.end("4wh", Self.at("2026-02-14", 16)) == Self.at("2026-02-24", 11), "1.5 h on Feb 14, 2.5 h on Feb 24")
        #expect(try Self.end("15m", Self.at("2026-02-16", 3)) == Self.at("2026-02-16", 3, 15), "clock time ignores holidays")
    }

    /// Years without an official file are provisional (ProvisionalCalendarTests); only years
    /// outside the statutory table have no schedule at all.
    @Test func aYearOutsideTheStatutoryTableIsAnError() {
        #expect(throws: WorkCalendar.Failure.noSchedule(year: 2101)) { try Self.end("1wd", Self.at("2100-12-31", 10)) }
        #expect(throws: WorkCalendar.Failure.noSchedule(year: 1989)) { try Self.cn2026.isWorkingDay(CivilDay("1989-12-29")!) }
        #expect((try? Self.end("1wd", Self.at("2026-12-31", 10))) != nil, "2027 is provisional, not refused")
    }

    /// Working or not as the three sets say: the definition the calendar's day table is derived from.
    static func bySets(_ c: WorkCalendar, _ d: CivilDay) -> Bool? {
        guard c.years.contains(d.year) else {
            return StatutoryHolidays.daysOff(in: d.year).map { d.weekday <= 5 && !$0.contains(d) }
        }
        return c.makeUpWorkdays.contains(d) || (!c.daysOff.contains(d) && d.weekday <= 5)
    }

    /// Every day from 2025 to 2029 with official years apart (2027 provisional between them),
    /// checked again after each change to each set: the table follows them.
    @Test func everyDayIsWorkingOrNotAsTheSetsSayAfterEachChange() {
        var c = Self.cn2026
        func check(_ label: String) {
            let wrong = Self.days("2025-01-01", "2029-12-31").filter { (try? c.isWorkingDay($0)) != Self.bySets(c, $0) }
            #expect(wrong.isEmpty, "\(label): \(wrong.prefix(5))")
        }
        check("2026 official")
        c.years.insert(2028)
        check("2028 official too")
        c.daysOff.insert(CivilDay("2028-10-02")!)  // a Monday, off
        check("a day off added")
        #expect(try! !c.isWorkingDay(CivilDay("2028-10-02")!))
        c.makeUpWorkdays.insert(CivilDay("2028-10-07")!)  // a Saturday, worked
        check("a make-up day added")
        #expect(try! c.isWorkingDay(CivilDay("2028-10-07")!))
        c.daysOff.remove(CivilDay("2026-10-01")!)
        check("a day off removed")
        #expect(try! c.isWorkingDay(CivilDay("2026-10-01")!))
        c.makeUpWorkdays.remove(CivilDay("2026-10-10")!)
        check("a make-up day removed")
        #expect(try! !c.isWorkingDay(CivilDay("2026-10-10")!))
        c.years.remove(2026)
        check("2026 provisional again")
        #expect(try! !c.isWorkingDay(CivilDay("2026-10-01")!), "the law's National Day")
    }

    static let moments = Gen.int(in: 0...(320 * 1440)).map { Self.at("2026-01-05", 0).adding(ms: Int64($0) * 60_000) }

    @Test func workingDaysLandOnWorkingDaysCountExactlyAndGrow() async {
        await propertyCheck(count: 300, input: Self.moments, Gen.int(in: 0...25)) { from, n in
            let end = try! Self.end("\(n)wd", from)
            let next = try! Self.end("\(n + 1)wd", from)
            #expect(end < next, "monotonic")
            if n > 0 {
                let endDay = CivilDay(end)
                #expect(try! Self.cn2026.isWorkingDay(endDay), "never lands on a day off")
                // Every day between: exactly n working days after the (normalised) start day.
                let startDay = try! Self.cn2026.workingDay(onOrAfter: CivilDay(from))
                let between = (startDay.ordinal + 1...endDay.ordinal).filter { try! Self.cn2026.isWorkingDay(CivilDay(ordinal: $0)) }
                #expect(between.count == n)
            }
        }
    }

    @Test func calendarDaysNeverEndOnADayOff() async {
        await propertyCheck(count: 300, input: Self.moments, Gen.int(in: 1...40)) { from, n in
            let end = try! Self.end("\(n)d", from)
            #expect(try! Self.cn2026.isWorkingDay(CivilDay(end)))
            #expect(end >= from.adding(ms: Int64(n) * CivilDay.dayMs))
            #expect(end < from.adding(ms: Int64(n + 10) * CivilDay.dayMs), "moved by at most a holiday's length")
        }
    }

    @Test func workingHoursEndInsideOfficeHoursAndGrow() async {
        await propertyCheck(count: 300, input: Self.moments, Gen.int(in: 1...60)) { from, n in
            let end = try! Self.end("\(n)wh", from)
            #expect(end < (try! Self.end("\(n + 1)wh", from)))
            let hours = try! Self.cn2026.officeHours(on: CivilDay(end))
            #expect(try! Self.cn2026.isWorkingDay(CivilDay(end)))
            #expect(hours.contains { $0.lowerBound < end && end <= $0.upperBound }, "ends within office hours")
        }
    }
}
