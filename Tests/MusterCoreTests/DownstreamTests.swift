import Foundation
import Testing
@testable import MusterCore
import MusterWire

/// What a department's own system says travels with its acts (the raw status a plugin's map
/// turned into the act), and how an adapter's downstream is (HEALTH) reaches the centre.
@Suite struct DownstreamTests {
    @Test func anActFromADepartmentSystemKeepsItsRawStatusBesideIt() throws {
        var d = Driver()
        let c = d.newCase()
        let did = try #require(d.lead(c)?.dispatchID)
        let ack: CaseCommand = .ack(Fixtures.make(["id": "wh-1", "dispatch_id": did,
                                                    "downstream": ["status": "10", "ref": "RL-WO-1", "update": "RL-77-1"]]))
        let decision = d.ok(ack, by: Fixtures.agency("chengguan"))
        #expect(decision.facts.map(\.type) == ["dispatch.acked", "downstream.update"])
        let kept = try #require(decision.facts.last)
        #expect(kept.caseID == c)
        #expect(kept.change == .downstream(subject: did, DownstreamRef(status: "10", ref: "RL-WO-1", update: "RL-77-1")))
        // Without one, nothing extra; a refused act keeps nothing either.
        #expect(d.ok(Fixtures.progress(did), by: Fixtures.agency("chengguan")).facts.map(\.type) == ["dispatch.progress"])
        let early: CaseCommand = .ack(Fixtures.make(["id": "wh-2", "dispatch_id": did, "downstream": ["status": "10"]]))
        guard case .failure(let e) = d.run(early, by: Fixtures.agency("chengguan")) else { Issue.record("acked twice"); return }
        #expect(e.code == .invalidTransition)
    }

    @Test func aRawStatusMustBeShortText() {
        let body = Array(#"{"id":"x","dispatch_id":"D1","downstream":{"status":""}}"#.utf8)
        guard case .failure(let e)? = CaseCommands.decode(.ack, body) else { Issue.record("an empty status taken"); return }
        #expect(e.code == .badField && e.field == "downstream.status", "\(e)")
    }

    @Test func healthIsLoggedOnChangeAndTheCentreHearsOfDownAndBack() {
        var d = Driver()
        let reli = Fixtures.agency("reli")
        func health(_ state: String, _ n: Int) -> CaseCommand {
            .health(Fixtures.make(["id": "h\(n)", "state": state, "detail": "HTTP 503", "failures": n]))
        }
        // Degraded: logged, nobody disturbed.
        var decision = d.ok(health("degraded", 1), by: reli)
        #expect(decision.facts.map(\.type) == ["adapter.health"] && decision.actions.isEmpty)
        // Down: logged and a NOTICE to the centre, once.
        decision = d.ok(health("down", 5), by: reli)
        #expect(decision.facts.first?.caseID == "")
        #expect(decision.actions == [.alert(AdapterHealth(adapter: "reli-1", agency: "reli", state: .down, detail: "HTTP 503", failures: 5),
                                            kind: "downstream_down")])
        decision = d.ok(health("down", 6), by: reli)
        #expect(decision.facts.isEmpty && decision.actions.isEmpty, "the same state again changes nothing")
        guard case .health(_, changed: false) = decision.reply else { Issue.record("\(String(describing: decision.reply))"); return }
        // Back: the centre hears that too.
        decision = d.ok(health("ok", 0), by: reli)
        #expect(decision.actions.map { if case .alert(_, let k) = $0 { k } else { "" } } == ["downstream_restored"])
        #expect(d.ledger.health["reli-1"]?.state == .ok)
        #expect(CaseCommands.roles[.health] == [.agency], "only agencies report their downstream")
    }
}
