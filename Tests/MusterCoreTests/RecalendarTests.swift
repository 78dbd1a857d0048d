import Foundation
import Testing
@testable import MusterCore
import MusterWire

/// The State Council's notice arrives for a year that was provisional: open deadlines reaching
/// into it are recomputed from when they started, their rungs rescheduled, fired rungs never again.
@Suite struct RecalendarTests {
    /// 2026 official (weekdays only, as Fixtures), 2027 provisional: 元旦 Fri 2027-01-01 off by law.
    static let before = Fixtures.calendar.withOfficialYears([2026])
    /// The notice for 2027: 元旦 off, and Saturday 2027-01-02 a make-up working day (调休上班).
    static let notice = WorkCalendar(years: [2026, 2027], daysOff: [CivilDay("2027-01-01")!],
                                     makeUpWorkdays: [CivilDay("2027-01-02")!], seasons: Fixtures.calendar.seasons)

    static func rules(_ calendar: WorkCalendar) -> Rules {
        var sla = Fixtures.sla
        sla.defaults[.ack] = Period(2, .wd)     // a signing window that crosses the new year
        return Rules(routing: Fixtures.routing, grids: Fixtures.grids, sla: sla, calendar: calendar)
    }

    static func at(_ iso: String) -> Date { Timestamp.parse(iso)! }

    @Test func aNoticeWithAMakeUpDayMovesTheDeadlineAndItsRungsButNotFiredOnes() throws {
        var d = Driver(rules: Self.rules(Self.before))
        d.now = Self.at("2026-12-30T09:59:59+08:00")
        let c = d.newCase(Fixtures.submit("heating_not_warm", address: "民主路3号院"))
        let lead = try #require(d.lead(c))
        #expect(lead.sentAt == Self.at("2026-12-30T10:00:00+08:00"))
        // Provisional: Thu 12-31, (Fri 01-01 off), Mon 01-04.
        #expect(lead.ackBy == Self.at("2027-01-04T10:00:00+08:00"))
        #expect(Self.before.provisionalYears(from: lead.sentAt, to: lead.ackBy) == [2027])
        let resolveBy = lead.resolveBy

        // 催办 at 75 % of the provisional window (90 h in): Sun 01-03 04:00.
        let remind = "\(lead.dispatchID)/ack/0"
        let fired = d.ledger.fire(remind, now: Self.at("2027-01-03T04:00:00+08:00")).facts
        #expect(fired.map(\.type) == ["case.escalated"])

        let now = Self.at("2027-01-03T05:00:00+08:00")
        let result = d.ledger.recalendar(from: Self.before, to: Self.rules(Self.notice), now: now)
        let (facts, moved) = (result.facts, result.moved)
        #expect(result.skipped.isEmpty)
        #expect(facts.map(\.type) == ["dispatch.deadlines_moved", "clock.scheduled"])
        #expect(moved.map(\.dispatch.dispatchID) == [lead.dispatchID])
        #expect(moved.first?.before.ackBy == Self.at("2027-01-04T10:00:00+08:00"))
        // Official: Thu 12-31, Sat 01-02 (调休上班).
        let after = try #require(d.ledger.dispatches[lead.dispatchID])
        #expect(after.ackBy == Self.at("2027-01-02T10:00:00+08:00"))
        #expect(after.resolveBy == resolveBy, "5 calendar days land on Monday either way")
        #expect(Self.notice.provisionalYears(from: after.sentAt, to: after.ackBy).isEmpty)
        let rungs = d.ledger.timers.rungs(of: lead.dispatchID).sorted { $0.id < $1.id }
        #expect(rungs.map(\.id) == ["\(lead.dispatchID)/ack/1", "\(lead.dispatchID)/ack/2", "\(lead.dispatchID)/resolve/0"],
                "the fired 催办 is not scheduled again")
        #expect(rungs[0].due == after.ackBy && rungs[0].deadline == after.ackBy, "督办 at the new deadline, already past: it fires at once")
        #expect(rungs[1].due == Self.at("2027-01-04T10:00:00+08:00"), "通报 one working day after the new deadline")
        #expect(d.ledger.fire(remind, now: now.adding(ms: 86_400_000)).facts.isEmpty, "never twice")
        // The same notice again moves nothing.
        #expect(d.ledger.recalendar(from: Self.notice, to: Self.rules(Self.notice), now: now).facts.isEmpty)
    }

    @Test func deadlinesInsideOfficialYearsAndClosedDispatchesDoNotMove() throws {
        var d = Driver(rules: Self.rules(Self.before))
        d.now = Self.at("2026-12-01T09:59:59+08:00")
        let early = d.newCase(Fixtures.submit("heating_not_warm", address: "1号院"))     // all in 2026
        d.now = Self.at("2026-12-30T09:59:59+08:00")
        let signed = d.newCase(Fixtures.submit("heating_not_warm", address: "2号院"))
        d.ok(Fixtures.ack(d.lead(signed)!.dispatchID), by: Fixtures.agency("reli"))
        d.ok(Fixtures.resolve(d.lead(signed)!.dispatchID), by: Fixtures.agency("reli"))  // finished: no open dispatch
        let before = d.ledger
        let facts = d.ledger.recalendar(from: Self.before, to: Self.rules(Self.notice), now: Self.at("2026-12-31T12:00:00+08:00")).facts
        #expect(facts.isEmpty)
        #expect(d.ledger == before)
        _ = early
    }
}

extension RecalendarTests {
    /// 签收 2wd from Wed 12-30: provisionally Mon 01-04, on the notice Sat 01-02.
    static func dispatchedOn30December(_ d: inout Driver) -> DispatchRecord {
        d.now = Self.at("2026-12-30T09:59:59+08:00")
        let c = d.newCase(Fixtures.submit("heating_not_warm", address: "民主路\(UUID().uuidString)"))
        return d.lead(c)!
    }

    @Test func aSignedForDispatchKeepsItsSigningDeadline() throws {
        var d = Driver(rules: Self.rules(Self.before))
        let lead = Self.dispatchedOn30December(&d)
        d.ok(Fixtures.ack(lead.dispatchID), by: Fixtures.agency("reli"))
        let result = d.ledger.recalendar(from: Self.before, to: Self.rules(Self.notice), now: Self.at("2026-12-31T12:00:00+08:00"))
        #expect(result.facts.isEmpty, "签收 is done: its deadline is history, and the others did not move")
        #expect(d.ledger.dispatches[lead.dispatchID]?.ackBy == lead.ackBy)
    }

    @Test func aDeadlineTheOldScheduleDoesNotExplainIsLeftAndReported() throws {
        var d = Driver(rules: Self.rules(Self.before))
        let lead = Self.dispatchedOn30December(&d)
        // The grid went into 应急 since: today's rules would give other deadlines on either
        // schedule, so the difference is not the notice's doing.
        d.ok(Fixtures.mode("emergency"), by: Fixtures.ops)
        let before = d.ledger.dispatches[lead.dispatchID]
        let result = d.ledger.recalendar(from: Self.before, to: Self.rules(Self.notice), now: Self.at("2026-12-31T12:00:00+08:00"))
        #expect(result.facts.isEmpty && result.moved.isEmpty)
        #expect(result.skipped == [lead.dispatchID])
        #expect(d.ledger.dispatches[lead.dispatchID] == before)
    }

    @Test func aRungAfterAnUnmovedDeadlineMovesWithTheSchedule() throws {
        // 签收 1h on Thu 12-31: the deadline stays in 2026, but 通报 (+1wd after it) is on the
        // first working day of 2027 — Mon 01-04 provisionally, Sat 01-02 on the notice.
        var rules = Self.rules(Self.before)
        rules.sla.defaults[.ack] = Period(1, .h)
        var d = Driver(rules: rules)
        d.now = Self.at("2026-12-31T09:59:59+08:00")
        let c = d.newCase(Fixtures.submit("heating_not_warm", address: "民主路9号"))
        let lead = try #require(d.lead(c))
        let report = "\(lead.dispatchID)/ack/2"
        #expect(d.ledger.timers[report]?.due == Self.at("2027-01-04T11:00:00+08:00"))
        var after = rules
        after.calendar = Self.notice
        let result = d.ledger.recalendar(from: Self.before, to: after, now: Self.at("2026-12-31T10:30:00+08:00"))
        #expect(result.moved.isEmpty, "no deadline moved")
        #expect(result.facts.map(\.type) == ["clock.scheduled"])
        #expect(d.ledger.timers[report]?.due == Self.at("2027-01-02T11:00:00+08:00"))
        #expect(d.ledger.dispatches[lead.dispatchID]?.ackBy == lead.ackBy)
    }

    @Test func replacingAYearGivesBackTheScheduleDeadlinesWereComputedOn() {
        let schedules = Self.before.schedules([2026, 2027])
        #expect(schedules[2027]?.official == false && schedules[2026]?.official == true)
        let restored = Self.notice.replacing(schedules)
        #expect(restored.schedules([2026, 2027]) == schedules)
        #expect(restored.isOfficial(2026) && !restored.isOfficial(2027))
    }
}

extension WorkCalendar {
    /// The same schedule with only these years official (the others provisional, from the law).
    func withOfficialYears(_ official: Set<Int>) -> WorkCalendar {
        WorkCalendar(years: official, daysOff: daysOff, makeUpWorkdays: makeUpWorkdays, seasons: seasons)
    }
}
