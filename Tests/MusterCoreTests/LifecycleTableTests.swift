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
    static func command(_ t: Lifecycle.Trigger, _ d: Driver, _ c: String) -> (CaseCommand, Actor)? {
        let dispatch = d.lastLead(c)
        let owner = Fixtures.agency(dispatch?.agency ?? "chengguan")
        let did = dispatch?.dispatchID ?? "D0000009999"
        switch t {
        case .accept, .merge, .route: return nil  // the broker's own, during SUBMIT
        case .assign: return (Fixtures.assign(c, lead: "gongan"), Fixtures.ops)
        case .reject: return (Fixtures.reject(c), Fixtures.ops)
        case .ack: return (Fixtures.ack(did, id: "walk-ack"), owner)
        case .progress: return (Fixtures.progress(did), owner)
        case .resolve: return (Fixtures.resolve(did, id: "walk-resolve"), owner)
        case .returnToTriage, .returnToConsultation: return (Fixtures.giveBack(did), owner)
        case .verifyPassed: return (Fixtures.verify(c, true), Fixtures.grid)
        case .verifyFailed: return (Fixtures.verify(c, false), Fixtures.grid)
        case .rated: return (Fixtures.evaluate(c, .satisfied), Fixtures.hotline)
        case .ratedDissatisfied: return (Fixtures.evaluate(c, .dissatisfied), Fixtures.hotline)
        }
    }

    static let stored = CaseState.allCases.filter { $0 != .new }

    @Test(arguments: stored)
    func everyTriggerInEveryState(_ state: CaseState) {
        for trigger in Lifecycle.Trigger.allCases {
            var (d, c) = Self.caseIn(state)
            #expect(d.state(c) == state)
            guard let (command, actor) = Self.command(trigger, d, c) else { continue }
            // A return is `return` or `return_again` by the case's history, as in the core.
            let returned = !(d.ledger.cases[c]?.returnedBy.isEmpty ?? true)
            if trigger == .returnToConsultation && !returned { continue }
            if trigger == .returnToTriage && returned { continue }
            let before = d.ledger
            let row = Lifecycle.row(state, trigger)
            switch d.run(command, by: actor) {
            case .success:
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
            case .failure(let e):
                #expect(row == nil, "\(state) × \(trigger) is in the table but was refused: \(e)")
                #expect([.invalidTransition, .unknownDispatch].contains(e.code), "\(state) × \(trigger): \(e)")
                if e.code == .invalidTransition { #expect(e.state != nil) }
                #expect(d.ledger == before, "a refusal changed the ledger")
            }
        }
    }

    @Test func everyRowIsReachableFromItsState() {
        for row in Lifecycle.table where row.from != .new && row.from != .triage || ![.accept, .merge, .route].contains(row.trigger) {
            #expect(Self.stored.contains(row.from) || row.from == .new)
        }
        #expect(Lifecycle.row(.closed, .assign) == nil, "terminal states have no way out")
        #expect(Lifecycle.dot().contains("finished -> dispatched"))
    }
}
