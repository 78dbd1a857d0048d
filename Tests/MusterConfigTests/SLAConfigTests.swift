import Foundation
import Testing
@testable import MusterConfig
@testable import MusterCore
import MusterWire

/// The shipped sla.yaml and cn-2026.yaml, loaded as the broker loads them.
@Suite struct SLAConfigTests {
    static let config = try! BrokerConfig.load(ConfigTests.shipped.appendingPathComponent("muster.yaml").path, insecure: true)
    static var sla: SLAPolicy { config.rules.sla }
    static var calendar: WorkCalendar { config.rules.calendar }

    static func subject(_ category: String, _ priority: Priority = .normal, _ source: Source = .hotline12345,
                        mode: ManagementMode = .normal) -> SLAPolicy.Subject {
        SLAPolicy.Subject(category: category, priority: priority, source: source, grid: "zz/erqi/jiefanglu", mode: mode)
    }

    static func at(_ day: String, _ hh: Int, _ mm: Int = 0) -> Date {
        CivilDay(day)!.start.adding(ms: Int64(hh * 60 + mm) * 60_000)
    }

    @Test func theShippedScheduleIsThe2026Notice() throws {
        let c = Self.calendar
        #expect(c.years.contains(2026))
        for off in ["2026-01-02", "2026-02-18", "2026-04-06", "2026-05-05", "2026-06-19", "2026-09-25", "2026-10-07"] {
            #expect(try !c.isWorkingDay(CivilDay(off)!), "\(off) is off")
        }
        for worked in ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"] {
            #expect(try c.isWorkingDay(CivilDay(worked)!), "\(worked) is worked (调休)")
        }
        #expect(try c.isWorkingDay(CivilDay("2026-10-09")!) && !c.isWorkingDay(CivilDay("2026-10-11")!))
    }

    @Test func rulesMatchInOrderAndDefaultsFillTheRest() {
        let urgent = Self.sla.windows(for: Self.subject("street_vending", .urgent), on: CivilDay("2026-06-01")!)
        #expect(urgent.windows[.ack] == Period(15, .m) && urgent.windows[.resolve] == Period(2, .h))
        #expect(urgent.windows[.return] == Period(1, .wd), "from defaults")
        let petition = Self.sla.windows(for: Self.subject("noise_at_night", .normal, .petition), on: CivilDay("2026-06-01")!)
        #expect(petition.windows[.resolve] == Period(60, .d) && petition.windows[.return] == Period(5, .wd))
        let cleaning = Self.sla.windows(for: Self.subject("road_cleaning"), on: CivilDay("2026-06-01")!)
        #expect(cleaning.windows[.resolve] == Period(2, .wh))
    }

    /// Windows are remembered by subject and day; a policy changed afterwards answers by its new
    /// rules, defaults, modes and seasons, and a copy changed leaves the original's answers alone.
    @Test func rememberedWindowsFollowTheirPolicyWhenItChanges() {
        let day = CivilDay("2026-06-01")!, urgent = Self.subject("street_vending", .urgent)
        var sla = Self.sla
        #expect(sla.windows(for: urgent, on: day).windows[.ack] == Period(15, .m))
        #expect(sla.windows(for: urgent, on: day).windows[.ack] == Period(15, .m), "remembered: the same")
        let original = sla
        sla.rules = []
        #expect(sla.windows(for: urgent, on: day).windows[.ack] == sla.defaults[.ack] && sla.windows(for: urgent, on: day).rules.isEmpty)
        sla.defaults[.ack] = Period(7, .m)
        #expect(sla.windows(for: urgent, on: day).windows[.ack] == Period(7, .m))
        #expect(original.windows(for: urgent, on: day).windows[.ack] == Period(15, .m), "the copy taken before is unchanged")
        var seasons = Self.sla
        let heating = Self.subject("heating_not_warm"), winter = CivilDay("2026-12-01")!
        #expect(seasons.windows(for: heating, on: winter).windows[.ack] == Period(30, .m))
        seasons.heatingSeasons = []
        #expect(seasons.windows(for: heating, on: winter).windows[.ack] == Period(1, .h), "no season: ordinary")
        for n in 0..<5000 {  // past the bound, everything is forgotten at once and still right
            #expect(sla.windows(for: Self.subject("street_vending", .urgent), on: CivilDay(ordinal: Int64(20_000 + n))).windows[.ack] == Period(7, .m))
        }
    }

    @Test func heatingIsUrgentOnlyInTheHeatingSeason() {
        let winter = Self.sla.windows(for: Self.subject("heating_not_warm"), on: CivilDay("2026-12-01")!).windows
        let summer = Self.sla.windows(for: Self.subject("heating_not_warm"), on: CivilDay("2026-07-01")!).windows
        #expect(winter[.ack] == Period(30, .m) && winter[.resolve] == Period(2, .h))
        #expect(summer[.ack] == Period(1, .h) && summer[.resolve] == Period(24, .h), "outside the season: ordinary 水电气热")
    }

    @Test func emergencyModeTightensEveryWindowAndCapsSigning() throws {
        let from = Self.at("2026-06-01", 10)
        let normal = try Self.sla.deadline(.ack, for: Self.subject("street_vending"), from: from, calendar: Self.calendar)
        let emergency = try Self.sla.deadline(.ack, for: Self.subject("street_vending", mode: .emergency), from: from, calendar: Self.calendar)
        #expect(normal == from.adding(ms: 3_600_000))
        #expect(emergency == from.adding(ms: 5 * 60_000), "signed within 5 min in an emergency")
        let w = Self.sla.windows(for: Self.subject("street_vending", mode: .majorEvent), on: CivilDay(from)).windows
        #expect(w[.resolve] == Period(3, .wd) || w[.resolve] == Period(2, .wd), "5wd × 0.5 rounds to whole working days")
    }

    @Test func globsMatchCodes() {
        #expect(SLAPolicy.glob("heating_*", "heating_leak"))
        #expect(!SLAPolicy.glob("heating_*", "water_outage"))
        #expect(SLAPolicy.glob("*_outage", "water_outage"))
        #expect(SLAPolicy.glob("road_cleaning", "road_cleaning") && !SLAPolicy.glob("road", "road_cleaning"))
        // prefix and suffix may not overlap; a star may match nothing; several stars search
        #expect(!SLAPolicy.glob("ab*ba", "aba") && SLAPolicy.glob("ab*ba", "abba") && SLAPolicy.glob("a*", "a") && SLAPolicy.glob("*", ""))
        #expect(SLAPolicy.glob("a*b*c", "axxbyyc") && !SLAPolicy.glob("a*b*c", "acb") && SLAPolicy.glob("*_*", "water_outage"))
        #expect(SLAPolicy.glob("供暖*", "供暖不热") && !SLAPolicy.glob("供暖*", "暖气不热") && SLAPolicy.glob("*不热", "暖气不热"))
    }

    @Test func slaProblemsAreLocated() throws {
        let dir = try ConfigTests.copy(editing: "sla.yaml") {
            $0.replacingOccurrences(of: "category: [road_cleaning]", with: "category: [road_cleanin]")
              .replacingOccurrences(of: "{at: 75%, notice: remind, to: [ops], level: 1}", with: "{at: soon, notice: remind, to: [ops], level: 1}")
        }
        let errs = ConfigTests.errors(dir)
        #expect(errs.contains { $0.file.hasSuffix("sla.yaml") && $0.message.contains("road_cleanin") && $0.key.hasSuffix(".category[0]") && $0.line != nil })
        #expect(errs.contains { $0.key == "ladders.triage[0].at" })
    }

    @Test func illegalConstructionHasThreeStagesAndTheirProblemsAreLocated() throws {
        let from = Self.at("2026-06-01", 10)
        let stages = try Self.sla.milestones(for: Self.subject("illegal_construction"), from: from, calendar: Self.calendar)
        #expect(stages.map(\.name) == ["停工", "处罚", "拆除"] && stages.map(\.within) == ["4wh", "7wd", "20wd"])
        #expect(stages[0].dueBy == Self.at("2026-06-01", 17), "4 工作时 from Monday 10:00: 2 h to noon, 2 h from 15:00 (summer hours)")
        #expect(try Self.sla.milestones(for: Self.subject("street_vending"), from: from, calendar: Self.calendar).isEmpty)
        let dir = try ConfigTests.copy(editing: "sla.yaml") {
            $0.replacingOccurrences(of: "{name: 处罚, within: 7wd}", with: "{name: 停工, within: 7 days}")
        }
        let errs = ConfigTests.errors(dir)
        #expect(errs.contains { $0.key.hasSuffix("milestones[1].within") && $0.message.contains("7 days") && $0.line != nil })
        #expect(errs.contains { $0.key.hasSuffix("milestones[1].name") && $0.message.contains("named twice") })
        let typo = try ConfigTests.copy(editing: "sla.yaml") {
            $0.replacingOccurrences(of: "{name: 拆除, within: 20wd}", with: "{name: 拆除, witin: 20wd}")
        }
        #expect(ConfigTests.errors(typo).contains { $0.message.contains("witin") }, "an unknown key in a stage is refused")
    }

    @Test func aScheduleWithAWeekdayMakeUpDayIsRefused() throws {
        let dir = try ConfigTests.copy(editing: "calendar/cn-2026.yaml") {
            $0.replacingOccurrences(of: "workdays: [2026-01-04]", with: "workdays: [2026-01-05]")
        }
        #expect(ConfigTests.errors(dir).contains { $0.file.hasSuffix("cn-2026.yaml") && $0.message.contains("weekday") })
    }

    /// The calendar never refuses: a year without the notice runs on the law's schedule, with a
    /// warning; only a year outside the statutory table stops the broker.
    @Test func aDayWithoutAnOfficialScheduleWarnsAndOnlyOneOutsideTheTableStopsTheBroker() {
        let june = Self.config.checkCalendar(today: Self.at("2026-06-01", 9))
        #expect(june.error == nil && june.warning == nil)
        let december = Self.config.checkCalendar(today: Self.at("2026-12-15", 9))
        #expect(december.error == nil && december.warning?.contains("2027") == true && december.warning?.contains("provisional") == true,
                "next year missing near the year's end")
        let january = Self.config.checkCalendar(today: CivilDay(year: 2027, month: 1, day: 4).start)
        #expect(january.error == nil && january.warning?.contains("provisional one") == true)
        #expect(Self.config.checkCalendar(today: CivilDay(year: 2101, month: 1, day: 4).start).error?.contains("2101") == true)
    }
}
