import Foundation
import MusterTesting
import MusterConfig
import MusterCore
import MusterBroker
import Testing
import MusterWire

/// A reload of the whole config while the broker runs: a new department is routed to, with the
/// case that waited for it at the triage queue; cases already dispatched keep their owners; a
/// reload with errors changes nothing.
@Suite(.serialized) struct ReloadBrokerTests {
    static func caseBody(_ ref: String, category: String) -> [String: Any] {
        ["source": "hotline_12345", "external_ref": ref, "category": category, "title": "树枝挡住路灯",
         "location": ["grid": "zz/erqi/jiefanglu"]]
    }

    /// Polls QUERY case until `state` or `seconds` pass (a bound on a broken test).
    static func waitForState(_ p: TestPeer, _ caseID: String, _ state: String, seconds: Double = 5) throws -> [String: Any]? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let c = try p.request(.query, ["what": "case", "case_id": caseID]).1["case"] as? [String: Any]
            if c?["state"] as? String == state { return c }
            usleep(20_000)
        }
        return nil
    }

    @Test func aDepartmentAddedWhileTheBrokerRunsIsRoutedToWithTheCaseThatWaited() throws {
        let h = try BrokerHarness()
        defer { h.stop() }
        let intake = try TestPeer(h.endpoint, name: "in")
        _ = try intake.hello(adapter: "hotline-rl", roles: ["intake"])
        let waiting = try intake.request(.submit, ["case": Self.caseBody("rl-1", category: "tree_pruning")]).1
        #expect(waiting["state"] as? String == "triage")
        let vending = try intake.request(.submit, ["case": BrokerTests.caseBody("rl-2", category: "street_vending")]).1
        #expect(vending["state"] as? String == "dispatched")

        var reloaded = h.config
        reloaded.rules.routing.agencies["yuanlin"] = Routing.Agency(code: "yuanlin", name: "园林绿化")
        reloaded.rules.routing.categories["tree_pruning"] = Routing.Category(code: "tree_pruning", name: "树木修剪", lead: "yuanlin")
        reloaded.rules.routing.keywordOrder.append("tree_pruning")
        reloaded.rules.routing.categories["street_vending"]?.lead = "shichang"  // new cases only
        reloaded.rules.routing.categories["street_vending"]?.overrides = []
        h.broker.reload(Broker.Reload(config: reloaded, errors: []))

        let routed = try #require(try Self.waitForState(intake, waiting["case_id"] as! String, "dispatched"))
        #expect(routed["lead"] as? String == "yuanlin")
        let yuanlin = try TestPeer(h.endpoint, name: "yl")
        _ = try yuanlin.hello(adapter: "yuanlin-1", roles: ["agency"], agency: "yuanlin")
        let d = try #require(try yuanlin.push(.dispatch))
        #expect((d["case"] as? [String: Any])?["case_id"] as? String == waiting["case_id"] as? String)
        let kept = try intake.request(.query, ["what": "case", "case_id": vending["case_id"] as Any]).1["case"] as? [String: Any]
        #expect(kept?["lead"] as? String == "chengguan", "a case already dispatched keeps its owner")
        let next = try intake.request(.submit, ["case": BrokerTests.caseBody("rl-3", category: "street_vending")]).1
        let nextCase = try intake.request(.query, ["what": "case", "case_id": next["case_id"] as Any]).1["case"] as? [String: Any]
        #expect(nextCase?["lead"] as? String == "shichang", "a new one follows the new rules")
        #expect(try h.store.verifyLog().ok)
    }

    @Test func aReloadWithErrorsChangesNothing() throws {
        let h = try BrokerHarness()
        defer { h.stop() }
        let intake = try TestPeer(h.endpoint, name: "in")
        _ = try intake.hello(adapter: "hotline-bad", roles: ["intake"])
        let waiting = try intake.request(.submit, ["case": Self.caseBody("bad-1", category: "tree_pruning")]).1
        let verdict = FileManager.default.temporaryDirectory.appendingPathComponent("muster-verdict-\(UUID().uuidString).json").path
        h.broker.reloadStatusPath = verdict
        h.broker.reload(Broker.Reload(config: nil, errors: ["routing.yaml:12: categories[0].lead: unknown agency \"yuanlim\""]))
        // The broker's own verdict: nothing applied, the error passed on.
        var written: [String: Any]?
        let deadline = Date().addingTimeInterval(5)
        while written == nil, Date() < deadline {
            written = FileManager.default.contents(atPath: verdict).flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
            if written == nil { usleep(20_000) }
        }
        #expect(written?["applied"] as? Bool == false && written?["ok"] as? Bool == false)
        #expect((written?["errors"] as? [String])?.first?.contains("yuanlim") == true)
        #expect(written?["routed_from_triage"] as? Int == 0)
        let seq = h.store.lastSeq
        // The broker keeps serving on the old rules: a new case goes where it went before.
        let after = try intake.request(.submit, ["case": BrokerTests.caseBody("bad-2", category: "street_vending")]).1
        #expect(after["state"] as? String == "dispatched")
        let c = try intake.request(.query, ["what": "case", "case_id": waiting["case_id"] as Any]).1["case"] as? [String: Any]
        #expect(c?["state"] as? String == "triage")
        #expect(h.store.lastSeq > seq)
    }
}
