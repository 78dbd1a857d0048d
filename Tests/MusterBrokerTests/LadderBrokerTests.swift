import Foundation
import MusterTesting
import MusterConfig
import MusterCore
import Testing
import MusterWire

/// Ladders against the real broker on a clock the test moves (MusterTesting's ManualClock): a
/// department that never signs is reminded, then supervised, in order, exactly once — across a
/// restart too. Nothing waits for time to pass; the tests wait for NOTICEs on sockets.
@Suite(.serialized) struct LadderBrokerTests {
    /// Heartbeats and resends on the same clock: long, so that moving it by an hour drops no peer
    /// and resends nothing.
    static func broker(_ clock: ManualClock, resend: Double = 86_400) throws -> BrokerHarness {
        try BrokerHarness(heartbeat: 86_400, resend: resend, clock: clock, configure: Self.quick(ack: 60))
    }

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
    /// have come or `timeout` (real seconds, a bound on a broken test) passes, acknowledging each.
    static func notices(_ p: TestPeer, count: Int, timeout: Double) throws -> [[String: Any]] {
        var got: [[String: Any]] = []
        var seen = Set<String>()
        let deadline = Date().addingTimeInterval(timeout)
        while got.count < count, Date() < deadline {
            if let n = try p.push(.notice, timeout: max(0.001, deadline.timeIntervalSinceNow)) {
                let delivery = n["delivery"] as! String
                if seen.insert(delivery).inserted { got.append(n) }
                try p.received([delivery])
            }
        }
        return got
    }

    @Test func aDepartmentThatNeverSignsIsRemindedThenSupervisedOnce() throws {
        let clock = ManualClock()
        let h = try Self.broker(clock)
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
        clock.advance(seconds: 29)
        #expect(try reli.push(.notice, timeout: 0.3) == nil, "nothing before half the window")
        clock.advance(seconds: 1)
        let remind = try Self.notices(reli, count: 1, timeout: 5)
        #expect(remind.map { $0["kind"] as? String } == ["remind"], "催办 at half the window")
        clock.advance(seconds: 30)
        let supervise = try Self.notices(reli, count: 1, timeout: 5)
        clock.advance(seconds: 3600)
        #expect(try reli.push(.notice, timeout: 0.3) == nil, "each rung once")
        let toAgency = remind + supervise
        #expect(toAgency.map { $0["kind"] as? String } == ["remind", "supervise"], "催办 then 督办, each once")
        #expect(toAgency.allSatisfy { $0["case_id"] as? String == caseID && $0["dispatch_id"] as? String == d["dispatch_id"] as? String })
        #expect(toAgency.last?["level"] as? Int == 2)
        let toCentre = try Self.notices(ops, count: 1, timeout: 5)
        #expect(try ops.push(.notice, timeout: 0.3) == nil)
        #expect(toCentre.map { $0["kind"] as? String } == ["supervise"])
        let (_, result, _) = try intake.request(.query, ["what": "case", "case_id": caseID])
        let escalations = (result["timeline"] as! [[String: Any]]).filter { $0["type"] as? String == "case.escalated" }
        #expect(escalations.count == 2, "each rung is an event on the case's record")
    }

    /// A staged limit over the wire: the DISPATCH carries the stages, each stage's 督办 names it,
    /// the order holds across a restart, and RESOLVE waits for the last stage.
    @Test func eachStageOfAStagedLimitRunsItsOwnClockAcrossARestart() throws {
        let clock = ManualClock()
        let h = try BrokerHarness(heartbeat: 86_400, resend: 86_400, clock: clock) { cfg in
            cfg.rules.sla.rules = [SLAPolicy.Rule(name: "stages", categories: ["heating_not_warm"], windows: [.resolve: Period(1, .d)],
                                                  milestones: [.init(name: "停工", within: Period(60, .s)), .init(name: "处罚", within: Period(120, .s)),
                                                               .init(name: "拆除", within: Period(600, .s))])]
            cfg.rules.sla.ladders = [.milestone: [.init(at: .percent(100), notice: "supervise", to: ["agency"], level: 2)]]
        }
        defer { h.stop() }
        let intake = try TestPeer(h.endpoint, name: "in")
        _ = try intake.hello(adapter: "hotline-ms", roles: ["intake"])
        var reli = try TestPeer(h.endpoint, name: "reli")
        _ = try reli.hello(adapter: "reli-ms", roles: ["agency"], agency: "reli")
        _ = try intake.request(.submit, ["case": BrokerTests.caseBody("ms-1")])
        let d = try #require(try reli.push(.dispatch))
        try reli.received([d["delivery"] as! String])
        let id = d["dispatch_id"] as! String
        let stages = try #require((d["due"] as? [String: Any])?["milestones"] as? [[String: Any]])
        #expect(stages.map { $0["name"] as? String } == ["停工", "处罚", "拆除"] && stages[0]["due_by"] is String && stages[1]["due_by"] == nil)
        #expect(try reli.request(.ack, ["dispatch_id": id]).0 == .ok)
        #expect(try reli.request(.progress, ["dispatch_id": id, "note": "阶段完成：停工", "milestone": "停工"]).0 == .ok)

        h.stopOnly()
        try h.startAgain()
        reli = try TestPeer(h.endpoint, name: "reli2")
        _ = try reli.hello(adapter: "reli-ms", roles: ["agency"], agency: "reli")
        let (code, error, _) = try reli.request(.progress, ["dispatch_id": id, "milestone": "拆除"])
        #expect(code == .error && error["code"] as? String == "invalid_transition" && (error["message"] as? String)?.contains("comes after 处罚") == true,
                "the stages reached come back from the store")
        clock.advance(seconds: 121)
        let late = try Self.notices(reli, count: 1, timeout: 5)
        #expect(late.first?["clock"] as? String == "milestone" && late.first?["milestone"] as? String == "处罚", "督办 names the stage running late")
        #expect(try reli.request(.resolve, ["dispatch_id": id]).0 == .error, "RESOLVE waits for every stage")
        #expect(try reli.request(.progress, ["dispatch_id": id, "milestone": "处罚"]).0 == .ok)
        #expect(try reli.request(.progress, ["dispatch_id": id, "milestone": "拆除"]).0 == .ok)
        #expect(try reli.request(.resolve, ["dispatch_id": id]).0 == .ok)
        #expect(try h.store.verifyLog().ok)
    }

    @Test func aRungDueWhileTheBrokerWasDownFiresOnceAfterTheRestart() throws {
        let clock = ManualClock()
        let h = try Self.broker(clock)
        defer { h.stop() }
        let intake = try TestPeer(h.endpoint, name: "in")
        _ = try intake.hello(adapter: "hotline-r2", roles: ["intake"])
        _ = try intake.request(.submit, ["case": BrokerTests.caseBody("down-1")])
        h.stopOnly()
        clock.advance(seconds: 300)  // both rungs come due while the broker is down: that is the test
        try h.startAgain()
        let reli = try TestPeer(h.endpoint, name: "reli")
        _ = try reli.hello(adapter: "reli-r2", roles: ["agency"], agency: "reli")
        var got = try Self.notices(reli, count: 2, timeout: 5)
        clock.advance(seconds: 3600)
        got += try Self.notices(reli, count: 1, timeout: 0.3)
        #expect(got.map { $0["kind"] as? String } == ["remind", "supervise"], "each overdue rung once, not once per missed interval")
        #expect(got.last?["overdue_by"] is String)
        #expect(try h.store.verifyLog().ok)
    }

    @Test func aThousandRungsDueInTheSameSecondAllFire() throws {
        let clock = ManualClock()
        let h = try Self.broker(clock)
        defer { h.stop() }
        let intake = try TestPeer(h.endpoint, name: "in")
        _ = try intake.hello(adapter: "hotline-k", roles: ["intake"])
        let ops = try TestPeer(h.endpoint, name: "ops")
        _ = try ops.hello(adapter: "ops-k", roles: ["ops"], window: 5000)
        for i in 0..<1000 { try intake.send(.submit, ["id": "k\(i)", "case": BrokerTests.caseBody("k-\(i)")]) }
        var accepted = 0
        while accepted < 1000, let m = try intake.next(timeout: 10) { if m.0 == .accepted { accepted += 1 } }
        #expect(accepted == 1000)
        clock.advance(seconds: 60)   // every 督办 of the 1,000 cases is due now
        var cases = Set<String>()
        // A bound, not a timing: ~2,000 facts to commit and 1,000 RECEIVEDs on a loaded 2-core box.
        let deadline = Date().addingTimeInterval(60)
        while cases.count < 1000, Date() < deadline {
            guard let n = try ops.push(.notice, timeout: 0.5) else { continue }
            cases.insert(n["case_id"] as! String)
            try ops.received([n["delivery"] as! String])
        }
        #expect(cases.count == 1000)
    }
}
