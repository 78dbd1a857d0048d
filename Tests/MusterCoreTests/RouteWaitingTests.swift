import Foundation
import Testing
@testable import MusterCore
import MusterWire

/// A reload that gives a category an owner routes the cases waiting for one at the triage
/// queue — and nothing else: dispatched cases keep their owners, refused ones stay refused.
@Suite struct RouteWaitingTests {
    /// The fixtures' rules with 园林绿化 (yuanlin) leading `tree_pruning`.
    static var withGreening: Rules {
        var r = Fixtures.rules
        r.routing.agencies["yuanlin"] = Routing.Agency(code: "yuanlin", name: "园林绿化")
        r.routing.categories["tree_pruning"] = Routing.Category(code: "tree_pruning", name: "树木修剪", lead: "yuanlin", keywords: ["树枝"])
        r.routing.keywordOrder.append("tree_pruning")
        return r
    }

    @Test func aWaitingCaseIsRoutedOnceItsCategoryHasAnOwner() throws {
        var d = Driver()
        let waiting = d.newCase(Fixtures.submit("tree_pruning", title: "树枝挡住路灯"))
        let dispatched = d.newCase()
        #expect(d.state(waiting) == .triage && d.state(dispatched) == .dispatched)
        #expect(d.ledger.routeWaiting(waiting, rules: Fixtures.rules, now: d.now).facts.isEmpty, "the old rules still name no one")

        let rules = Self.withGreening
        let before = d.ledger.dispatches
        let decision = d.ledger.routeWaiting(waiting, rules: rules, now: d.now.adding(ms: 60_000))
        #expect(decision.facts.map(\.type) == ["case.dispatched", "clock.scheduled"])
        #expect(decision.facts.allSatisfy { $0.actor == "broker" })
        #expect(d.state(waiting) == .dispatched && d.lead(waiting)?.agency == "yuanlin")
        #expect(decision.actions.contains { if case .push(let p) = $0 { p.agency == "yuanlin" } else { false } })
        #expect(d.ledger.timers.rungs(of: waiting).isEmpty, "its 研判 clock stopped")
        #expect(d.ledger.routeWaiting(dispatched, rules: rules, now: d.now).facts.isEmpty, "a dispatched case keeps its owner")
        #expect(d.ledger.routeWaiting(waiting, rules: rules, now: d.now).facts.isEmpty, "routed once")
        #expect(d.ledger.dispatches.filter { before[$0.key] == nil }.count == 1)
    }

    @Test func aRefusedOrReturnedCaseIsNotSentBackToWhoReturnedIt() {
        var d = Driver(rules: Self.withGreening)
        let c = d.newCase(Fixtures.submit("tree_pruning", title: "树枝"))
        let lead = d.lead(c)!
        d.ok(Fixtures.giveBack(lead.dispatchID), by: Fixtures.agency("yuanlin"))
        #expect(d.state(c) == .triage, "returned, nobody else to route to")
        let before = d.ledger
        #expect(d.ledger.routeWaiting(c, rules: Self.withGreening, now: d.now).facts.isEmpty, "not back to who returned it")
        #expect(d.ledger == before)
        let rejected = d.newCase(Fixtures.submit("no_such_category", title: "x"))
        d.ok(Fixtures.reject(rejected), by: Fixtures.ops)
        #expect(d.ledger.routeWaiting(rejected, rules: Self.withGreening, now: d.now).facts.isEmpty)
    }
}
