import Foundation
import Testing
@testable import MusterCore
import MusterWire

/// Walks every (state, trigger) pair a peer can cause: what the table allows succeeds and
/// lands where the table says; everything else is refused and changes nothing.
@Suite struct LifecycleTableTests {
    /// A driver holding one case in `state`, and the case's id.
    static func caseIn(_ state: CaseState) -> (Driver, String) {
        var d = Driver()
        let cg = Fixtures.agency("chengguan")
        switch state {
        case .new: fatalError("no stored case is new")
        case .triage:
            let c = d.newCase(Fixtures.submit(nil, title: "有情况"))
            return (d, c)
        case .consultation:
            let c = d.newCase(Fixtures.submit("road_collapse", title: "塌陷"))
            d.ok(Fixtures.giveBack(d.lead(c)!.dispatchID), by: Fixtures.agency("zhujian"))
            d.ok(Fixtures.giveBack(d.lead(c)!.dispatchID), by: cg)
            return (d, c)
        case .rejected:
            let c = d.newCase(Fixtures.submit(nil, title: "有情况"))
            d.ok(Fixtures.reject(c), by: Fixtures.ops)
            return (d, c)
        case .merged:
            _ = d.newCase(Fixtures.submit(address: "德化街1号"))
            let c = d.newCase(Fixtures.submit(address: "德化街1号"))
            return (d, c)
        case .dispatched, .handling, .finished, .verified, .closed:
            let c = d.newCase()
            let lead = d.lead(c)!.dispatchID
            if state == .dispatched { return (d, c) }
            d.ok(Fixtures.ack(lead), by: cg)
            if state == .handling { return (d, c) }
            d.ok(Fixtures.resolve(lead), by: cg)
            if state == .finished { return (d, c) }
            d.ok(Fixtures.verify(c, true), by: Fixtures.grid)
            if state == .verified { return (d, c) }
            d.ok(Fixtures.evaluate(c, .satisfied), by: Fixtures.hotline)
            return (d, c)
        }
    }

    /// The triggers a peer's command can cause, with the command and who sends it.
    static func command(_ t: CaseMachine.Trigger, _ d: Driver, _ c: String) -> (CaseCommand, Actor)? {
        let dispatch = d.lastLead(c)
        let owner = Fixtures.agency(dispatch?.agency ?? "chengguan")
        let did = dispatch?.dispatchID ?? "D0000009999"
        switch t {
        case .accept, .merge, .route, .hold, .rungDue, .handBack: return nil  // the broker's own (SUBMIT, routing, clocks, an incident's end)
        case .assign: return (Fixtures.assign(c, lead: "gongan"), Fixtures.ops)
        case .reject: return (Fixtures.reject(c), Fixtures.ops)
        case .ack: return (Fixtures.ack(did, id: "walk-ack"), owner)
        case .progress: return (Fixtures.progress(did), owner)
        case .resolve: return (Fixtures.resolve(did, id: "walk-resolve"), owner)
        case .return: return (Fixtures.giveBack(did), owner)
        case .verifyPassed: return (Fixtures.verify(c, true), Fixtures.grid)
        case .verifyFailed: return (Fixtures.verify(c, false), Fixtures.grid)
        case .rated: return (Fixtures.evaluate(c, .satisfied), Fixtures.hotline)
        case .ratedDissatisfied: return (Fixtures.evaluate(c, .dissatisfied), Fixtures.hotline)
        }
    }

    static let stored = CaseState.allCases.filter { $0 != .new }

    /// Every (state, trigger) pair a peer can cause: the table's verdict (its guards read as the
    /// core reads them) is what happens, and a refusal changes nothing.
    @Test(arguments: stored)
    func everyTriggerInEveryState(_ state: CaseState) {
        for trigger in CaseMachine.Trigger.allCases {
            var (d, c) = Self.caseIn(state)
            #expect(d.state(c) == state)
            guard let (command, actor) = Self.command(trigger, d, c) else { continue }
            let before = d.ledger
            let row = CaseMachine.table.outcome(state, trigger) { d.ledger.holds($0, d.ledger.cases[c]!) }.row
            switch d.run(command, by: actor) {
            case .success(let decision):
                guard let row else {
                    Issue.record("\(state) × \(trigger) is not in the table but was allowed")
                    continue
                }
                let now = d.state(c)!
                if row.effects.contains(.reroute) {
                    #expect([.dispatched, .triage].contains(now), "\(state) × \(trigger) → \(now)")
                } else {
                    #expect(now == row.to, "\(state) × \(trigger) → \(now), table says \(row.to)")
                }
                // Replay takes the same rows: the facts alone rebuild the state.
                var replayed = before
                for f in decision.facts { replayed.apply(f) }
                #expect(replayed == d.ledger, "\(state) × \(trigger): replaying its facts gives another ledger")
            case .failure(let e):
                #expect(row == nil, "\(state) × \(trigger) is in the table but was refused: \(e)")
                #expect([.invalidTransition, .unknownDispatch].contains(e.code), "\(state) × \(trigger): \(e)")
                if e.code == .invalidTransition { #expect(e.state != nil) }
                #expect(d.ledger == before, "a refusal changed the ledger")
            }
        }
    }

    /// The return's two rows are told apart by a guard (round limit: the second return goes to
    /// 会商), and the dispatch's table refuses a return past its window or by an assigned lead.
    @Test func guardsChooseAndRefuse() throws {
        var d = Driver()
        let c = d.newCase(Fixtures.submit("road_collapse", title: "塌陷"))  // 住建 leads; 城管 may take it next
        let first = d.lead(c)!
        d.ok(Fixtures.giveBack(first.dispatchID), by: Fixtures.agency(first.agency))
        #expect(d.state(c) == .dispatched, "first return: re-routed")
        let second = d.lead(c)!
        d.ok(Fixtures.giveBack(second.dispatchID), by: Fixtures.agency(second.agency))
        #expect(d.state(c) == .consultation, "returned before: 会商")
        d.ok(Fixtures.assign(c, lead: "chengguan"), by: Fixtures.ops)
        let assigned = d.lead(c)!
        guard case .failure(let e) = d.run(Fixtures.giveBack(assigned.dispatchID), by: Fixtures.agency("chengguan")) else {
            Issue.record("an assigned lead returned the case"); return
        }
        #expect(e.code == .returnRefused && e.message.contains("assigned"))

        var (late, lc) = Self.caseIn(.dispatched)
        let lead = late.lead(lc)!
        late.now = lead.returnBy.adding(ms: 1)
        guard case .failure(let closed) = late.run(Fixtures.giveBack(lead.dispatchID), by: Fixtures.agency(lead.agency)) else {
            Issue.record("returned after the window"); return
        }
        #expect(closed.code == .returnRefused && closed.message.contains("return window"))
        #expect(DispatchMachine.table.outcome(.sent, .return) { $0 != .returnWindowOpen } == .blocked(.returnWindowOpen))
    }

    /// Timeouts are triggers like any act: a rung fires only where its table has a `rung_due` row
    /// (an open dispatch, a case not yet terminal).
    @Test func rungsFireOnlyWhereTheTableSays() {
        for s in CaseState.allCases where s != .new {
            #expect((CaseMachine.table.outcome(s, .rungDue) { _ in true }.row != nil) == !s.isTerminal, "\(s)")
        }
        for s in DispatchState.allCases {
            #expect((DispatchMachine.table.outcome(s, .rungDue) { _ in true }.row != nil) == s.isOpen, "\(s)")
        }
        // A case-clock rung left behind on a closed case does not fire.
        var (d, c) = Self.caseIn(.closed)
        let stale = LadderTimer(id: "\(c)/verify/9", caseID: c, dispatchID: nil, agency: nil, clock: .verify, rung: 9, level: 1,
                                notice: "x", to: ["ops"], due: d.now, deadline: d.now)
        d.ledger.timers.schedule([stale])
        #expect(d.ledger.fire(stale.id, now: d.now).facts.isEmpty)
    }

    /// Every stored state is entered from another, every open one has a way out, and the
    /// drawing carries the guards.
    @Test func everyStateIsReachableAndDrawnWithItsGuards() {
        let rows = CaseMachine.table.rows
        for s in Self.stored {
            #expect(rows.contains { $0.to == s && $0.from != s }, "\(s) is entered by no row")
            // One exception: a report merged into a known incident is handed back when it ends so.
            let ways = rows.filter { $0.from == s && $0.to != s }
            #expect(!ways.isEmpty == !s.isTerminal || (s == .merged && ways.map(\.trigger) == [.handBack]), "\(s): a way out iff it is open")
        }
        #expect(CaseMachine.table.rows(.closed, .assign).isEmpty, "terminal states have no way out")
        let dot = CaseMachine.dot()
        #expect(dot.contains("finished -> dispatched"))
        #expect(dot.contains("[first_return]") && dot.contains("[returned_before]") && dot.contains("[duplicate_open]"))
        #expect(DispatchMachine.dot().contains("[not_assigned_lead, return_window_open]"))
    }

    /// A lead dispatch in each of its states.
    static func dispatchIn(_ state: DispatchState) -> (Driver, String) {
        var d = Driver()
        let c = d.newCase()
        let lead = d.lead(c)!
        let owner = Fixtures.agency(lead.agency)
        switch state {
        case .sent: break
        case .acked: d.ok(Fixtures.ack(lead.dispatchID), by: owner)
        case .finished:
            d.ok(Fixtures.ack(lead.dispatchID), by: owner)
            d.ok(Fixtures.resolve(lead.dispatchID), by: owner)
        case .returned: d.ok(Fixtures.giveBack(lead.dispatchID), by: owner)
        case .cancelled: d.ok(Fixtures.assign(c, lead: "gongan"), by: Fixtures.ops)
        }
        return (d, lead.dispatchID)
    }

    /// Every (dispatch state, act) pair: the dispatch's table (its guards read as the core reads
    /// them) says what happens; a refusal names the dispatch's state or the guard, and changes
    /// nothing.
    @Test(arguments: DispatchState.allCases)
    func everyActOnADispatchInEveryState(_ state: DispatchState) {
        for trigger in DispatchMachine.Trigger.allCases {
            var (d, id) = Self.dispatchIn(state)
            let dispatch = d.ledger.dispatches[id]!
            #expect(dispatch.state == state)
            let owner = Fixtures.agency(dispatch.agency)
            let (command, actor): (CaseCommand, Actor)
            switch trigger {
            case .ack: (command, actor) = (Fixtures.ack(id, id: "walk-ack"), owner)
            case .progress: (command, actor) = (Fixtures.progress(id), owner)
            case .resolve: (command, actor) = (Fixtures.resolve(id, id: "walk-resolve"), owner)
            case .return: (command, actor) = (Fixtures.giveBack(id), owner)
            case .extend: (command, actor) = (Fixtures.extend(id, by: "1d", id: "walk-extend"), Fixtures.ops)
            case .backlog: (command, actor) = (.backlog(Fixtures.make(["id": "walk-backlog", "dispatch_id": id, "explanation": "涉及历史遗留产权纠纷，需协调"])), owner)
            case .cancel, .moveDeadlines, .rungDue: continue  // the broker's own
            case .reachMilestone: continue  // a PROGRESS naming a stage, on a dispatch with stages: MilestoneTests
            }
            let before = d.ledger
            let now = d.now.adding(ms: 1000)
            let row = DispatchMachine.table.outcome(state, trigger) { d.ledger.holds($0, dispatch, at: now) }.row
            let caseOpen = !(d.ledger.cases[dispatch.caseID]?.state.isTerminal ?? true)
            switch d.run(command, by: actor) {
            case .success:
                #expect(row != nil && caseOpen, "\(state) × \(trigger) was allowed; the table has no row for it")
                if let row { #expect(d.ledger.dispatches[id]?.state == row.to, "\(state) × \(trigger)") }
            case .failure(let e):
                #expect(row == nil || !caseOpen, "\(state) × \(trigger) is in the table but was refused: \(e)")
                #expect([.invalidTransition, .returnRefused].contains(e.code), "\(state) × \(trigger): \(e)")
                #expect(d.ledger == before, "a refusal changed the ledger")
            }
        }
    }
}
