import Foundation
import Testing
@testable import MusterCore

/// Provisional years: the statutory days off of 全国年节及纪念日放假办法 (2024) with their 补假,
/// used where no State Council notice (cn-YYYY.yaml) exists yet.
@Suite struct ProvisionalCalendarTests {
    static func day(_ iso: String) -> CivilDay { CivilDay(iso)! }

    static func holiday(_ f: StatutoryHolidays.Festival, _ year: Int) -> StatutoryHolidays.Holiday {
        StatutoryHolidays.holidays(in: year)!.first { $0.festival == f }!
    }

    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The official 2026 schedule, read from config/calendar/cn-2026.yaml as text (days_off ranges and
    /// workdays), with the real office hours.
    static func official2026() throws -> WorkCalendar {
        let text = try String(contentsOf: repo.appendingPathComponent("config/calendar/cn-2026.yaml"), encoding: .utf8)
        var off: Set<CivilDay> = [], work: Set<CivilDay> = []
        for line in text.split(separator: "\n").map({ $0.split(separator: "#", omittingEmptySubsequences: false)[0] }) {
            let dates = line.matches(of: /\d{4}-\d{2}-\d{2}/).map { day(String($0.output)) }
            if line.contains("days_off:"), dates.count == 2 { for o in dates[0].ordinal...dates[1].ordinal { off.insert(CivilDay(ordinal: o)) } }
            if line.contains("workdays:") { work.formUnion(dates) }
        }
        #expect(off.count == 33 && work.count == 6, "the file read as the notice says: 33 days off, 6 make-up days")
        return WorkCalendar(years: [2026], daysOff: off, makeUpWorkdays: work, seasons: WorkCalendarTests.cn2026.seasons)
    }

    @Test func knownFestivalDates() {
        let expected: [(StatutoryHolidays.Festival, Int, [String])] = [
            (.springFestival, 2025, ["2025-01-28", "2025-01-29", "2025-01-30", "2025-01-31"]),
            (.qingming, 2025, ["2025-04-04"]), (.dragonBoat, 2025, ["2025-05-31"]), (.midAutumn, 2025, ["2025-10-06"]),
            (.springFestival, 2026, ["2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19"]),
            (.qingming, 2026, ["2026-04-05"]), (.dragonBoat, 2026, ["2026-06-19"]), (.midAutumn, 2026, ["2026-09-25"]),
            (.springFestival, 2027, ["2027-02-05", "2027-02-06", "2027-02-07", "2027-02-08"]),
            (.qingming, 2027, ["2027-04-05"]), (.dragonBoat, 2027, ["2027-06-09"]), (.midAutumn, 2027, ["2027-09-15"]),
            (.qingming, 2024, ["2024-04-04"]), (.qingming, 2028, ["2028-04-04"]),
            (.newYear, 2027, ["2027-01-01"]), (.labourDay, 2027, ["2027-05-01", "2027-05-02"]),
            (.nationalDay, 2027, ["2027-10-01", "2027-10-02", "2027-10-03"]),
        ]
        for (f, year, days) in expected {
            #expect(Self.holiday(f, year).days == days.map(Self.day), "\(f.chinese) \(year)")
        }
        #expect(StatutoryHolidays.holidays(in: 2026)!.map(\.festival) == StatutoryHolidays.Festival.allCases, "in calendar order")
    }

    /// 清明 is April 4 or 5 (published solar-term tables; the notices' 清明 holidays of 2008–2026 agree).
    @Test func qingmingAgainstPublishedTables() {
        let april5: Set<Int> = [2001, 2002, 2003, 2005, 2006, 2007, 2010, 2011, 2014, 2015, 2018, 2019, 2022, 2023, 2026, 2027, 2030]
        for year in 2000...2030 {
            #expect(StatutoryHolidays.qingming(year) == CivilDay(year: year, month: 4, day: april5.contains(year) ? 5 : 4), "清明 \(year)")
        }
    }

    /// The whole table: 正月初一, 端午, 中秋 and 清明 (MMDD) for 1990–2100, from lunar-python 1.4.8
    /// (寿星天文历's algorithms) and, for 清明, PyEphem 4.2.1 (VSOP87) to the same days. 清明 2071
    /// (00:10 CST) and 2042 (23:40) are the nearest to midnight.
    static let reference = """
        1990 0127 0528 1003 0405 | 1991 0215 0616 0922 0405 | 1992 0204 0605 0911 0404 | 1993 0123 0624 0930 0405
        1994 0210 0613 0920 0405 | 1995 0131 0602 0909 0405 | 1996 0219 0620 0927 0404 | 1997 0207 0609 0916 0405
        1998 0128 0530 1005 0405 | 1999 0216 0618 0924 0405 | 2000 0205 0606 0912 0404 | 2001 0124 0625 1001 0405
        2002 0212 0615 0921 0405 | 2003 0201 0604 0911 0405 | 2004 0122 0622 0928 0404 | 2005 0209 0611 0918 0405
        2006 0129 0531 1006 0405 | 2007 0218 0619 0925 0405 | 2008 0207 0608 0914 0404 | 2009 0126 0528 1003 0404
        2010 0214 0616 0922 0405 | 2011 0203 0606 0912 0405 | 2012 0123 0623 0930 0404 | 2013 0210 0612 0919 0404
        2014 0131 0602 0908 0405 | 2015 0219 0620 0927 0405 | 2016 0208 0609 0915 0404 | 2017 0128 0530 1004 0404
        2018 0216 0618 0924 0405 | 2019 0205 0607 0913 0405 | 2020 0125 0625 1001 0404 | 2021 0212 0614 0921 0404
        2022 0201 0603 0910 0405 | 2023 0122 0622 0929 0405 | 2024 0210 0610 0917 0404 | 2025 0129 0531 1006 0404
        2026 0217 0619 0925 0405 | 2027 0206 0609 0915 0405 | 2028 0126 0528 1003 0404 | 2029 0213 0616 0922 0404
        2030 0203 0605 0912 0405 | 2031 0123 0624 1001 0405 | 2032 0211 0612 0919 0404 | 2033 0131 0601 0908 0404
        2034 0219 0620 0927 0405 | 2035 0208 0610 0916 0405 | 2036 0128 0530 1004 0404 | 2037 0215 0618 0924 0404
        2038 0204 0607 0913 0405 | 2039 0124 0527 1002 0405 | 2040 0212 0614 0920 0404 | 2041 0201 0603 0910 0404
        2042 0122 0622 0928 0404 | 2043 0210 0611 0917 0405 | 2044 0130 0531 1005 0404 | 2045 0217 0619 0925 0404
        2046 0206 0608 0915 0404 | 2047 0126 0529 1004 0405 | 2048 0214 0615 0922 0404 | 2049 0202 0604 0911 0404
        2050 0123 0623 0930 0404 | 2051 0211 0613 0919 0405 | 2052 0201 0601 0907 0404 | 2053 0219 0620 0926 0404
        2054 0208 0610 0916 0404 | 2055 0128 0530 1005 0405 | 2056 0215 0617 0924 0404 | 2057 0204 0606 0913 0404
        2058 0124 0625 1002 0404 | 2059 0212 0614 0921 0405 | 2060 0202 0603 0909 0404 | 2061 0121 0622 0928 0404
        2062 0209 0611 0917 0404 | 2063 0129 0601 1006 0405 | 2064 0217 0619 0925 0404 | 2065 0205 0608 0915 0404
        2066 0126 0528 1003 0404 | 2067 0214 0616 0923 0405 | 2068 0203 0604 0911 0404 | 2069 0123 0623 0929 0404
        2070 0211 0613 0919 0404 | 2071 0131 0602 0908 0405 | 2072 0219 0620 0926 0404 | 2073 0207 0610 0916 0404
        2074 0127 0530 1005 0404 | 2075 0215 0617 0924 0404 | 2076 0205 0606 0912 0404 | 2077 0124 0624 1001 0404
        2078 0212 0614 0920 0404 | 2079 0202 0604 0910 0404 | 2080 0122 0622 0928 0404 | 2081 0209 0611 0917 0404
        2082 0129 0601 1006 0404 | 2083 0217 0619 0926 0404 | 2084 0206 0607 0914 0404 | 2085 0126 0527 1003 0404
        2086 0214 0615 0922 0404 | 2087 0203 0605 0911 0404 | 2088 0124 0623 0929 0404 | 2089 0210 0613 0918 0404
        2090 0130 0602 0908 0404 | 2091 0218 0621 0927 0404 | 2092 0207 0609 0916 0404 | 2093 0127 0529 1005 0404
        2094 0215 0617 0924 0404 | 2095 0205 0606 0913 0404 | 2096 0125 0624 0930 0404 | 2097 0212 0614 0920 0404
        2098 0201 0604 0909 0404 | 2099 0121 0623 0929 0404 | 2100 0209 0612 0918 0405
        """

    @Test func theWholeTableMatchesTheReference() {
        let rows = Self.reference.split(whereSeparator: { $0 == "|" || $0 == "\n" }).map { $0.split(separator: " ").map(String.init) }
        #expect(rows.count == StatutoryHolidays.years.count)
        func d(_ year: Int, _ mmdd: String) -> CivilDay { CivilDay(year: year, month: Int(mmdd.prefix(2))!, day: Int(mmdd.suffix(2))!) }
        for r in rows {
            let y = Int(r[0])!
            #expect(Self.holiday(.springFestival, y).days[1] == d(y, r[1]), "正月初一 \(y)")
            #expect(Self.holiday(.springFestival, y).days[0] == d(y, r[1]).adding(days: -1), "除夕 \(y)")
            #expect(Self.holiday(.dragonBoat, y).days == [d(y, r[2])], "端午 \(y)")
            #expect(Self.holiday(.midAutumn, y).days == [d(y, r[3])], "中秋 \(y)")
            #expect(Self.holiday(.qingming, y).days == [d(y, r[4])], "清明 \(y)")
        }
    }

    @Test func every2026StatutoryDayIsOffInTheOfficialFile() throws {
        let official = try Self.official2026()
        let statutory = StatutoryHolidays.holidays(in: 2026)!.flatMap(\.days)
        #expect(statutory.count == 13, "1 + 4 + 1 + 2 + 1 + 1 + 3")
        for d in statutory { #expect(official.daysOff.contains(d), "\(d) is off in cn-2026.yaml") }
        // 补假 days are off too: 清明 is a Sunday (→ Mon Apr 6), 劳动节's May 2 a Saturday (→ Mon May 4), 国庆's Oct 3 a
        // Saturday (→ Mon Oct 5).
        for d in StatutoryHolidays.holidays(in: 2026)!.flatMap(\.inLieu) { #expect(official.daysOff.contains(d), "补假 \(d) is off in cn-2026.yaml") }
        #expect(Self.holiday(.qingming, 2026).inLieu == [Self.day("2026-04-06")])
        #expect(Self.holiday(.labourDay, 2026).inLieu == [Self.day("2026-05-04")])
        #expect(StatutoryHolidays.holidays(in: 2026)!.flatMap(\.inLieu).count == 3)
        #expect(Self.holiday(.nationalDay, 2026).inLieu == [Self.day("2026-10-05")])
    }

    @Test func aStatutoryDayOnAWeekendGivesTheNextWeekdayOff() throws {
        // 元旦 on a Saturday (2022, 2028) or a Sunday (2023): the Monday. The 2022 and 2023 notices did the same.
        #expect(Self.holiday(.newYear, 2022).inLieu == [Self.day("2022-01-03")])
        #expect(Self.holiday(.newYear, 2023).inLieu == [Self.day("2023-01-02")])
        #expect(Self.holiday(.newYear, 2028).inLieu == [Self.day("2028-01-03")])
        #expect(Self.holiday(.newYear, 2027).inLieu == [], "Friday")
        // 2027: 春节 Fri 5 – Mon 8 Feb, Sat and Sun owed → Tue 9, Wed 10 (the Monday is already off).
        #expect(Self.holiday(.springFestival, 2027).inLieu == [Self.day("2027-02-09"), Self.day("2027-02-10")])
        #expect(Self.holiday(.labourDay, 2027).inLieu == [Self.day("2027-05-03"), Self.day("2027-05-04")])
        #expect(Self.holiday(.nationalDay, 2027).inLieu == [Self.day("2027-10-04"), Self.day("2027-10-05")])
        // 2028: 中秋 is Tue Oct 3, a 国庆 day too; 国庆's Sun Oct 1 and the shared day each add one.
        #expect(Self.holiday(.midAutumn, 2028).days == [Self.day("2028-10-03")])
        #expect(Self.holiday(.nationalDay, 2028).inLieu == [Self.day("2028-10-04")])
        #expect(Self.holiday(.midAutumn, 2028).inLieu == [Self.day("2028-10-05")])
        // 2020: 中秋 on Thu Oct 1. The notice gave 4 weekdays' worth net of its 调休: 1, 2, 5, 6 here.
        #expect(Self.holiday(.midAutumn, 2020).inLieu == [Self.day("2020-10-05")])
        #expect(Self.holiday(.nationalDay, 2020).inLieu == [Self.day("2020-10-06")])

        let cal = WorkCalendarTests.cn2026
        #expect(try !cal.isWorkingDay(Self.day("2028-01-03")))
        #expect(try cal.isWorkingDay(Self.day("2028-01-04")))
        #expect(try !cal.isWorkingDay(Self.day("2027-02-10")))
        #expect(try cal.isWorkingDay(Self.day("2027-02-11")))
        #expect(try !cal.isWorkingDay(Self.day("2027-02-13")), "a plain Saturday: no 调休上班 in a provisional year")
        #expect(try Self.end(cal, "1wd", "2027-04-30", 10) == WorkCalendarTests.at("2027-05-05", 10), "Sat, Sun, then two days in lieu")
    }

    static func end(_ cal: WorkCalendar, _ p: String, _ day: String, _ hh: Int) throws -> Date {
        try cal.end(of: Period(p)!, from: WorkCalendarTests.at(day, hh))
    }

    @Test func aDeadlineReachingIntoAProvisionalYear() throws {
        let cal = try Self.official2026()
        let from = WorkCalendarTests.at("2026-12-28", 10)  // a Monday
        // Tue 29, Wed 30, Thu 31; Fri Jan 1 元旦, Sat, Sun; Mon Jan 4, Tue Jan 5.
        let due = try cal.end(of: Period("5wd")!, from: from)
        #expect(due == WorkCalendarTests.at("2027-01-05", 10))
        #expect(cal.provisionalYears(from: from, to: due) == [2027])
        #expect(cal.provisionalYears(from: due, to: from) == [2027], "either order")
        #expect(cal.provisionalYears(from: from, to: WorkCalendarTests.at("2026-12-31", 17)) == [])
        #expect(cal.isOfficial(2026) && !cal.isOfficial(2027))

        // When the 2027 notice comes, say with Sat Jan 2 worked (调休上班): one day earlier, and official.
        var notice = cal
        notice.years.insert(2027)
        notice.daysOff.insert(Self.day("2027-01-01"))
        notice.makeUpWorkdays.insert(Self.day("2027-01-02"))
        let officialDue = try notice.end(of: Period("5wd")!, from: from)
        #expect(officialDue == WorkCalendarTests.at("2027-01-04", 10))
        #expect(notice.provisionalYears(from: from, to: officialDue) == [])
        #expect(notice != cal)
    }

    @Test func yearsOutsideTheTableAreStillRefused() {
        let cal = WorkCalendarTests.cn2026
        #expect(throws: WorkCalendar.Failure.noSchedule(year: 2101)) { try cal.isWorkingDay(Self.day("2101-01-03")) }
        #expect(throws: WorkCalendar.Failure.noSchedule(year: 1989)) { try cal.isWorkingDay(Self.day("1989-12-29")) }
        #expect(throws: WorkCalendar.Failure.noSchedule(year: 2101)) { try cal.daysOff(year: 2101) }
        #expect(throws: WorkCalendar.Failure.noSchedule(year: 2101)) { try Self.end(cal, "3wd", "2100-12-30", 10) }
        #expect(cal.provisionalYears(from: WorkCalendarTests.at("2100-12-30", 10), to: WorkCalendarTests.at("2101-01-02", 10)) == [2100],
                "2101 is not provisional: it has no schedule at all")
        #expect(StatutoryHolidays.holidays(in: 2101) == nil && StatutoryHolidays.daysOff(in: 1989) == nil)
    }

    @Test func theDaysOffOfAYearForShowing() throws {
        let official = try Self.official2026().daysOff(year: 2026)
        #expect(official.official)
        #expect(official.daysOff.count == 33 && official.daysOff.first == Self.day("2026-01-01") && official.daysOff.last == Self.day("2026-10-07"))
        #expect(official.makeUpWorkdays == ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"].map(Self.day))

        let provisional = try Self.official2026().daysOff(year: 2027)
        #expect(!provisional.official && provisional.makeUpWorkdays.isEmpty)
        // 13 statutory days, 6 of them on a weekend (Feb 6, 7; May 1, 2; Oct 2, 3) → 6 days in lieu.
        #expect(provisional.daysOff == ["2027-01-01", "2027-02-05", "2027-02-06", "2027-02-07", "2027-02-08", "2027-02-09", "2027-02-10",
                                        "2027-04-05", "2027-05-01", "2027-05-02", "2027-05-03", "2027-05-04", "2027-06-09", "2027-09-15",
                                        "2027-10-01", "2027-10-02", "2027-10-03", "2027-10-04", "2027-10-05"].map(Self.day))
    }
}
