import Foundation
import MusterTesting
import MusterConfig
import MusterCore
import Testing
import MusterWire

/// 吹哨报到 through the real broker over real sockets, on a clock the test moves: SUMMON stored
/// and redelivered until RECEIVED, REPORT, 事不完、人不撤, and the `whistle` ladder firing each
/// rung once, to the department, its supervisor, the street that whistled and the district,
/// across a restart too.
@Suite(.serialized) struct WhistleBrokerTests {
    static func broker(_ clock: ManualClock, path: String? = nil) throws -> BrokerHarness {
        try BrokerHarness(heartbeat: 86_400, resend: 86_400, path: path, clock: clock)
    }

    @Test func aWhistleGoesThroughSummonReportAndStandDown() throws {
        let clock = ManualClock()
        let h = try Self.broker(clock)
        defer { h.stop() }
        let street = try TestPeer(h.endpoint, name: "street")
        _ = try street.hello(adapter: "jiefanglu-street", roles: ["grid"])
        let cg = try TestPeer(h.endpoint, name: "cg")
        _ = try cg.hello(adapter: "chengguan-w", roles: ["agency"], agency: "chengguan")
        let (command, ok, _) = try street.request(.whistle, ["grid": "zz/erqi/jiefanglu", "reason": "占道经营与违停交织，需联合执法",
                                                              "kind": "enforcement", "summon": ["chengguan", "gongan"], "report_within": "30m"])
        #expect(command == .ok && ok["summoned"] as? [String] == ["chengguan", "gongan"] && ok["report_by"] is String)
        let w = try #require(ok["whistle_id"] as? String)
        let summon = try #require(try cg.push(.summon))
        #expect(summon["whistle_id"] as? String == w && summon["summon_id"] as? String == "\(w)/chengguan")
        #expect(summon["grid_name"] as? String == "郑州市 / 二七区 / 解放路街道" && summon["blown_by"] as? String == "jiefanglu-street")
        // 公安 connects late: its SUMMON was stored and waits for it; unreceived, it comes again at its next HELLO.
        let ga = try TestPeer(h.endpoint, name: "ga")
        _ = try ga.hello(adapter: "gongan-w", roles: ["agency"], agency: "gongan")
        let first = try #require(try ga.push(.summon))
        _ = try ga.hello(adapter: "gongan-w", roles: ["agency"], agency: "gongan")
        let again = try #require(try ga.push(.summon))
        #expect(again["delivery"] as? String == first["delivery"] as? String, "redelivered until RECEIVED")
        try ga.received([first["delivery"] as! String])
        try cg.received([summon["delivery"] as! String])

        clock.advance(seconds: 600)
        let enRoute = try cg.request(.report, ["whistle_id": w, "status": "en_route", "note": "出发"])
        #expect(enRoute.0 == .ok && enRoute.1["state"] as? String == "en_route")
        let onSite = try cg.request(.report, ["whistle_id": w, "status": "on_site", "note": "已到场", "lat": 34.7533, "lon": 113.6653])
        #expect(onSite.0 == .ok && onSite.1["on_time"] as? Bool == true)
        let notSummoned = try TestPeer(h.endpoint, name: "zj")
        _ = try notSummoned.hello(adapter: "zhujian-w", roles: ["agency"], agency: "zhujian")
        #expect(try notSummoned.request(.report, ["whistle_id": w, "status": "on_site"]).1["code"] as? String == "forbidden")
        #expect(try cg.request(.standDown, ["whistle_id": w]).1["code"] as? String == "forbidden", "an agency does not stand a whistle down")
        clock.advance(seconds: 25 * 60)  // past report_by: 公安 never came
        let down = try street.request(.standDown, ["whistle_id": w, "note": "秩序恢复"])
        #expect(down.0 == .ok && down.1["state"] as? String == "closed")

        let (_, result, _) = try street.request(.query, ["what": "whistle", "whistle_id": w])
        let record = try #require(result["whistle"] as? [String: Any])
        let summons = try #require(record["summons"] as? [[String: Any]])
        #expect(record["state"] as? String == "closed")
        #expect(summons.map { $0["state"] as? String } == ["stood_down", "stood_down"])
        #expect(summons[0]["on_site_at"] is String && summons[0]["lat"] as? Double == 34.7533 && summons[1]["on_site_at"] == nil)
        let types = (result["timeline"] as! [[String: Any]]).compactMap { $0["type"] as? String }
        // (公安's rungs fire as the clock passes 20 and 30 min; when, relative to the stand-down, is the broker's.)
        #expect(types.filter { $0.hasPrefix("whistle.") && $0 != "whistle.escalated" } == ["whistle.blown", "whistle.summoned", "whistle.summoned",
                                                             "whistle.reported", "whistle.reported", "whistle.stood_down"])
        let (_, stats, _) = try street.request(.query, ["what": "stats"])
        let departments = try #require((stats["whistles"] as? [String: Any])?["departments"] as? [[String: Any]])
        #expect(departments.first { $0["agency"] as? String == "chengguan" }?["on_time"] as? Int == 1)
        #expect(departments.first { $0["agency"] as? String == "gongan" }?["never"] as? Int == 1)
        #expect(try h.store.verifyLog().ok)
    }

    @Test func standDownWaitsForTheCaseUnlessTheCentreOverrides() throws {
        let clock = ManualClock()
        let h = try Self.broker(clock)
        defer { h.stop() }
        let intake = try TestPeer(h.endpoint, name: "in")
        _ = try intake.hello(adapter: "hotline-w", roles: ["intake"])
        let street = try TestPeer(h.endpoint, name: "street")
        _ = try street.hello(adapter: "street-w", roles: ["grid"])
        let ops = try TestPeer(h.endpoint, name: "ops")
        _ = try ops.hello(adapter: "ops-w", roles: ["ops"])
        let caseID = try intake.request(.submit, ["case": BrokerTests.caseBody("wh-case-1")]).1["case_id"] as! String
        let ok = try street.request(.whistle, ["grid": "zz/erqi/jiefanglu", "reason": "联合执法", "kind": "enforcement", "case_id": caseID]).1
        let w = try #require(ok["whistle_id"] as? String)
        #expect(ok["summoned"] as? [String] == ["reli"], "the case's lead (暖气不热 has no assists)")
        let seq = h.store.lastSeq
        let refused = try street.request(.standDown, ["whistle_id": w])
        #expect(refused.0 == .error && refused.1["code"] as? String == "invalid_transition")
        #expect((refused.1["detail"] as? [String: Any])?["state"] as? String == "dispatched")
        #expect(try street.request(.standDown, ["whistle_id": w, "override": "x"]).1["code"] as? String == "forbidden")
        #expect(h.store.lastSeq == seq, "refusals wrote nothing")
        let overridden = try ops.request(.standDown, ["whistle_id": w, "override": "现场秩序已恢复，转常规处置"])
        #expect(overridden.0 == .ok && overridden.1["state"] as? String == "closed")
        let timeline = try intake.request(.query, ["what": "case", "case_id": caseID]).1["timeline"] as! [[String: Any]]
        #expect(timeline.contains { $0["type"] as? String == "whistle.stood_down" }, "the whistle's steps are on the case's record")
    }

    @Test func aDepartmentThatNeverReportsGetsEachRungOnceAcrossARestart() throws {
        let clock = ManualClock()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("muster-wh-\(UUID().uuidString)/w.db").path
        let h = try Self.broker(clock, path: path)
        defer { h.stop() }
        let street = try TestPeer(h.endpoint, name: "street")
        _ = try street.hello(adapter: "jiefanglu-street", roles: ["grid"])
        let w = try street.request(.whistle, ["grid": "zz/erqi/jiefanglu", "reason": "道路塌陷", "kind": "emergency",
                                              "summon": ["zhujian", "chengguan"]]).1["whistle_id"] as! String
        let cg = try TestPeer(h.endpoint, name: "cg")
        _ = try cg.hello(adapter: "chengguan-r", roles: ["agency"], agency: "chengguan")
        _ = try cg.request(.report, ["whistle_id": w, "status": "on_site"])
        let zj = try TestPeer(h.endpoint, name: "zj")
        _ = try zj.hello(adapter: "zhujian-r", roles: ["agency"], agency: "zhujian")
        let s = try #require(try zj.push(.summon))
        try zj.received([s["delivery"] as! String])
        clock.advance(seconds: 20 * 60)
        let remind = try LadderBrokerTests.notices(zj, count: 1, timeout: 5)
        #expect(remind.map { $0["kind"] as? String } == ["remind"] && remind.first?["whistle_id"] as? String == w)
        #expect(remind.first?["clock"] as? String == "whistle" && remind.first?["summon_id"] as? String == "\(w)/zhujian")
        // Its RECEIVED is read before the broker goes down (a reply on the same connection), and a
        // stopping broker writes what it has read (else the 催办 comes again: at least once).
        #expect(try zj.request(.query, ["what": "stats"]).0 == .result)
        // Down before 督办 is due; up again after it and 通报 are both due: each fires once.
        h.stopOnly()
        clock.advance(seconds: 40 * 60)
        try h.startAgain()
        let zj2 = try TestPeer(h.endpoint, name: "zj2")
        _ = try zj2.hello(adapter: "zhujian-r", roles: ["agency"], agency: "zhujian")
        let streetAgain = try TestPeer(h.endpoint, name: "street2")
        _ = try streetAgain.hello(adapter: "jiefanglu-street", roles: ["grid"])
        let district = try TestPeer(h.endpoint, name: "district")
        try district.send(.hello, ["id": "h-d", "adapter": "erqi-district", "roles": ["supervisor"], "jurisdictions": ["zz/erqi"]])
        #expect(try district.next()?.0 == .welcome)
        let supervise = try LadderBrokerTests.notices(zj2, count: 1, timeout: 5)
        #expect(supervise.map { $0["kind"] as? String } == ["supervise"])
        #expect(try LadderBrokerTests.notices(streetAgain, count: 1, timeout: 5).map { $0["kind"] as? String } == ["supervise"],
                "督办 to the street that whistled")
        // A supervisor with no agency of its own also hears every department's 督办 (PROTOCOL.md, D14).
        #expect(try LadderBrokerTests.notices(district, count: 2, timeout: 5).map { $0["kind"] as? String ?? "" }.sorted() == ["report_overdue", "supervise"],
                "通报 to the district")
        clock.advance(seconds: 3600)
        #expect(try zj2.push(.notice, timeout: 0.3) == nil, "each rung once")
        let timeline = try streetAgain.request(.query, ["what": "whistle", "whistle_id": w]).1["timeline"] as! [[String: Any]]
        let rungs = timeline.filter { $0["type"] as? String == "whistle.escalated" }
        #expect(rungs.count == 3 && rungs.allSatisfy { (($0["data"] as? [String: Any])?["rung"] as? [String: Any])?["agency"] as? String == "zhujian" },
                "three rungs, all zhujian's: chengguan was on site")
        #expect(try h.store.verifyLog().ok)
    }
}
