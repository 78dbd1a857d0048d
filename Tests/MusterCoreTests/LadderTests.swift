import Foundation
import Testing
@testable import MusterCore
import MusterWire

/// Escalation ladders with an injected `now`: every rung at its time, once, and none after the
/// clock stops.
@Suite struct LadderTests {
    static func timers(_ d: Driver, owner: String) -> [LadderTimer] {
        d.ledger.timers.rungs(of: owner).sorted { $0.id < $1.id }
    }

    @Test func aDispatchStartsItsSigningAndFinishingClocks() throws {
        var d = Driver()
        let c = d.newCase()
        let lead = d.lead(c)!
        let rungs = Self.timers(d, owner: lead.dispatchID)
        #expect(rungs.map(\.id) == ["\(lead.dispatchID)/ack/0", "\(lead.dispatchID)/ack/1", "\(lead.dispatchID)/ack/2", "\(lead.dispatchID)/resolve/0"])
        #expect(rungs[0].due == lead.sentAt.adding(ms: 45 * 60_000), "催办 at 75 % of the 1 h window")
        #expect(rungs[1].due == lead.ackBy && rungs[1].notice == "supervise")
        #expect(rungs[2].due == (try Fixtures.calendar.end(of: Period(1, .wd), from: lead.ackBy)), "通报 one working day after")
        #expect(rungs[3].due == lead.resolveBy)
    }

    @Test func eachRungFiresOnceAtItsTime() {
        var d = Driver()
        let c = d.newCase()
        let lead = d.lead(c)!
        let remind = "\(lead.dispatchID)/ack/0"
        #expect(d.ledger.fire(remind, now: lead.sentAt.adding(ms: 44 * 60_000)).facts.isEmpty, "not yet due")
        let fired = d.ledger.fire(remind, now: lead.sentAt.adding(ms: 45 * 60_000)).facts
        #expect(fired.map(\.type) == ["case.escalated"])
        guard case .escalated(let t) = fired.first?.change else { Issue.record("no escalation"); return }
        #expect(t.notice == "remind" && t.to == ["agency"] && t.agency == "chengguan")
        #expect(d.ledger.fire(remind, now: lead.ackBy).facts.isEmpty, "never twice")
        #expect(d.ledger.timers[remind] == nil)
    }

    @Test func signingForStopsTheSigningClockOnly() {
        var d = Driver()
        let c = d.newCase()
        let lead = d.lead(c)!
        d.now = lead.sentAt.adding(ms: 10 * 60_000)
        d.ok(Fixtures.ack(lead.dispatchID), by: Fixtures.agency("chengguan"))
        #expect(Self.timers(d, owner: lead.dispatchID).map(\.clock) == [.resolve])
        #expect(d.ledger.fire("\(lead.dispatchID)/ack/1", now: lead.ackBy).facts.isEmpty, "no 督办 for a dispatch signed for in time")
        d.ok(Fixtures.resolve(lead.dispatchID), by: Fixtures.agency("chengguan"))
        #expect(Self.timers(d, owner: lead.dispatchID).isEmpty)
        #expect(Self.timers(d, owner: c).map(\.clock).sorted { $0.rawValue < $1.rawValue } == [.evaluate, .verify], "finished: 核实 and 回访 clocks")
    }

    @Test func aCaseWaitingAtTheCentreRunsTheTriageClockUntilAssigned() {
        var d = Driver()
        let c = d.newCase(Fixtures.submit(nil, title: "情况不明"))
        #expect(Self.timers(d, owner: c).map(\.clock) == [.triage])
        let due = Self.timers(d, owner: c)[0].due
        #expect(due == d.ledger.cases[c]!.acceptedAt.adding(ms: 2 * 3_600_000), "研判 within 2 h")
        d.ok(Fixtures.assign(c, lead: "gongan"), by: Fixtures.ops)
        #expect(Self.timers(d, owner: c).isEmpty)
        #expect(d.ledger.fire("\(c)/triage/0", now: due).facts.isEmpty)
    }

    @Test func aLateCaseClimbsEveryRungInOrder() {
        var d = Driver()
        let c = d.newCase()
        let lead = d.lead(c)!
        let end = lead.resolveBy.adding(ms: 30 * 86_400_000)
        let due = d.ledger.timers.all.filter { $0.caseID == c }.sorted { ($0.due, $0.id) < ($1.due, $1.id) }
        let fired = due.flatMap { d.ledger.fire($0.id, now: end).facts }
        let notices = fired.compactMap { f -> String? in if case .escalated(let t) = f.change { "\(t.clock.rawValue):\(t.notice)" } else { nil } }
        #expect(notices == ["ack:remind", "ack:supervise", "ack:report_overdue", "resolve:supervise"])
        #expect(d.ledger.timers.all.filter { $0.caseID == c }.isEmpty)
    }
}

@Suite struct LadderOnceTests {
    @Test func theCallBackClockRunsFromTheFinishOnly() {
        var d = Driver()
        let c = d.newCase()
        let lead = d.lead(c)!
        let cg = Fixtures.agency("chengguan")
        d.ok(Fixtures.ack(lead.dispatchID), by: cg)
        d.ok(Fixtures.resolve(lead.dispatchID), by: cg)
        let late = d.now.adding(ms: 10 * 86_400_000)
        let fired = ["\(c)/verify/0", "\(c)/evaluate/0"].flatMap { d.ledger.fire($0, now: late).facts }
        #expect(fired.count == 2)
        d.now = late
        d.ok(Fixtures.verify(c, true), by: Fixtures.grid)
        #expect(d.ledger.timers["\(c)/evaluate/0"] == nil, "a late verification does not restart the 回访 clock")
    }

    @Test func anExtensionDoesNotRingARungThatAlreadyRang() {
        var rules = Fixtures.rules
        rules.sla.ladders[.resolve] = [.init(at: .percent(75), notice: "remind", to: ["agency"], level: 1),
                                       .init(at: .percent(100), notice: "supervise", to: ["agency", "ops"], level: 2)]
        var d = Driver(rules: rules)
        let c = d.newCase()
        let lead = d.lead(c)!
        let remindAt = d.ledger.timers["\(lead.dispatchID)/resolve/0"]!.due
        #expect(d.ledger.fire("\(lead.dispatchID)/resolve/0", now: remindAt).facts.count == 1)
        d.now = remindAt.adding(ms: 1000)
        d.ok(Fixtures.extend(lead.dispatchID, by: "2wd"), by: Fixtures.agency("chengguan"))
        #expect(d.ledger.timers["\(lead.dispatchID)/resolve/0"] == nil, "催办 rang once")
        #expect(d.ledger.timers["\(lead.dispatchID)/resolve/1"]?.due == d.ledger.dispatches[lead.dispatchID]?.resolveBy)
    }

    @Test func aReportJoinsTheNewestOpenCaseInsideTheWindow() {
        var d = Driver()
        let a = d.newCase(Fixtures.submit(address: "德化街8号"))
        d.now = d.now.adding(ms: 25 * 3_600_000)
        let b = d.newCase(Fixtures.submit(address: "德化街8号"))
        #expect(d.state(b) == .dispatched, "outside a's window: a case of its own")
        let joined = d.ok(Fixtures.submit(address: "德化街8号", source: .camera), by: Fixtures.hotline)
        guard case .accepted(_, _, let into, _) = joined.reply else { Issue.record("not accepted"); return }
        #expect(into == b && into != a)
    }
}
