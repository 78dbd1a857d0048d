import Foundation

/// The days off that 全国年节及纪念日放假办法 (2024 revision, in force 2025-01-01) gives everyone,
/// year by year: what a provisional schedule is made of until the State Council publishes its
/// notice for that year (国务院办公厅关于部分节假日安排的通知, read from cn-YYYY.yaml).
///
/// - 元旦 Jan 1; 春节 除夕 and 正月初一–初三 (4 days); 清明 the day of the 清明 solar term;
///   劳动节 May 1–2; 端午 五月初五; 中秋 八月十五; 国庆 Oct 1–3.
/// - 补假: each statutory day on a Saturday or Sunday adds the next weekday not already off
///   (the law's Article 4). A day that two festivals share (中秋 on Oct 1–3, as in 2020 and
///   2028) also adds one: both are owed, as the 2020 notice gave.
/// - No make-up working days (调休上班): only the notice sets those.
///
/// The same rules are applied to every year of the table, also those before 2025 (when 春节 was
/// 3 days and 劳动节 1): a provisional year is meant for the future.
public enum StatutoryHolidays {
    public enum Festival: Int, CaseIterable, Sendable, Comparable {
        case newYear, springFestival, qingming, labourDay, dragonBoat, midAutumn, nationalDay

        /// The names config/calendar/cn-YYYY.yaml uses.
        public var chinese: String { ["元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节"][rawValue] }
        public var english: String {
            ["New Year", "Spring Festival", "Qingming Festival", "Labour Day", "Dragon Boat Festival",
             "Mid-Autumn Festival", "National Day"][rawValue]
        }

        public static func < (a: Festival, b: Festival) -> Bool { a.rawValue < b.rawValue }
    }

    public struct Holiday: Sendable, Equatable {
        public let festival: Festival
        /// The statutory days themselves, whatever the weekday.
        public let days: [CivilDay]
        /// 补假: the weekdays off in lieu of this festival's days lost to a weekend or to another festival.
        public let inLieu: [CivilDay]
    }

    /// The years the table covers.
    public static let years: ClosedRange<Int> = 1990...2100

    /// The year's festivals in calendar order; nil outside `years`.
    public static func holidays(in year: Int) -> [Holiday]? {
        years.contains(year) ? table[year - years.lowerBound].holidays : nil
    }

    /// Every statutory day and 补假 day of the year (weekends are off anyway); nil outside `years`.
    public static func daysOff(in year: Int) -> Set<CivilDay>? {
        years.contains(year) ? table[year - years.lowerBound].daysOff : nil
    }

    struct Year: Sendable {
        let holidays: [Holiday]
        let daysOff: Set<CivilDay>
    }

    /// Computed once, on first use (a static let is initialised exactly once, thread-safely):
    /// each lunar date costs ICU calendar calls of microseconds, and `isWorkingDay` runs often.
    static let table: [Year] = {
        let lunar = LunarDates()
        return years.map { year($0, lunar: lunar) }
    }()

    static func year(_ y: Int, lunar: LunarDates) -> Year {
        let newYear = lunar.day(year: y, month: 1, day: 1)
        let statutory: [(Festival, [CivilDay])] = [
            (.newYear, [CivilDay(year: y, month: 1, day: 1)]),
            (.springFestival, (-1...2).map { newYear.adding(days: Int64($0)) }),
            (.qingming, [qingming(y)]),
            (.labourDay, [CivilDay(year: y, month: 5, day: 1), CivilDay(year: y, month: 5, day: 2)]),
            (.dragonBoat, [lunar.day(year: y, month: 5, day: 5)]),
            (.midAutumn, [lunar.day(year: y, month: 8, day: 15)]),
            (.nationalDay, (1...3).map { CivilDay(year: y, month: 10, day: $0) }),
        ]
        // Every statutory day first, so that 补假 never lands on a later one; then, in date order,
        // one weekday in lieu for each day on a weekend or already claimed by another festival
        // (a shared day is 国庆's, listed last, and 中秋 is owed one).
        var off = Set(statutory.flatMap(\.1))
        var claimed: Set<CivilDay> = []
        var inLieu: [Festival: [CivilDay]] = [:]
        for (f, d) in statutory.flatMap({ f, days in days.map { (f, $0) } }).sorted(by: { ($0.1, $1.0) < ($1.1, $0.0) }) {
            let firstClaim = claimed.insert(d).inserted
            guard d.weekday >= 6 || !firstClaim else { continue }
            var x = d.adding(days: 1)
            while x.weekday >= 6 || off.contains(x) { x = x.adding(days: 1) }
            off.insert(x)
            inLieu[f, default: []].append(x)
        }
        let holidays = statutory.map { Holiday(festival: $0.0, days: $0.1, inLieu: inLieu[$0.0] ?? []) }
            .sorted { ($0.days[0], $0.festival) < ($1.days[0], $1.festival) }
        return Year(holidays: holidays, daysOff: off)
    }

    /// Lunar dates from Foundation's Chinese calendar (ICU's, also on Linux).
    struct LunarDates {
        let chinese: Calendar

        init() {
            var c = Calendar(identifier: .chinese)
            c.timeZone = TimeZone(identifier: "Asia/Shanghai")!
            chinese = c
        }

        /// The Gregorian day of lunar `month`/`day` (never a leap month) in the lunar year that
        /// begins in Gregorian `year`.
        func day(year: Int, month: Int, day: Int) -> CivilDay {
            // Noon, not midnight: Asia/Shanghai had summer time until 1991, and a midnight in +09:00
            // is the day before in the fixed +08:00 of CivilDay. March 1 is always in the lunar
            // year that began in `year` (正月初一 falls between Jan 21 and Feb 20).
            let march1 = CivilDay(year: year, month: 3, day: 1).start.adding(ms: 12 * 3_600_000)
            let cycle = chinese.dateComponents([.era, .year], from: march1)
            var want = DateComponents(era: cycle.era, year: cycle.year, month: month, day: day, hour: 12)
            want.isLeapMonth = false
            guard let date = chinese.date(from: want) else {
                preconditionFailure("Foundation's Chinese calendar has no lunar \(month)/\(day) in \(year)")
            }
            return CivilDay(date)
        }
    }

    /// The day (+08:00) of the 清明 solar term: when the sun's apparent longitude reaches 15°.
    static func qingming(_ year: Int) -> CivilDay {
        // Newton's method on the sun's longitude, from a first guess of April 5 (the sun moves
        // about 360/365.2422 degrees a day); converges to a fraction of a second in a few steps.
        var jde = julianDay(CivilDay(year: year, month: 4, day: 5))
        for _ in 0..<6 {
            let error = (15 - apparentSolarLongitude(jde)).truncatingRemainder(dividingBy: 360)
            let shortest = error > 180 ? error - 360 : (error < -180 ? error + 360 : error)
            jde += shortest * 365.2422 / 360
        }
        let ut = jde - deltaT(year) / 86_400
        let daysSince1970CST = ut - 2_440_587.5 + 8.0 / 24
        return CivilDay(ordinal: Int64(daysSince1970CST.rounded(.down)))
    }

    /// Julian day at midnight +08:00 of a civil day.
    static func julianDay(_ d: CivilDay) -> Double { 2_440_587.5 + Double(d.ordinal) - 8.0 / 24 }

    /// The sun's apparent geocentric longitude in degrees at Julian Ephemeris Day `jde`.
    ///
    /// Hand-written because no Swift package computes solar terms and Foundation does not expose
    /// them. Meeus, Astronomical Algorithms (2nd ed.), ch. 25 "low accuracy" (mean longitude,
    /// equation of centre, nutation and aberration), plus the perturbations by Venus, Jupiter,
    /// the Moon and the long-period inequality from Meeus, Astronomical Formulae for Calculators
    /// (4th ed.), ch. 18. Against VSOP87 (PyEphem) over 1990–2100 the 清明 moment comes out at
    /// most 5 minutes early or late (12 without the perturbations); the term nearest midnight in
    /// that range is 2071's, at 00:10 CST, so every day of the table is right, and the tests
    /// hold the whole table.
    static func apparentSolarLongitude(_ jde: Double) -> Double {
        let t = (jde - 2_451_545.0) / 36_525  // Julian centuries from J2000.0
        let t1900 = t + 1  // Formulae for Calculators counts from 1900 January 0.5
        func rad(_ deg: Double) -> Double { deg * .pi / 180 }
        let meanLongitude = 280.46646 + 36_000.76983 * t + 0.0003032 * t * t
        let meanAnomaly = rad(357.52911 + 35_999.05029 * t - 0.0001537 * t * t)
        let centre = (1.914602 - 0.004817 * t - 0.000014 * t * t) * sin(meanAnomaly)
            + (0.019993 - 0.000101 * t) * sin(2 * meanAnomaly) + 0.000289 * sin(3 * meanAnomaly)
        let perturbations = 0.00134 * cos(rad(153.23 + 22_518.7541 * t1900))  // Venus
            + 0.00154 * cos(rad(216.57 + 45_037.5082 * t1900))  // Venus
            + 0.00200 * cos(rad(312.69 + 32_964.3577 * t1900))  // Jupiter
            + 0.00179 * sin(rad(350.74 + 445_267.1142 * t1900 - 0.00144 * t1900 * t1900))  // the Moon
            + 0.00178 * sin(rad(231.19 + 20.20 * t1900))  // long-period inequality
        let ascendingNode = rad(125.04 - 1934.136 * t)
        let apparent = meanLongitude + centre + perturbations - 0.00569 - 0.00478 * sin(ascendingNode)
        let l = apparent.truncatingRemainder(dividingBy: 360)
        return l < 0 ? l + 360 : l
    }

    /// TT − UT in seconds (Espenak & Meeus's polynomials, NASA's eclipse pages). Past 2025 it is
    /// a forecast; a minute or two either way moves no 清明 of the table across midnight.
    static func deltaT(_ year: Int) -> Double {
        let y = Double(year), t = y - 2000
        if year < 2005 {
            return 63.86 + 0.3345 * t - 0.060374 * t * t + 0.0017275 * pow(t, 3) + 0.000651814 * pow(t, 4) + 0.00002373599 * pow(t, 5)
        }
        if year < 2050 { return 62.92 + 0.32217 * t + 0.005589 * t * t }
        let u = (y - 1820) / 100
        return -20 + 32 * u * u - 0.5628 * (2150 - y)
    }
}
