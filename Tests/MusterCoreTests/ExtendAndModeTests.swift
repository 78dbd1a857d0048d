import Foundation
import Testing
@testable import MusterCore
import MusterWire

@Suite struct ExtendAndModeTests {
    @Test func aDepartmentGetsOneExtensionWithinTheRuleAndTheCentreMore() throws {
        var d = Driver()
        let c = d.newCase()
        let lead = d.lead(c)!
        let cg = Fixtures.agency("chengguan")
        let first = d.ok(Fixtures.extend(lead.dispatchID, by: "2wd"), by: cg)
        guard case .extended(_, _, let resolveBy) = first.reply else { Issue.record("not extended"); return }
        #expect(resolveBy == (try Fixtures.calendar.end(of: Period(2, .wd), from: lead.resolveBy)))
        #expect(d.ledger.cases[c]?.resolveBy == resolveBy)
        #expect(d.ledger.timers["\(lead.dispatchID)/resolve/0"]?.due == resolveBy, "the finishing clock's rungs move with it")
        let second = d.run(Fixtures.extend(lead.dispatchID, by: "1wd"), by: cg)
        #expect(second.failure?.code == .forbidden && second.failure?.message.contains("max_count") == true)
        let tooLong = d.run(Fixtures.extend(lead.dispatchID, by: "40d", id: "x"), by: Fixtures.ops)
        #expect(tooLong.failure?.message.contains("max_total") == true, "not even the centre past max_total")
        d.ok(Fixtures.extend(lead.dispatchID, by: "3wd", id: "ops-1"), by: Fixtures.ops)
        #expect(d.ledger.dispatches[lead.dispatchID]?.extensions == 2)
    }

    /// A rung moved past what the broker holds in memory is not left behind at its old due: it
    /// would fire at a deadline that no longer is, and its firing would delete the moved one.
    /// (The extension's row stops the finishing clock before scheduling it again; `WaitingRungs`
    /// also drops a held rung that a schedule moves beyond the horizon, tested on its own.)
    @Test func anExtensionPastTheHeldHourLeavesNoRungAtTheOldDue() throws {
        var d = Driver()
        let c = d.newCase()
        let lead = d.lead(c)!
        let remind = "\(lead.dispatchID)/resolve/0"
        let was = try #require(d.ledger.timers.rung(remind, of: lead.dispatchID)).due
        d.ledger.timersHeldThrough = was
        d.ok(Fixtures.extend(lead.dispatchID, by: "2wd"), by: Fixtures.agency("chengguan"))
        #expect(d.ledger.timers.rung(remind, of: lead.dispatchID) == nil, "due after what is held: read back as it nears")
        #expect(d.ledger.fire(remind, of: lead.dispatchID, now: was).facts.isEmpty, "nothing fires at the old due")
    }

    @Test func anExtensionIsAskedBeforeTheDeadlineWithAReason() {
        var d = Driver()
        let c = d.newCase()
        let lead = d.lead(c)!
        d.now = lead.resolveBy.adding(ms: 1)
        let late = d.run(Fixtures.extend(lead.dispatchID, by: "1wd"), by: Fixtures.agency("chengguan"))
        #expect(late.failure?.code == .invalidTransition && late.failure?.state == "overdue")
        d.now = lead.sentAt.adding(ms: 1000)
        let noReason = d.run(.extend(Fixtures.make(["id": "e0", "dispatch_id": lead.dispatchID, "by": "1d", "reason": " "])), by: Fixtures.agency("chengguan"))
        #expect(noReason.failure?.field == "reason")
        let badBy = d.run(Fixtures.extend(lead.dispatchID, by: "a while"), by: Fixtures.agency("chengguan"))
        #expect(badBy.failure?.field == "by")
        #expect(d.run(Fixtures.extend(lead.dispatchID, by: "1d"), by: Fixtures.agency("gongan")).failure?.code == .forbidden)
    }

    @Test func emergencyModeTightensNewDispatchesInItsScopeOnly() throws {
        var d = Driver()
        let m = d.ok(Fixtures.mode("emergency", scope: "zz/erqi"), by: Fixtures.ops)
        #expect(m.facts.map(\.type) == ["mode.changed"] && m.facts[0].caseID.isEmpty)
        #expect(d.ledger.mode(for: "zz/erqi/jiefanglu") == .emergency && d.ledger.mode(for: "zz/jinshui") == .normal)
        let inside = d.newCase(Fixtures.submit(grid: "zz/erqi/jiefanglu"))
        let outside = d.newCase(Fixtures.submit(grid: "zz/jinshui/renminlu"))
        let a = d.lead(inside)!, b = d.lead(outside)!
        #expect(a.ackBy == a.sentAt.adding(ms: 5 * 60_000), "应急: signed within 5 min")
        #expect(b.ackBy == b.sentAt.adding(ms: 3_600_000))
        d.ok(Fixtures.mode("normal", scope: "zz/erqi"), by: Fixtures.ops)
        #expect(d.ledger.modes.isEmpty)
        #expect(d.run(Fixtures.mode("emergency", scope: "zz/atlantis"), by: Fixtures.ops).failure?.field == "scope")
    }
}

@Suite struct BacklogTests {
    @Test func onlyAnOverdueDispatchGoesOnTheBacklogAndItsLadderStops() {
        var d = Driver()
        let c = d.newCase()
        let lead = d.lead(c)!
        let cg = Fixtures.agency("chengguan")
        d.ok(Fixtures.ack(lead.dispatchID), by: cg)
        let early = d.run(.backlog(Fixtures.make(["id": "b0", "dispatch_id": lead.dispatchID, "explanation": "涉及历史遗留产权纠纷，需区政府协调"])), by: cg)
        #expect(early.failure?.state == "in_time", "before the deadline: extend instead")
        d.now = lead.resolveBy.adding(ms: 60_000)
        let short = BodyDecoder.decode(Backlog.self, from: Array(#"{"id":"b1","dispatch_id":"D1","explanation":"难"}"#.utf8))
        guard case .failure(let e) = short else { Issue.record("a one-word explanation was accepted"); return }
        #expect(e.field == "explanation", "挂账 needs a written explanation")
        let ok = d.ok(.backlog(Fixtures.make(["id": "b2", "dispatch_id": lead.dispatchID, "explanation": "涉及历史遗留产权纠纷，需区政府协调"])), by: cg)
        #expect(ok.facts.map(\.type) == ["dispatch.backlogged"])
        #expect(d.ledger.cases[c]?.backlog != nil && d.state(c) == .handling, "still open, still on the overdue list")
        #expect(d.ledger.timers.all.filter { $0.dispatchID == lead.dispatchID }.isEmpty, "no more 督办 for an explained backlog")
    }
}
