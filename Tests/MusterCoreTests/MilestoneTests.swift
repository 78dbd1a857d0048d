import Foundation
import Testing
@testable import MusterCore
import MusterWire

/// Staged limits (分阶段时限): 违法搭建's 停工 → 处罚 → 拆除, each stage with its own deadline and
/// rungs, reached in order by PROGRESS, all reached before RESOLVE.
@Suite struct MilestoneTests {
    static let rules: Rules = {
        var sla = Fixtures.sla
        sla.rules.insert(SLAPolicy.Rule(name: "违法搭建", categories: ["street_vending", "road_collapse"], windows: [.resolve: Period(30, .wd)],
                                        milestones: [.init(name: "停工", within: Period(4, .wh)), .init(name: "处罚", within: Period(7, .wd)),
                                                     .init(name: "拆除", within: Period(20, .wd))]), at: 0)
        sla.ladders[.milestone] = [.init(at: .percent(75), notice: "remind", to: ["agency"], level: 1),
                                   .init(at: .percent(100), notice: "supervise", to: ["agency", "supervisor", "ops"], level: 2)]
        return Rules(routing: Fixtures.routing, grids: Fixtures.grids, sla: sla, calendar: Fixtures.calendar)
    }()
    static let cg = Fixtures.agency("chengguan")

    static func reach(_ d: String, _ stage: String, id: String) -> CaseCommand {
        .progress(Fixtures.make(["id": id, "dispatch_id": d, "note": "阶段完成：\(stage)", "milestone": stage]))
    }

    func stageTimers(_ ledger: Ledger, _ d: String) -> [String] {
        ledger.timers.all.filter { $0.dispatchID == d && $0.clock == .milestone }.map(\.id).sorted()
    }

    @Test func stagesRunOneAfterAnotherEachWithItsOwnClock() throws {
        var d = Driver(rules: Self.rules)
        let c = d.newCase()
        let lead = try #require(d.lead(c))
        let stages = try #require(lead.milestones)
        #expect(stages.map(\.name) == ["停工", "处罚", "拆除"] && stages.map(\.within) == ["4wh", "7wd", "20wd"])
        let firstDue = try Fixtures.calendar.end(of: Period(4, .wh), from: lead.sentAt)
        #expect(stages[0].dueBy == firstDue, "the first stage runs from the dispatch")
        #expect(stages[1].dueBy == nil && stages[2].dueBy == nil, "later stages have no deadline until the one before is reached")
        #expect(stageTimers(d.ledger, lead.dispatchID) == ["\(lead.dispatchID)/milestone.0/0", "\(lead.dispatchID)/milestone.0/1"])
        d.ok(Fixtures.ack(lead.dispatchID), by: Self.cg)

        let first = d.ok(Self.reach(lead.dispatchID, "停工", id: "m1"), by: Self.cg)
        #expect(first.facts.map(\.type) == ["dispatch.progress", "dispatch.milestone_reached", "clock.scheduled"])
        guard case .milestoneReached(_, "停工", let late, let next) = first.facts[1].change else { Issue.record("no stage fact"); return }
        let expected = try Fixtures.calendar.end(of: Period(7, .wd), from: d.now)
        #expect(!late && next == expected)
        let after = try #require(d.ledger.dispatches[lead.dispatchID]?.milestones)
        #expect(after[0].reachedAt == d.now && after[1].dueBy == next && after[2].dueBy == nil)
        #expect(stageTimers(d.ledger, lead.dispatchID) == ["\(lead.dispatchID)/milestone.1/0", "\(lead.dispatchID)/milestone.1/1"],
                "停工's rungs stopped, 处罚's started")
        #expect(d.ledger.timers["\(lead.dispatchID)/milestone.1/1"]?.due == next)

        let early = d.run(.resolve(Fixtures.make(["id": "r-early", "dispatch_id": lead.dispatchID])), by: Self.cg)
        #expect(early.failure?.code == .invalidTransition && early.failure?.message.contains("处罚 is not") == true, "RESOLVE needs every stage")
        d.ok(Self.reach(lead.dispatchID, "处罚", id: "m2"), by: Self.cg)
        d.ok(Self.reach(lead.dispatchID, "拆除", id: "m3"), by: Self.cg)
        #expect(stageTimers(d.ledger, lead.dispatchID).isEmpty)
        let again = d.run(Self.reach(lead.dispatchID, "拆除", id: "m4"), by: Self.cg)
        #expect(again.failure?.message.contains("every stage") == true)
        d.ok(Fixtures.resolve(lead.dispatchID), by: Self.cg)
        #expect(d.state(c) == .finished)
    }

    @Test(arguments: [("拆除", "comes after 停工"), ("停业", "has no stage \"停业\"")])
    func aStageOutOfOrderOrUnknownIsRefusedAndChangesNothing(_ stage: String, _ why: String) throws {
        var d = Driver(rules: Self.rules)
        let c = d.newCase()
        let lead = try #require(d.lead(c))
        d.ok(Fixtures.ack(lead.dispatchID), by: Self.cg)
        let before = d.ledger
        let refused = d.run(Self.reach(lead.dispatchID, stage, id: "bad"), by: Self.cg)
        #expect(refused.failure?.code == .invalidTransition && refused.failure?.message.contains(why) == true)
        #expect(refused.failure?.message.contains("停工 → 处罚 → 拆除") == true, "the desk is told the stages")
        #expect(d.ledger == before, "not even the progress note is recorded")
        d.ok(Self.reach(lead.dispatchID, "停工", id: "ok"), by: Self.cg)
        let twice = d.run(Self.reach(lead.dispatchID, "停工", id: "twice"), by: Self.cg)
        #expect(twice.failure?.message.contains("停工 was reached at") == true)
    }

    @Test func aStageRunningLateEscalatesOnItsOwnLadderAndIsReachedLate() throws {
        var d = Driver(rules: Self.rules)
        let c = d.newCase()
        let lead = try #require(d.lead(c))
        d.ok(Fixtures.ack(lead.dispatchID), by: Self.cg)
        let due = try #require(lead.milestones?[0].dueBy)
        d.now = due
        let fired = d.ledger.fire("\(lead.dispatchID)/milestone.0/1", now: d.now)
        guard case .escalated(let t) = fired.facts.first?.change else { Issue.record("the stage's 督办 did not fire"); return }
        #expect(t.clock == .milestone && t.level == 2 && t.deadline == due && fired.actions == [.notice(t)])
        #expect(d.ledger.cases[c]?.escalation == 2)
        #expect(d.ledger.timers["\(lead.dispatchID)/resolve/0"] != nil, "the finishing clock runs on beside it")
        let late = d.ok(Self.reach(lead.dispatchID, "停工", id: "late"), by: Self.cg)
        guard case .milestoneReached(_, _, true, _) = late.facts[1].change else { Issue.record("not recorded late"); return }
    }

    @Test func aDispatchWithoutStagesRefusesAMilestoneAndReturningStopsTheStageClock() throws {
        var plain = Driver()
        let c = plain.newCase()
        let lead = try #require(plain.lead(c))
        #expect(lead.milestones == nil)
        plain.ok(Fixtures.ack(lead.dispatchID), by: Self.cg)
        #expect(plain.run(Self.reach(lead.dispatchID, "停工", id: "x"), by: Self.cg).failure?.message.contains("has no stages") == true)

        var d = Driver(rules: Self.rules)
        let s = d.newCase()
        let staged = try #require(d.lead(s))
        d.ok(Fixtures.giveBack(staged.dispatchID), by: Self.cg)
        #expect(stageTimers(d.ledger, staged.dispatchID).isEmpty, "a returned dispatch's stage no longer runs")
    }

    @Test func stagesAreTheLeadsAnAssistHasNone() throws {
        var d = Driver(rules: Self.rules)
        let c = d.newCase(Fixtures.submit("road_collapse"))
        let lead = try #require(d.lead(c))
        let assist = try #require(d.ledger.openDispatchRecords(of: c).first { $0.role == .assist })
        #expect(lead.milestones?.count == 3 && assist.milestones == nil)
        #expect(stageTimers(d.ledger, assist.dispatchID).isEmpty, "no stage clock escalates against an assist")
        let gongan = Fixtures.agency(assist.agency)
        d.ok(Fixtures.ack(assist.dispatchID), by: gongan)
        d.ok(Fixtures.resolve(assist.dispatchID), by: gongan)
        #expect(d.ledger.dispatches[assist.dispatchID]?.state == .finished, "an assist finishes its part without stages")
    }

    @Test func aNewHolidayScheduleLeavesTheRunningStagesRungs() throws {
        var d = Driver(rules: Self.rules)
        let c = d.newCase()
        let lead = try #require(d.lead(c))
        let before = stageTimers(d.ledger, lead.dispatchID)
        d.ledger.apply(Fact(caseID: c, at: d.now, actor: "broker", change: .deadlinesMoved(
            dispatchID: lead.dispatchID, ackBy: lead.ackBy.adding(ms: 3_600_000), resolveBy: lead.resolveBy.adding(ms: 86_400_000),
            returnBy: lead.returnBy, reason: "节假日安排变更")))
        #expect(!before.isEmpty && stageTimers(d.ledger, lead.dispatchID) == before, "the stage's deadline does not move, nor do its rungs")
        #expect(d.ledger.timers["\(lead.dispatchID)/resolve/0"] == nil, "the finishing clock's rungs are rescheduled by the recalendar")
    }

    @Test func replayingTheFactsGivesTheSameStages() throws {
        var d = Driver(rules: Self.rules)
        var facts: [Fact] = []
        func keep(_ r: Decision) { facts += r.facts }
        keep(try #require(try? d.ledger.decide(Fixtures.submit(), by: Fixtures.hotline, rules: Self.rules, now: d.now).get()))
        let lead = try #require(d.ledger.dispatches.values.first)
        d.now = d.now.adding(ms: 1000)
        keep(try d.ledger.decide(Fixtures.ack(lead.dispatchID), by: Self.cg, rules: Self.rules, now: d.now).get())
        d.now = d.now.adding(ms: 1000)
        keep(try d.ledger.decide(Self.reach(lead.dispatchID, "停工", id: "m"), by: Self.cg, rules: Self.rules, now: d.now).get())
        var replayed = Ledger()
        for f in facts { replayed.apply(f) }
        #expect(replayed.dispatches == d.ledger.dispatches && replayed.timers == d.ledger.timers)
    }
}
