import Foundation
import Testing
import MusterStore
import MusterTesting
import MusterWire

/// 信访 through a real broker (ZeroMQ, SQLite, the shipped config): the petitioner's identity
/// never reaches the unit the petition is about, and only the handling unit's desk sees it whole —
/// asserted on the bytes of DISPATCHes, events, QUERY results and the stored log.
@Suite struct PetitionBrokerTests {
    static let name = "王五", phone = "13812345678", idNumber = "11010519491231002X"

    static func petition(_ ref: String, category: String, about: [String]) -> [String: Any] {
        ["source": "petition", "external_ref": ref, "category": category, "title": "反映执法人员态度粗暴",
         "description": "2026年11月在解放路被执法人员推搡", "location": ["grid": "zz/erqi/jiefanglu", "address": "解放路100号"],
         "reporter": ["name": name, "phone": phone, "id_number": idNumber], "petition": ["about": about]]
    }

    static func contains(_ bytes: [UInt8], _ text: String) -> Bool {
        String(decoding: bytes, as: UTF8.self).contains(text)
    }

    static func identity(in bytes: [UInt8]) -> [String] {
        [name, phone, idNumber].filter { contains(bytes, $0) }
    }

    @Test func thePetitionersIdentityGoesOnlyToTheHandlingDesk() throws {
        let h = try BrokerHarness()
        defer { h.stop() }
        let office = try TestPeer(h.endpoint, name: "xf")
        _ = try office.hello(adapter: "petition-office", roles: ["intake"])
        let ops = try TestPeer(h.endpoint, name: "ops")
        _ = try ops.hello(adapter: "ops-1", roles: ["ops"])
        let monitor = try TestPeer(h.endpoint, name: "mon")
        _ = try monitor.hello(adapter: "screen-1", roles: ["monitor"])
        #expect(try monitor.request(.subscribe, ["after": 0]).0 == .ok)
        let gongan = try TestPeer(h.endpoint, name: "ga")
        _ = try gongan.hello(adapter: "gongan-1", roles: ["agency"], agency: "gongan")
        let chengguan = try TestPeer(h.endpoint, name: "cg")
        _ = try chengguan.hello(adapter: "chengguan-1", roles: ["agency"], agency: "chengguan")
        let zhujian = try TestPeer(h.endpoint, name: "zj")
        _ = try zhujian.hello(adapter: "zhujian-1", roles: ["agency"], agency: "zhujian")

        // A petition about 城管, routed to 公安 (违停's lead), whose desk calls reporters back.
        let (cmd, accepted, _) = try office.request(.submit, ["case": Self.petition("XF-P1", category: "illegal_parking", about: ["chengguan"])])
        #expect(cmd == .accepted)
        let c1 = try #require(accepted["case_id"] as? String)
        let (_, whole, wholeBytes) = try #require(try gongan.next())
        #expect((whole["case"] as? [String: Any])?["case_id"] as? String == c1)
        #expect(Self.identity(in: wholeBytes) == [Self.name, Self.phone, Self.idNumber], "the handling unit's desk sees the petitioner whole")
        try gongan.received([whole["delivery"] as! String])

        // A petition about 城管 in 城管's own category: routing passes 城管 over; nobody is left, so it
        // waits for the centre, which may not give it to 城管 either.
        let (_, second, _) = try office.request(.submit, ["case": Self.petition("XF-P2", category: "street_vending", about: ["chengguan"])])
        let c2 = try #require(second["case_id"] as? String)
        #expect(second["state"] as? String == "triage")
        let toAccused = try ops.request(.assign, ["case_id": c2, "lead": "chengguan", "note": "x"])
        #expect(toAccused.1["code"] as? String == "forbidden")
        #expect(try ops.request(.assign, ["case_id": c2, "lead": "gongan", "assists": ["zhujian"], "note": "会商决定"]).0 == .ok)
        let (_, assist, assistBytes) = try #require(try zhujian.next())
        #expect(Self.identity(in: assistBytes).isEmpty, "an assist sees the mask")
        let reporter = try #require((assist["case"] as? [String: Any])?["reporter"] as? [String: Any])
        #expect(reporter["name"] as? String == "王*" && reporter["phone"] as? String == "138****5678"
                && reporter["id_number"] as? String == "1101************2X" && reporter["masked"] as? Bool == true)
        try zhujian.received([assist["delivery"] as! String])
        let (_, lead2, lead2Bytes) = try #require(try gongan.next())
        #expect((lead2["case"] as? [String: Any])?["case_id"] as? String == c2 && Self.identity(in: lead2Bytes).count == 3)
        try gongan.received([lead2["delivery"] as! String])

        #expect(try chengguan.next(timeout: 1) == nil, "the accused unit is sent nothing at all")

        // Events, QUERY results and the stored log carry no identity.
        var events: [[UInt8]] = []
        while let (command, e, bytes) = try monitor.next(timeout: 1), command == .event {
            events.append(bytes)
            try monitor.received([e["delivery"] as! String])
        }
        #expect(events.count >= 8)
        #expect(events.allSatisfy { Self.identity(in: $0).isEmpty }, "no event names the petitioner")
        #expect(events.contains { Self.contains($0, "\"petition\":{\"state\":\"registered\"") })
        #expect(!events.contains { Self.contains($0, "repeat_key") }, "not even the digest leaves the broker")
        for c in [c1, c2] {
            let (_, _, query) = try ops.request(.query, ["what": "case", "case_id": c])
            #expect(Self.identity(in: query).isEmpty && Self.contains(query, "\"about\":[\"chengguan\"]"))
        }
        let logged = try h.store.facts(after: 0, limit: 1000)
        #expect(!logged.isEmpty && logged.allSatisfy { Self.identity(in: $0.data).isEmpty })

        // The accused unit does not read the accusation either: its QUERY is refused, its
        // subscription and case lists skip the petitions (the handling unit sees its own).
        #expect(try chengguan.request(.query, ["what": "case", "case_id": c1]).1["code"] as? String == "forbidden")
        let (_, listed, _) = try chengguan.request(.query, ["what": "cases", "source": "petition"])
        #expect((listed["cases"] as? [[String: Any]])?.isEmpty == true)
        #expect(try gongan.request(.query, ["what": "case", "case_id": c1]).0 == .result)
        #expect(try chengguan.request(.subscribe, ["after": 0]).0 == .ok)
        var seen: [String] = []
        while let (command, e, _) = try chengguan.next(timeout: 1), command == .event {
            seen.append(e["case_id"] as? String ?? "")
            try chengguan.received([e["delivery"] as! String])
        }
        #expect(!seen.contains(c1) && !seen.contains(c2), "no event of a petition about it")
    }

    @Test func aPetitionMovesOnItsOwnCourseThroughTheBroker() throws {
        let h = try BrokerHarness()
        defer { h.stop() }
        let office = try TestPeer(h.endpoint, name: "xf")
        _ = try office.hello(adapter: "petition-office", roles: ["intake"])
        let gongan = try TestPeer(h.endpoint, name: "ga")
        _ = try gongan.hello(adapter: "gongan-1", roles: ["agency"], agency: "gongan")
        let (_, accepted, _) = try office.request(.submit, ["case": Self.petition("XF-P3", category: "illegal_parking", about: [])])
        let c = try #require(accepted["case_id"] as? String)
        let dispatch = try #require(try gongan.push())
        try gongan.received([dispatch["delivery"] as! String])
        let d = try #require(dispatch["dispatch_id"] as? String)

        let told = try office.request(.petition, ["case_id": c, "act": "notify",
                                                  "document": ["kind": "acceptance", "number": "郑信转〔2026〕118号", "url": "https://xf.example/118.pdf"]])
        #expect(told.0 == .ok)
        let notices = try #require((told.1["petition"] as? [String: Any])?["notices"] as? [[String: Any]])
        #expect(notices.first?["kind_zh"] as? String == "受理告知书")
        #expect(try gongan.request(.return, ["dispatch_id": d, "reason": "not_our_duty"]).1["code"] as? String == "return_refused")
        #expect(try office.request(.petition, ["case_id": c, "act": "object", "reason": "x"]).1["code"] as? String == "forbidden")
        #expect(try gongan.request(.ack, ["dispatch_id": d]).0 == .ok)
        #expect(try gongan.request(.resolve, ["dispatch_id": d, "result": "已处理"]).0 == .ok)
        let reply = try gongan.request(.petition, ["case_id": c, "act": "notify", "document": ["kind": "reply", "number": "郑公复〔2026〕7号"]])
        let record = try #require(reply.1["petition"] as? [String: Any])
        #expect(record["state"] as? String == "replied" && record["window_closes"] is String)
        let review = try office.request(.petition, ["case_id": c, "act": "request_review", "reason": "对答复不服"])
        #expect((review.1["petition"] as? [String: Any])?["state"] as? String == "reviewing")
        let bad = try office.request(.petition, ["case_id": c, "act": "notify", "document": ["kind": "recheck"]])
        #expect(bad.1["code"] as? String == "invalid_transition" && (bad.1["detail"] as? [String: Any])?["state"] as? String == "reviewing")
        let noDocument = try office.request(.petition, ["case_id": c, "act": "notify"])
        #expect(noDocument.1["code"] as? String == "bad_field" && (noDocument.1["detail"] as? [String: Any])?["field"] as? String == "document")

        // After a restart the petition is where it was, and its repeat still merges into it.
        try h.restart()
        let office2 = try TestPeer(h.endpoint, name: "xf2")
        _ = try office2.hello(adapter: "petition-office", roles: ["intake"])
        let (_, repeated, _) = try office2.request(.submit, ["case": Self.petition("XF-P4", category: "illegal_parking", about: [])])
        #expect(repeated["state"] as? String == "merged" && repeated["merged_into"] as? String == c)
        #expect((repeated["standing"] as? [String: Any])?["state"] as? String == "reviewing", "told where the first stands (Art. 19)")
    }
}
