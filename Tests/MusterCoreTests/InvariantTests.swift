import Foundation
import PropertyBased
import Testing
@testable import MusterCore
import MusterWire

/// Random sequences of commands from every kind of peer keep the ledger's invariants, and
/// folding the facts they produced rebuilds the ledger exactly (replay equals projection).
@Suite struct InvariantTests {
    /// One random move: `n % 13` picks the command, `n / 13` the case and dispatch it aims at.
    static func move(_ n: Int, _ d: inout Driver, _ facts: inout [Fact]) {
        let (command, actor) = command(n, d)
        if n % 17 == 0 { d.now = d.now.adding(ms: 2 * 86_400_000) }  // past return windows sometimes
        if n % 11 == 0 {
            // Rungs come due now and then: fire whatever is due, as the broker does.
            d.now = d.now.adding(ms: Int64(n % 7) * 3_600_000)
            for t in d.ledger.timers.all.sorted(by: { $0.id < $1.id }) { facts += d.ledger.fire(t.id, now: d.now).facts }
        }
        let before = d.ledger
        switch d.run(command, by: actor) {
        case .success(let decision): facts += decision.facts
        case .failure: #expect(d.ledger == before, "a refusal changed the ledger")
        }
    }

    /// One random command from a random peer: `n % 13` picks the command, `n / 13` the case and
    /// dispatch it aims at.
    static func command(_ n: Int, _ d: Driver) -> (CaseCommand, Actor) {
        let cases = d.ledger.cases.keys.sorted()
        let target = cases.isEmpty ? "C0000000001" : cases[(n / 13) % cases.count]
        let dispatches = d.ledger.dispatches.values.filter { $0.caseID == target }.sorted { $0.dispatchID < $1.dispatchID }
        let dispatch = dispatches.isEmpty ? nil : dispatches[(n / 7) % dispatches.count]
        let owner = Fixtures.agency(dispatch?.agency ?? "chengguan")
        let did = dispatch?.dispatchID ?? "D0000000001"
        let categories = ["street_vending", "road_collapse", "heating_not_warm", "noise"]
        let (command, actor): (CaseCommand, Actor) = switch n % 13 {
        case 0, 1: (Fixtures.submit(categories[(n / 13) % 4], grid: ["zz/erqi/jiefanglu", "zz/jinshui/renminlu", "zz/erqi/dehuajie"][n % 3],
                                    address: n % 5 == 0 ? "同一地址" : nil), Fixtures.hotline)
        case 2: (Fixtures.submit(nil, title: "情况不明"), Fixtures.hotline)
        case 3: (Fixtures.ack(did, id: "ack-\(n)"), owner)
        case 4: (Fixtures.progress(did), owner)
        case 5: (Fixtures.resolve(did, id: "res-\(n)"), owner)
        case 6: (Fixtures.giveBack(did), owner)
        case 7: (Fixtures.assign(target, lead: ["chengguan", "zhujian", "gongan"][n % 3]), Fixtures.ops)
        case 8: (Fixtures.reject(target), Fixtures.ops)
        case 9: (Fixtures.verify(target, n % 2 == 0), Fixtures.grid)
        case 10: (Fixtures.evaluate(target, [.satisfied, .dissatisfied, .basicallySatisfied][n % 3]), Fixtures.hotline)
        case 11: (Fixtures.ack(did, id: "ack-\(n)"), Fixtures.agency("reli"))
        default: n % 2 == 0 ? (Fixtures.resolve(did, id: "res-\(n)"), owner)
                            : (Fixtures.extend(did, by: ["1d", "2wd", "8h"][n % 3], id: "ext-\(n)"), n % 3 == 0 ? Fixtures.ops : owner)
        }
        return (command, actor)
    }

    static func checkInvariants(_ l: Ledger) {
        for c in l.cases.values {
            let open = l.openDispatchRecords(of: c.caseID)
            let leads = open.filter { $0.role == .lead }
            switch c.state {
            case .dispatched:
                #expect(leads.count == 1 && leads[0].state == .sent, "\(c.caseID) dispatched needs one sent lead")
                #expect(leads.first?.agency == c.lead)
            case .handling:
                #expect(leads.count == 1 && leads[0].state == .acked, "\(c.caseID) handling needs one acked lead")
            default:
                #expect(leads.isEmpty, "\(c.caseID) \(c.state) has an open lead dispatch")
            }
            if c.state.isTerminal { #expect(open.isEmpty, "\(c.caseID) is \(c.state) with open dispatches") }
            #expect(open.allSatisfy { $0.state.isOpen })
            if c.state == .merged { #expect(c.mergedInto.flatMap { l.cases[$0] } != nil) }
        }
        #expect(Set(l.byExternalRef.values) == Set(l.cases.keys))
        // A rung waits only on a clock that is still running.
        for t in l.timers.all {
            #expect(l.timers.rung(t.id, of: t.owner) == t, "\(t.id) is found under its owner")
            if t.clock == .whistle {
                let s = l.summon(t.dispatchID!)
                #expect(s?.state == .summoned || s?.state == .enRoute, "\(t.id) on a department \(String(describing: s?.state))")
                continue
            }
            if t.clock == .incident {
                #expect(l.incidents[t.caseID]?.state == .active, "\(t.id) on an incident that ended")
                continue
            }
            let c = l.cases[t.caseID]!
            switch t.clock {
            case .ack: #expect(l.dispatches[t.dispatchID!]?.state == .sent, "\(t.id) on a dispatch already signed for")
            case .resolve, .return: #expect(l.dispatches[t.dispatchID!]?.state.isOpen == true, "\(t.id) on a closed dispatch")
            case .triage: #expect([.triage, .consultation].contains(c.state), "\(t.id) with the case \(c.state)")
            case .verify: #expect(c.state == .finished, "\(t.id) with the case \(c.state)")
            case .evaluate: #expect([.finished, .verified].contains(c.state), "\(t.id) with the case \(c.state)")
            case .milestone:
                #expect(l.dispatches[t.dispatchID!].map { $0.state.isOpen && $0.runningMilestone != nil } == true, "\(t.id) with no stage running")
            case .whistle, .incident: break
            case .transfer: #expect(c.petition?.state == .registered, "\(t.id) on a petition already forwarded")
            case .notify: #expect(c.petition.map { !$0.told && !$0.state.isTerminal } == true, "\(t.id) on a petition already told")
            case .reviewRequest: #expect(c.petition?.state == .replied, "\(t.id) with the petition \(String(describing: c.petition?.state))")
            case .review: #expect(c.petition?.state == .reviewing, "\(t.id) with the petition \(String(describing: c.petition?.state))")
            case .recheckRequest: #expect(c.petition?.state == .reviewed, "\(t.id) with the petition \(String(describing: c.petition?.state))")
            case .recheck: #expect(c.petition?.state == .rechecking, "\(t.id) with the petition \(String(describing: c.petition?.state))")
            }
        }
    }

    @Test func randomCommandsKeepTheInvariantsAndReplayEqualsProjection() async {
        await propertyCheck(count: 300, input: Gen.int(in: 0...100_000).array(of: 1...80)) { moves in
            var d = Driver()
            var facts: [Fact] = []
            for n in moves {
                Self.move(n, &d, &facts)
            }
            Self.checkInvariants(d.ledger)
            // The open dispatches, told by the facts alone: dispatched, and not since resolved,
            // returned or cancelled. The ledger reads them from the dispatches' states.
            var openByFacts: [String: [String]] = [:]
            for f in facts {
                switch f.change {
                case .dispatched(let r): openByFacts[f.caseID, default: []].append(r.dispatchID)
                case .resolved(let id, _, _, _, _), .returned(let id, _, _), .cancelled(let id): openByFacts[f.caseID]?.removeAll { $0 == id }
                default: break
                }
            }
            for id in d.ledger.cases.keys {
                #expect(d.ledger.openDispatchRecords(of: id).map(\.dispatchID) == (openByFacts[id] ?? []).sorted(), "\(id)")
            }
            var replayed = Ledger()
            for f in facts { replayed.apply(f) }
            #expect(replayed.cases == d.ledger.cases)
            #expect(replayed.dispatches == d.ledger.dispatches)
            #expect(replayed.dispatchesOfCase == d.ledger.dispatchesOfCase)
            #expect(replayed.ids == d.ledger.ids)
        }
    }
}
