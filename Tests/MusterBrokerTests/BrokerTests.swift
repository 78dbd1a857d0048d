import Foundation
import MusterTesting
import Testing
@testable import MusterBroker
import MusterStore
import MusterWire

/// The real broker over real sockets and a real SQLite file.
@Suite(.serialized) struct BrokerTests {
    static func caseBody(_ ref: String, category: String = "heating_not_warm", address: String? = nil) -> [String: Any] {
        var location: [String: Any] = ["grid": "zz/erqi/jiefanglu/minzhulu"]
        if let address { location["address"] = address }
        return ["source": "hotline_12345", "external_ref": ref, "category": category, "title": "暖气不热",
                "priority": "normal", "location": location, "reporter": ["name": "李四", "phone": "13812345678"]]
    }

    @Test func aCaseGoesRoundTheLoopOverTheWire() throws {
        let h = try BrokerHarness()
        defer { h.stop() }
        let intake = try TestPeer(h.endpoint, name: "in")
        let welcome = try intake.hello(adapter: "hotline-12345", roles: ["intake"])
        #expect(welcome["heartbeat_ms"] as? Int == 5000)
        let agency = try TestPeer(h.endpoint, name: "reli")
        _ = try agency.hello(adapter: "reli-1", roles: ["agency"], agency: "reli")
        let grid = try TestPeer(h.endpoint, name: "grid")
        _ = try grid.hello(adapter: "grid-erqi-1", roles: ["grid"])

        let (c, accepted, _) = try intake.request(.submit, ["case": Self.caseBody("h-1")])
        #expect(c == .accepted && accepted["state"] as? String == "dispatched")
        let caseID = try #require(accepted["case_id"] as? String)
        let dispatch = try #require(try agency.push(.dispatch))
        let inner = try #require(dispatch["case"] as? [String: Any])
        #expect(inner["case_id"] as? String == caseID && inner["title"] as? String == "暖气不热")
        #expect(inner["category"] as? String == "heating_not_warm" && inner["grid"] as? String == "zz/erqi/jiefanglu/minzhulu")
        #expect((inner["reporter"] as? [String: Any])?["phone"] as? String == "13812345678", "the case passes through as submitted")
        #expect((dispatch["due"] as? [String: Any])?["ack_by"] is String)
        try agency.received([dispatch["delivery"] as! String])
        let did = dispatch["dispatch_id"] as! String

        #expect(try agency.request(.ack, ["dispatch_id": did, "handler": "王师傅"]).1["state"] as? String == "handling")
        #expect(try agency.request(.progress, ["dispatch_id": did, "note": "已到现场"]).1["state"] as? String == "handling")
        #expect(try agency.request(.resolve, ["dispatch_id": did, "result": "阀门已修复"]).1["state"] as? String == "finished")
        #expect(try grid.request(.verify, ["case_id": caseID, "passed": true]).1["state"] as? String == "verified")
        #expect(try intake.request(.evaluate, ["case_id": caseID, "satisfaction": "satisfied"]).1["state"] as? String == "closed")

        let (rc, result, _) = try intake.request(.query, ["what": "case", "case_id": caseID])
        #expect(rc == .result)
        let all = (result["timeline"] as? [[String: Any]])?.compactMap { $0["type"] as? String } ?? []
        #expect(all.filter { $0 != "clock.scheduled" } == ["case.accepted", "case.dispatched", "dispatch.acked", "dispatch.progress",
                                                          "case.resolved", "case.verified", "case.evaluated", "case.closed"])
        // The dispatch started its clocks (签收, 办结); finishing started verification and the call-back.
        #expect(all.firstIndex(of: "clock.scheduled") == 2 && all.lastIndex(of: "clock.scheduled") == 6)
        #expect(try h.store.pendingPushes().isEmpty, "RECEIVED deleted the push")
        #expect(try h.store.verifyLog().ok)
    }

    @Test func reportersAreShownOnlyToAgenciesThatCallThem() throws {
        let h = try BrokerHarness()
        defer { h.stop() }
        let intake = try TestPeer(h.endpoint, name: "in")
        _ = try intake.hello(adapter: "hotline-p", roles: ["intake"])
        let reli = try TestPeer(h.endpoint, name: "reli")
        _ = try reli.hello(adapter: "reli-p", roles: ["agency"], agency: "reli")
        let cg = try TestPeer(h.endpoint, name: "cg")
        _ = try cg.hello(adapter: "chengguan-p", roles: ["agency"], agency: "chengguan")
        _ = try intake.request(.submit, ["case": Self.caseBody("p-1", category: "street_vending")])
        let toChengguan = try #require(try cg.push(.dispatch))
        let masked = (toChengguan["case"] as? [String: Any])?["reporter"] as? [String: Any]
        #expect(masked?["phone"] as? String == "138****5678" && masked?["name"] as? String == "李*")
        var anonymous = Self.caseBody("p-2")
        anonymous["reporter"] = ["name": "王五", "phone": "13900000000", "anonymous": true]
        _ = try intake.request(.submit, ["case": anonymous])
        let toReli = try #require(try reli.push(.dispatch))
        #expect((toReli["case"] as? [String: Any])?["reporter"] as? [String: Any] as NSDictionary? == ["anonymous": true] as NSDictionary)
        let (_, result, raw) = try intake.request(.query, ["what": "case", "case_id": toReli["case"].flatMap { ($0 as? [String: Any])?["case_id"] } as Any])
        #expect(result["case"] != nil && !String(decoding: raw, as: UTF8.self).contains("13900000000"), "QUERY never shows a phone")
    }

    @Test func badInputGetsThePreciseErrorAndChangesNothing() throws {
        let h = try BrokerHarness()
        defer { h.stop() }
        let p = try TestPeer(h.endpoint, name: "bad")
        func expectError(_ frames: [[UInt8]], _ code: String, field: String? = nil) throws {
            try p.sendRaw(frames)
            let m = try #require(try p.next())
            #expect(m.0 == .error, "\(frames.map { String(decoding: $0.prefix(30), as: UTF8.self) })")
            #expect(m.1["code"] as? String == code, "\(m.1)")
            if let field { #expect((m.1["detail"] as? [String: Any])?["field"] as? String == field) }
        }
        let v = Array("MUSTER/1".utf8)
        func b(_ s: String) -> [UInt8] { Array(s.utf8) }
        try expectError([v, b("SUBMIT"), b(#"{"id":"x"}"#)], "not_registered")
        _ = try p.hello(adapter: "hotline-bad", roles: ["intake", "grid"])
        try expectError([v, b("SUBMIT")], "bad_frame")
        try expectError([b("MUSTER/0"), b("SUBMIT"), b("{}")], "bad_version")
        try expectError([v, b("FROBNICATE"), b("{}")], "unknown_command")
        try expectError([v, b("SUBMIT"), b("[]")], "bad_json")
        try expectError([v, b("SUBMIT"), b(#"{"id":"x","case":"#)], "bad_json")
        try expectError([v, b("SUBMIT"), b(#"{"id":"x","case":{"source":"hotline_12345"}}"#)], "bad_field", field: "case.external_ref")
        try expectError([v, b("SUBMIT"), b(#"{"id":"x","case":{"source":"hotline_12345","external_ref":"r","title":"t","location":{"grid":"zz/atlantis"}}}"#)], "bad_field", field: "case.location.grid")
        try expectError([v, b("ACK"), b(#"{"id":"y","dispatch_id":"D1"}"#)], "forbidden")
        try expectError([v, b("SUBMIT"), [UInt8](repeating: 0x20, count: 1_100_000)], "too_large")
        try expectError([v, b("WHISTLE"), b(#"{"id":"w","grid":"zz","reason":"r","kind":"emergency","summon":["gongann"]}"#)], "bad_field", field: "summon[0]")
        try expectError([v, b("WHISTLE"), b(#"{"id":"w2","grid":"zz/atlantis","reason":"r","kind":"emergency"}"#)], "bad_field", field: "grid")
        try expectError([v, b("REPORT"), b(#"{"id":"r","whistle_id":"W0000000001","status":"on_site"}"#)], "forbidden")
        try expectError([v, b("STAND_DOWN"), b(#"{"id":"s","whistle_id":"W0000000009"}"#)], "unknown_whistle")
        #expect(h.store.lastSeq == 0, "no refusal wrote anything")
        // And the broker keeps serving.
        #expect(try p.request(.submit, ["case": Self.caseBody("ok-1")]).0 == .accepted)
    }

    @Test func aRepeatedRequestIDIsAnsweredTheSameAndAppliedOnce() throws {
        let h = try BrokerHarness()
        defer { h.stop() }
        let p = try TestPeer(h.endpoint, name: "dup")
        _ = try p.hello(adapter: "hotline-dup", roles: ["intake"])
        let first = try p.request(.submit, ["case": Self.caseBody("dup-1")], id: "same-id")
        // Same id, different body: still the first answer, nothing new applied.
        let again = try p.request(.submit, ["case": Self.caseBody("dup-2")], id: "same-id")
        #expect(first.2 == again.2)
        // Twice in one batch.
        try p.send(.submit, ["id": "burst", "case": Self.caseBody("dup-3")])
        try p.send(.submit, ["id": "burst", "case": Self.caseBody("dup-3")])
        let r1 = try p.reply(to: "burst"), r2 = try p.reply(to: "burst")
        #expect(r1.2 == r2.2)
        #expect(try h.store.cases(.init()).count == 2)
    }

    /// A reply stored before the broker started is found once the store's ids are known (its
    /// repeat is answered from the store); a new id is decided without reading the store.
    @Test func aRequestIDFromBeforeTheStartIsAnsweredAndANewOneReadsNothing() throws {
        let path = NSTemporaryDirectory() + "ids-\(UUID().uuidString)/b.db"
        do {
            var batch = Batch()
            batch.replies.append(Batch.StoredReply(adapter: "hotline-ids", requestID: "before", command: .accepted,
                                                   body: Array(#"{"re":"before","case_id":"C-earlier"}"#.utf8), at: Date()))
            try Store(path: path).commit(batch)
        }
        let h = try BrokerHarness(path: path)
        defer { h.stop() }
        #expect(h.broker.requestIDScan.waitUntilFinished(1, timeout: 10))
        let p = try TestPeer(h.endpoint, name: "ids")
        _ = try p.hello(adapter: "hotline-ids", roles: ["intake"])
        let reads = h.broker.storedReplyLookups.load(ordering: .relaxed)
        #expect(try p.request(.submit, ["case": Self.caseBody("ids-1")], id: "new-1").0 == .accepted)
        #expect(h.broker.storedReplyLookups.load(ordering: .relaxed) == reads, "a new id: the store not read")
        let again = try p.request(.submit, ["case": Self.caseBody("ids-2")], id: "before")
        #expect(again.1["case_id"] as? String == "C-earlier", "the stored reply, not a new case: \(again.1)")
        #expect(h.broker.storedReplyLookups.load(ordering: .relaxed) == reads + 1)
        #expect(try h.store.cases(.init()).count == 1)
    }

    /// An id the sweep deleted leaves memory with the scan after the sweep: its repeat is not
    /// read from the store (and is applied afresh, as after 7 days it may be); a young id is.
    @Test func anIDTheSweepDeletedLeavesMemoryWithTheNextScan() throws {
        let clock = ManualClock()
        let path = NSTemporaryDirectory() + "swept-\(UUID().uuidString)/b.db"
        do {
            var batch = Batch()
            for (id, daysAgo) in [("young", 1), ("old", 8)] {
                batch.replies.append(Batch.StoredReply(adapter: "hotline-swept", requestID: id, command: .ok, body: Array(#"{"re":"\#(id)"}"#.utf8),
                                                       at: clock.now().adding(ms: -Int64(daysAgo) * 86_400_000)))
            }
            try Store(path: path).commit(batch)
        }
        let h = try BrokerHarness(heartbeat: 30 * 86_400, path: path, clock: clock)
        defer { h.stop() }
        let p = try TestPeer(h.endpoint, name: "swept")
        _ = try p.hello(adapter: "hotline-swept", roles: ["intake"])
        // The start's scan, then the first tick's sweep (which deleted "old"); the scan after the
        // sweep starts when the first is taken, at the latest by this SUBMIT.
        #expect(h.broker.requestIDScan.waitUntilFinished(1, timeout: 10))
        #expect(try p.request(.submit, ["case": Self.caseBody("swept-1")], id: "new").0 == .accepted)
        #expect(try h.store.storedReplies([RequestKey(adapter: "hotline-swept", requestID: "old")]).isEmpty, "swept")
        #expect(h.broker.requestIDScan.waitUntilFinished(2, timeout: 10))
        let reads = h.broker.storedReplyLookups.load(ordering: .relaxed)
        #expect(try p.request(.submit, ["case": Self.caseBody("swept-2")], id: "old").0 == .accepted, "applied afresh")
        #expect(h.broker.storedReplyLookups.load(ordering: .relaxed) == reads, "not read: the scan after the sweep did not see it")
        #expect(try p.request(.submit, ["case": Self.caseBody("swept-3")], id: "young").0 == .ok, "its stored reply")
        #expect(h.broker.storedReplyLookups.load(ordering: .relaxed) == reads + 1)
    }

    /// Replies are kept 7 days, then the hourly sweep forgets them (a slice of the key a tick):
    /// the old id is applied afresh (here: the same report, so the same case), a young one is
    /// still answered byte for byte.
    @Test func aRequestIDOlderThanSevenDaysIsForgottenByTheSweep() throws {
        let clock = ManualClock()
        let h = try BrokerHarness(heartbeat: 30 * 86_400, clock: clock)
        defer { h.stop() }
        let p = try TestPeer(h.endpoint, name: "old")
        _ = try p.hello(adapter: "hotline-old", roles: ["intake"])
        let old = RequestKey(adapter: "hotline-old", requestID: "old-id"), young = RequestKey(adapter: "hotline-old", requestID: "young-id")
        let first = try p.request(.submit, ["case": Self.caseBody("old-1")], id: old.requestID)
        clock.advance(seconds: 7 * 86_400 - 60)
        let kept = try p.request(.submit, ["case": Self.caseBody("young-1")], id: young.requestID)
        clock.advance(seconds: 2 * 3_600)
        // The turn that reads the first QUERY ends with the tick that sweeps; the second is read after it.
        for _ in 0..<2 { _ = try p.request(.query, ["what": "case", "case_id": first.1["case_id"] as? String ?? ""]) }
        #expect(try h.store.storedReplies([old, young]).keys.map(\.requestID) == ["young-id"])
        #expect(try p.request(.submit, ["case": Self.caseBody("young-2")], id: young.requestID).2 == kept.2, "the young id: its first reply")
        let fresh = try p.request(.submit, ["case": Self.caseBody("old-1")], id: old.requestID)
        #expect(fresh.0 == .accepted && fresh.1["case_id"] as? String == first.1["case_id"] as? String)
        #expect(try h.store.storedReplies([old]).count == 1, "stored again, as a new request")
    }

    /// A sweep still under way when the hour comes round goes on from where it is: started over,
    /// a table larger than an hour's slices would never have its end swept. One key a slice
    /// here, two young ids first in the key and an old one third: the broker's first tick takes
    /// the first key, each hour one more, and the old one goes at the second hour.
    @Test func aSweepLongerThanAnHourGoesOnToTheEnd() throws {
        Broker.requestSweepSlice.store(1, ordering: .relaxed)
        defer { Broker.requestSweepSlice.store(2_000, ordering: .relaxed) }
        let clock = ManualClock()
        let path = NSTemporaryDirectory() + "sweep-\(UUID().uuidString)/b.db"
        do {
            let store = try Store(path: path)
            var batch = Batch()
            for (id, daysAgo) in [("a-young", 1), ("b-young", 1), ("c-old", 8)] {
                batch.replies.append(Batch.StoredReply(adapter: "hotline-long", requestID: id, command: .ok, body: Array("{}".utf8),
                                                       at: clock.now().adding(ms: -Int64(daysAgo) * 86_400_000)))
            }
            try store.commit(batch)
        }
        let h = try BrokerHarness(heartbeat: 30 * 86_400, path: path, clock: clock)
        defer { h.stop() }
        let p = try TestPeer(h.endpoint, name: "long")
        _ = try p.hello(adapter: "hotline-long", roles: ["intake"])
        let keys = ["a-young", "b-young", "c-old"].map { RequestKey(adapter: "hotline-long", requestID: $0) }
        // Read after the turn that answered HELLO: the first tick (the sweep's first slice) ran at
        // the clock's start, before anything below moves it.
        _ = try p.request(.query, ["what": "case", "case_id": "C0000000001"])
        var kept: [[String]] = []
        for _ in 0..<3 {
            clock.advance(seconds: 3_601)
            // The first QUERY's turn ends with the tick (one slice); the second is read after it.
            for _ in 0..<2 { _ = try p.request(.query, ["what": "case", "case_id": "C0000000001"]) }
            kept.append(try h.store.storedReplies(keys).keys.map(\.requestID).sorted())
        }
        #expect(kept == [["a-young", "b-young", "c-old"], ["a-young", "b-young"], ["a-young", "b-young"]])
    }

    @Test func anUnreceivedDispatchIsResentThenGoesToASiblingWhenItsInstanceDies() throws {
        // Resends and session liveness run on the broker's clock: the test moves it.
        let clock = ManualClock()
        let h = try BrokerHarness(heartbeat: 5, resend: 10, clock: clock)
        defer { h.stop() }
        let intake = try TestPeer(h.endpoint, name: "in")
        _ = try intake.hello(adapter: "hotline-r", roles: ["intake"])
        let a = try TestPeer(h.endpoint, name: "a")
        _ = try a.hello(adapter: "reli-a", roles: ["agency"], agency: "reli")
        _ = try intake.request(.submit, ["case": Self.caseBody("r-1")])
        let first = try #require(try a.push(.dispatch))
        #expect(try a.push(.dispatch, timeout: 0.3) == nil, "not resent before resend_after")
        clock.advance(seconds: 10)
        let again = try #require(try a.push(.dispatch), "resent while unreceived")
        #expect(again["delivery"] as? String == first["delivery"] as? String)
        // A dies without a word; a sibling instance of the same agency takes over its dispatch
        // once A has been silent for 3 heartbeats (15 s on the clock; B spoke 6 s before).
        a.close()
        let b = try TestPeer(h.endpoint, name: "b")
        _ = try b.hello(adapter: "reli-b", roles: ["agency"], agency: "reli")
        #expect(try b.push(.dispatch, timeout: 0.3) == nil, "A is still alive: its dispatch stays with it")
        clock.advance(seconds: 6)
        let got = try b.push(.dispatch)
        #expect(got?["dispatch_id"] as? String == first["dispatch_id"] as? String)
    }

    @Test func pushesSurviveARestartAndGoOutOnHello() throws {
        let h = try BrokerHarness()
        defer { h.stop() }
        let intake = try TestPeer(h.endpoint, name: "in")
        _ = try intake.hello(adapter: "hotline-x", roles: ["intake"])
        let accepted = try intake.request(.submit, ["case": Self.caseBody("x-1")]).1
        try h.restart()
        let agency = try TestPeer(h.endpoint, name: "reli")
        let welcome = try agency.hello(adapter: "reli-1", roles: ["agency"], agency: "reli")
        #expect(welcome["pending"] as? Int == 1)
        let d = try #require(try agency.push(.dispatch))
        #expect((d["case"] as? [String: Any])?["case_id"] as? String == accepted["case_id"] as? String)
        // The request id is remembered across the restart too.
        let intake2 = try TestPeer(h.endpoint, name: "in")
        _ = try intake2.hello(adapter: "hotline-x", roles: ["intake"])
        #expect(try intake2.request(.submit, ["case": Self.caseBody("x-1")], id: "in-2").1["case_id"] as? String == accepted["case_id"] as? String)
    }

    @Test func aBacklogForAnAbsentAgencyKeepsOnlyABoundedNumberOfBodiesInMemory() throws {
        let h = try BrokerHarness(maxBodies: 3)
        defer { h.stop() }
        let intake = try TestPeer(h.endpoint, name: "in")
        _ = try intake.hello(adapter: "hotline-b", roles: ["intake"])
        for i in 0..<10 { _ = try intake.request(.submit, ["case": Self.caseBody("body-\(i)", address: "地址\(i)")]) }
        try h.restart()  // the load path keeps only 3 bodies in memory too
        let reli = try TestPeer(h.endpoint, name: "reli")
        _ = try reli.hello(adapter: "reli-b", roles: ["agency"], agency: "reli")
        var refs = Set<String>()
        while refs.count < 10, let d = try reli.push(.dispatch) {
            let c = d["case"] as! [String: Any]
            #expect(c["title"] as? String == "暖气不热", "a body read back from its outbox row is whole")
            refs.insert(c["external_ref"] as! String)
            try reli.received([d["delivery"] as! String])
        }
        #expect(refs.count == 10)
    }

    /// A push whose body is on disk and whose row is gone (what a withdrawal committed on the
    /// writer's thread, not yet completed on the broker's, leaves for a moment) is not sent with
    /// an empty body: it is passed over, and the pushes behind it go as before.
    @Test func aPushWhoseRowIsGoneIsNeverSentEmpty() throws {
        let h = try BrokerHarness(maxBodies: 0)
        defer { h.stop() }
        let intake = try TestPeer(h.endpoint, name: "in")
        _ = try intake.hello(adapter: "hotline-g", roles: ["intake"])
        for i in 0..<2 { _ = try intake.request(.submit, ["case": Self.caseBody("gone-\(i)", address: "地址\(i)")]) }
        let raw = try DatabaseQueue(path: h.path)
        let deleted = try raw.write { db in
            try db.execute(sql: "DELETE FROM outbox WHERE CAST(body AS TEXT) LIKE '%gone-0%'")
            return db.changesCount
        }
        #expect(deleted == 1)
        let reli = try TestPeer(h.endpoint, name: "reli")
        _ = try reli.hello(adapter: "reli-g", roles: ["agency"], agency: "reli")
        let d = try #require(try reli.push(.dispatch))
        #expect((d["case"] as? [String: Any])?["external_ref"] as? String == "gone-1", "the first push left out, the second whole")
        try reli.received([d["delivery"] as! String])
        #expect(try intake.request(.submit, ["case": Self.caseBody("gone-2", address: "地址2")]).0 == .accepted)
        let next = try #require(try reli.push(.dispatch))
        #expect((next["case"] as? [String: Any])?["external_ref"] as? String == "gone-2")
    }

    @Test func subscribersGetEveryEventInOrder() throws {
        let h = try BrokerHarness()
        defer { h.stop() }
        let intake = try TestPeer(h.endpoint, name: "in")
        _ = try intake.hello(adapter: "hotline-s", roles: ["intake"])
        _ = try intake.request(.submit, ["case": Self.caseBody("s-1")])
        let monitor = try TestPeer(h.endpoint, name: "mon")
        _ = try monitor.hello(adapter: "monitor-1", roles: ["monitor"])
        #expect(try monitor.request(.subscribe, ["after": 0]).0 == .ok)
        _ = try intake.request(.submit, ["case": Self.caseBody("s-2", category: "street_vending")])
        var seqs: [Int] = []
        var types: [String] = []
        while seqs.count < 6, let e = try monitor.push(.event) {
            seqs.append(e["seq"] as! Int)
            types.append(e["type"] as! String)
            try monitor.received([e["delivery"] as! String])
        }
        #expect(seqs == Array(1...6))
        #expect(types.first == "case.accepted" && types.filter { $0 == "case.accepted" }.count == 2)
        let forbidden = try monitor.request(.submit, ["case": Self.caseBody("s-3")])
        #expect(forbidden.1["code"] as? String == "forbidden")
    }

    /// The facts committed while nobody subscribed are not kept in memory: a monitor that comes
    /// back gets them from the store, then the live ones, none missing and none twice.
    @Test func aSubscriberWhoComesBackGetsWhatWasCommittedWhileNobodySubscribed() throws {
        let h = try BrokerHarness()
        defer { h.stop() }
        let intake = try TestPeer(h.endpoint, name: "in")
        _ = try intake.hello(adapter: "hotline-r", roles: ["intake"])
        func events(_ monitor: TestPeer, _ count: Int) throws -> [Int] {
            var seqs: [Int] = []
            while seqs.count < count, let e = try monitor.push(.event) {
                seqs.append(e["seq"] as! Int)
                try monitor.received([e["delivery"] as! String])
            }
            return seqs
        }
        let first = try TestPeer(h.endpoint, name: "mon-1")
        _ = try first.hello(adapter: "monitor-r", roles: ["monitor"])
        #expect(try first.request(.subscribe, ["after": 0]).0 == .ok)
        _ = try intake.request(.submit, ["case": Self.caseBody("r-1")])
        #expect(try events(first, 3) == [1, 2, 3], "fed from memory while subscribed")
        let again = try TestPeer(h.endpoint, name: "mon-2")  // replaces the first: nobody subscribes now
        _ = try again.hello(adapter: "monitor-r", roles: ["monitor"])
        _ = try intake.request(.submit, ["case": Self.caseBody("r-2", category: "street_vending")])
        #expect(try again.request(.subscribe, ["after": 3]).0 == .ok)
        _ = try intake.request(.submit, ["case": Self.caseBody("r-3", address: "另一个地址")])
        #expect(try events(again, 6) == Array(4...9), "r-2's from the store, then r-3's live")
        first.close()
    }

    @Test func aSecondConnectionWithTheSameAdapterReplacesTheFirst() throws {
        let h = try BrokerHarness()
        defer { h.stop() }
        let intake = try TestPeer(h.endpoint, name: "in")
        _ = try intake.hello(adapter: "hotline-y", roles: ["intake"])
        let old = try TestPeer(h.endpoint, name: "old")
        _ = try old.hello(adapter: "reli-1", roles: ["agency"], agency: "reli")
        let new = try TestPeer(h.endpoint, name: "new")
        _ = try new.hello(adapter: "reli-1", roles: ["agency"], agency: "reli")
        _ = try intake.request(.submit, ["case": Self.caseBody("y-1")])
        #expect(try new.push(.dispatch) != nil)
        let stale = try old.request(.heartbeat, [:])
        #expect(stale.1["code"] as? String == "not_registered")
    }
}

import GRDB

/// A commit that fails (here: a real SQLite trigger that aborts) is answered `unavailable`,
/// applies nothing, and does not stop the broker; the same request id succeeds once the cause
/// is gone, exactly once.
@Suite(.serialized) struct CommitFailureTests {
    @Test func aFailedCommitIsUnavailableAndChangesNothing() throws {
        let h = try BrokerHarness()
        defer { h.stop() }
        let p = try TestPeer(h.endpoint, name: "f")
        _ = try p.hello(adapter: "hotline-f", roles: ["intake"])
        #expect(try p.request(.submit, ["case": BrokerTests.caseBody("ok-before")]).0 == .accepted)
        let raw = try DatabaseQueue(path: h.path)
        try raw.write { db in
            try db.execute(sql: "CREATE TRIGGER fail_cases BEFORE INSERT ON cases WHEN NEW.external_ref = 'boom' BEGIN SELECT RAISE(ABORT, 'disk on fire'); END")
        }
        let seq = try raw.read { db in try Int64.fetchOne(db, sql: "SELECT max(seq) FROM events") }
        let failed = try p.request(.submit, ["case": BrokerTests.caseBody("boom")], id: "boom-1")
        #expect(failed.0 == .error && failed.1["code"] as? String == "unavailable")
        #expect(try raw.read { db in try Int64.fetchOne(db, sql: "SELECT max(seq) FROM events") } == seq, "nothing was logged")
        // The broker goes on serving, from a ledger without the failed case.
        #expect(try p.request(.submit, ["case": BrokerTests.caseBody("ok-after")]).0 == .accepted)
        try raw.write { db in try db.execute(sql: "DROP TRIGGER fail_cases") }
        let retried = try p.request(.submit, ["case": BrokerTests.caseBody("boom")], id: "boom-1")
        #expect(retried.0 == .accepted)
        #expect(try raw.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM cases WHERE external_ref = 'boom'") } == 1)
        #expect(try h.store.verifyLog().ok)
    }
}

@Suite struct RateLimitTests {
    @Test func aBucketRefillsAtItsRateUpToItsBurst() {
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        var b = TokenBucket(rate: 10, burst: 3, now: t0)
        var first: [Bool] = []
        for _ in 0..<5 { first.append(b.take(now: t0)) }
        #expect(first == [true, true, true, false, false])
        let refilled = b.take(now: t0.addingTimeInterval(0.1))
        let again = b.take(now: t0.addingTimeInterval(0.1))
        #expect(refilled && !again, "one token after 100 ms at 10/s")
        var later: [Bool] = []
        for _ in 0..<5 { later.append(b.take(now: t0.addingTimeInterval(60))) }
        #expect(later == [true, true, true, false, false], "never more than the burst")
    }

    @Test func aFloodingAdapterIsRateLimitedAndTheOthersAreNot() throws {
        // The broker's clock held still: no token comes back while the 20 are read, however slowly.
        let h = try BrokerHarness(clock: ManualClock()) { $0.rateLimit = (perSecond: 1, burst: 5) }
        defer { h.stop() }
        let flood = try TestPeer(h.endpoint, name: "flood")
        _ = try flood.hello(adapter: "hotline-flood", roles: ["intake"])
        for i in 0..<20 { try flood.send(.submit, ["id": "f\(i)", "case": BrokerTests.caseBody("flood-\(i)")]) }
        var codes: [String] = []
        while codes.count < 20, let m = try flood.next(timeout: 5) {
            codes.append(m.0 == .error ? (m.1["code"] as? String ?? "?") : m.0.rawValue)
        }
        let accepted = codes.filter { $0 == "ACCEPTED" }.count
        #expect(accepted == 5, "the burst, no more: \(codes)")
        #expect(codes.filter { $0 == "rate_limited" }.count == 20 - accepted)
        #expect(try h.store.cases(.init()).count == accepted, "nothing of a limited request was applied")
        let calm = try TestPeer(h.endpoint, name: "calm")
        _ = try calm.hello(adapter: "hotline-calm", roles: ["intake"])
        #expect(try calm.request(.submit, ["case": BrokerTests.caseBody("calm-1")]).0 == .accepted)
    }
}
