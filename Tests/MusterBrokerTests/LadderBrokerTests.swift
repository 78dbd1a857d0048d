import Foundation
import MusterConfig
import MusterCore
import Testing
import MusterWire

/// Ladders against the real broker with second-scale deadlines: a department that never signs
/// is reminded, then supervised, in order, exactly once — across a restart too.
@Suite(.serialized) struct LadderBrokerTests {
    /// Sign within `ack` seconds: 催办 at half, 督办 at the deadline (to the agency and the centre).
    static func quick(ack: Int) -> (inout BrokerConfig) -> Void {
        { cfg in
            cfg.rules.sla.rules = []
            cfg.rules.sla.defaults[.ack] = Period(ack, .s)
            cfg.rules.sla.ladders = [
                .ack: [.init(at: .percent(50), notice: "remind", to: ["agency"], level: 1),
                       .init(at: .percent(100), notice: "supervise", to: ["agency", "ops"], level: 2)],
            ]
        }
    }

    /// Distinct NOTICEs (a peer drops repeats by `delivery`, as the protocol says) until `count`
    /// have come or `timeout` passes, acknowledging each.
    static func notices(_ p: TestPeer, count: Int, timeout: Double) throws -> [[String: Any]] {
        var got: [[String: Any]] = []
        var seen = Set<String>()
        let deadline = Date().addingTimeInterval(timeout)
        while got.count < count, Date() < deadline {
            try p.send(.heartbeat, [:])
            if let n = try p.push(.notice, timeout: 0.2) {
                let delivery = n["delivery"] as! String
                if seen.insert(delivery).inserted { got.append(n) }
                try p.received([delivery])
            }
        }
        return got
    }

    @Test func aDepartmentThatNeverSignsIsRemindedThenSupervisedOnce() throws {
        let h = try BrokerHarness(resend: 0.5, configure: Self.quick(ack: 1))
        defer { h.stop() }
        let intake = try TestPeer(h.endpoint, name: "in")
        _ = try intake.hello(adapter: "hotline-l", roles: ["intake"])
        let reli = try TestPeer(h.endpoint, name: "reli")
        _ = try reli.hello(adapter: "reli-l", roles: ["agency"], agency: "reli")
        let ops = try TestPeer(h.endpoint, name: "ops")
        _ = try ops.hello(adapter: "ops-l", roles: ["ops"])
        let caseID = try intake.request(.submit, ["case": BrokerTests.caseBody("lad-1")]).1["case_id"] as! String
        let d = try #require(try reli.push(.dispatch))
        try reli.received([d["delivery"] as! String])
        let toAgency = try Self.notices(reli, count: 3, timeout: 3)
        #expect(toAgency.map { $0["kind"] as? String } == ["remind", "supervise"], "催办 then 督办, each once")
        #expect(toAgency.allSatisfy { $0["case_id"] as? String == caseID && $0["dispatch_id"] as? String == d["dispatch_id"] as? String })
        #expect(toAgency.last?["level"] as? Int == 2)
        let toCentre = try Self.notices(ops, count: 2, timeout: 1)
        #expect(toCentre.map { $0["kind"] as? String } == ["supervise"])
        let (_, result, _) = try intake.request(.query, ["what": "case", "case_id": caseID])
        let escalations = (result["timeline"] as! [[String: Any]]).filter { $0["type"] as? String == "case.escalated" }
        #expect(escalations.count == 2, "each rung is an event on the case's record")
    }

    @Test func aRungDueWhileTheBrokerWasDownFiresOnceAfterTheRestart() throws {
        let h = try BrokerHarness(resend: 0.5, configure: Self.quick(ack: 1))
        defer { h.stop() }
        let intake = try TestPeer(h.endpoint, name: "in")
        _ = try intake.hello(adapter: "hotline-r2", roles: ["intake"])
        _ = try intake.request(.submit, ["case": BrokerTests.caseBody("down-1")])
        h.stopOnly()
        Thread.sleep(forTimeInterval: 1.2)  // the deadline passes while the broker is down: that is the test
        try h.startAgain()
        let reli = try TestPeer(h.endpoint, name: "reli")
        _ = try reli.hello(adapter: "reli-r2", roles: ["agency"], agency: "reli")
        let got = try Self.notices(reli, count: 3, timeout: 2)
        #expect(got.map { $0["kind"] as? String } == ["remind", "supervise"], "each overdue rung once, not once per missed interval")
        #expect(got.last?["overdue_by"] is String)
        #expect(try h.store.verifyLog().ok)
    }

    @Test func aThousandRungsDueInTheSameSecondAllFire() throws {
        let h = try BrokerHarness(resend: 5, configure: Self.quick(ack: 1))
        defer { h.stop() }
        let intake = try TestPeer(h.endpoint, name: "in")
        _ = try intake.hello(adapter: "hotline-k", roles: ["intake"])
        let ops = try TestPeer(h.endpoint, name: "ops")
        _ = try ops.hello(adapter: "ops-k", roles: ["ops"], window: 5000)
        for i in 0..<1000 { try intake.send(.submit, ["id": "k\(i)", "case": BrokerTests.caseBody("k-\(i)")]) }
        var accepted = 0
        while accepted < 1000, let m = try intake.next(timeout: 10) { if m.0 == .accepted { accepted += 1 } }
        #expect(accepted == 1000)
        var cases = Set<String>()
        let deadline = Date().addingTimeInterval(15)
        while cases.count < 1000, Date() < deadline {
            try ops.send(.heartbeat, [:])
            guard let n = try ops.push(.notice, timeout: 0.5) else { continue }
            cases.insert(n["case_id"] as! String)
            try ops.received([n["delivery"] as! String])
        }
        #expect(cases.count == 1000)
    }
}
