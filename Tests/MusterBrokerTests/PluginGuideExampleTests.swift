import Foundation
import Logging
import Testing
// Plugins/README.md's "Testing it" example, kept compiling and passing here (the config path is
// the repository's; in a plugin's own package it is that package's).
import MusterAdapterKit
import MusterTesting
import MusterCore
import MusterWire

struct NotOurs: DepartmentPlugin {
    func deliver(_ push: Push) async -> Delivery { .refused(.notOurJurisdiction, note: "不在本公司供热范围") }
}

@Test func thePluginGuidesExampleRuns() async throws {
    let broker = try TestBroker(config: BrokerHarness.repo.appendingPathComponent("config/muster.yaml").path, heartbeat: 5, resend: 60)  // with routing, grids, sla, calendar beside it
    defer { broker.stop() }
    var options = MusterClient.Options(endpoint: broker.endpoint, adapter: "reli-plugin-1", roles: [.agency], agency: "reli")
    options.retryAfter = 0.3
    let queue = try ActQueue(path: NSTemporaryDirectory() + "acts-\(UUID().uuidString)/acts.db")
    let adapter = PluginAdapter(options, plugin: NotOurs(), queue: queue, logger: Logger(label: "test"))
    adapter.start()
    defer { adapter.stop() }

    let hotline = try TestPeer(broker.endpoint, name: "hotline")
    _ = try hotline.hello(adapter: "hotline-1", roles: ["intake"])
    let caseID = try hotline.request(.submit, ["case": ["source": "hotline_12345", "external_ref": "T-1", "category": "heating_not_warm",
        "title": "暖气不热", "location": ["grid": "zz/erqi/jiefanglu", "address": "民主路3号院"]]]).1["case_id"] as! String
    // Wait for the effect in the broker's own store (no session to keep alive), with a deadline.
    var returned: Fact.Change?
    for _ in 0..<1500 where returned == nil {
        returned = try broker.store.facts(after: 0, limit: 100, caseID: caseID).first { $0.type == "dispatch.returned" }?.fact.change
        if returned == nil { try await Task.sleep(nanoseconds: 20_000_000) }
    }
    guard case .returned(_, let reason, _)? = returned else { Issue.record("not returned within 30 s"); return }
    #expect(reason == .notOurJurisdiction)
}
