import Foundation
import MusterConfig
import MusterCore
@testable import MusterBroker
import MusterTesting
import Synchronization
import Testing
import MusterWire

/// The broker keeps open work in memory and reads the rest back from its store (issue 9 item 7):
/// a finished case leaves memory, a rung beyond the next hour waits in the store. Seen from the
/// wire nothing changes — repeats, late acts and far rungs are answered as before.
@Suite(.serialized) struct WorkingSetBrokerTests {
    struct Peers {
        let intake, reli, grid: TestPeer
        init(_ h: BrokerHarness, _ tag: String) throws {
            intake = try TestPeer(h.endpoint, name: "in")
            _ = try intake.hello(adapter: "hotline-ws\(tag)", roles: ["intake"])
            reli = try TestPeer(h.endpoint, name: "reli")
            _ = try reli.hello(adapter: "reli-ws\(tag)", roles: ["agency"], agency: "reli")
            grid = try TestPeer(h.endpoint, name: "grid")
            _ = try grid.hello(adapter: "grid-ws\(tag)", roles: ["grid"])
        }
    }

    /// What a finished case answers, whether it is in memory or only in the store.
    static func askAboutTheFinished(_ p: Peers, caseID: String, dispatchID: String) throws {
        let (c, again, _) = try p.intake.request(.submit, ["case": BrokerTests.caseBody("ws-1")])
        #expect(c == .accepted && again["case_id"] as? String == caseID && again["state"] as? String == "closed",
                "the same source's id again: answered as before")
        let (c2, late, _) = try p.reli.request(.ack, ["dispatch_id": dispatchID])
        #expect(c2 == .error && late["code"] as? String == "invalid_transition"
                && (late["detail"] as? [String: Any])?["state"] as? String == "closed", "a late act: refused by the case's state \(late)")
        let (c3, rated, _) = try p.intake.request(.evaluate, ["case_id": caseID, "satisfaction": "dissatisfied"])
        #expect(c3 == .error && (rated["detail"] as? [String: Any])?["state"] as? String == "closed")
        let (c4, found, _) = try p.intake.request(.query, ["what": "case", "case_id": caseID])
        #expect(c4 == .result && (found["case"] as? [String: Any])?["state"] as? String == "closed")
    }

    @Test func aFinishedCaseLeavesMemoryYetIsAnsweredAsBefore() throws {
        let h = try BrokerHarness()
        defer { h.stop() }
        let p = try Peers(h, "a")
        let (_, accepted, _) = try p.intake.request(.submit, ["case": BrokerTests.caseBody("ws-1")])
        let caseID = try #require(accepted["case_id"] as? String)
        let d = try #require(try p.reli.push(.dispatch))
        try p.reli.received([d["delivery"] as! String])
        let did = d["dispatch_id"] as! String
        _ = try p.reli.request(.ack, ["dispatch_id": did])
        _ = try p.reli.request(.resolve, ["dispatch_id": did, "result": "阀门已修复"])
        _ = try p.grid.request(.verify, ["case_id": caseID, "passed": true])
        #expect(try p.intake.request(.evaluate, ["case_id": caseID, "satisfaction": "satisfied"]).1["state"] as? String == "closed")
        try Self.askAboutTheFinished(p, caseID: caseID, dispatchID: did)  // left memory once durable
        try h.restart()
        try Self.askAboutTheFinished(try Peers(h, "b"), caseID: caseID, dispatchID: did)  // never loaded
        // A new case after the restart gets a new id: the counters go on from the store.
        let (_, next, _) = try Peers(h, "c").intake.request(.submit, ["case": BrokerTests.caseBody("ws-2")])
        #expect((next["case_id"] as? String ?? "") > caseID)
        #expect(try h.store.verifyLog().ok)
    }

    /// More open cases than the broker holds: the longest untouched leave memory once durable, as
    /// a restart leaves them, and are read back when named — signed for, repeated, merged into,
    /// asked about — as if they had stayed.
    @Test func openCasesBeyondTheBoundLeaveMemoryYetAreAnsweredAsBefore() throws {
        let h = try BrokerHarness(maxOpenCases: 2)
        defer { h.stop() }
        let p = try Peers(h, "h")
        var cases: [String] = [], dispatches: [String] = []
        for i in 0..<5 {
            let (_, accepted, _) = try p.intake.request(.submit, ["case": BrokerTests.caseBody("held-\(i)", address: "民主路\(i)号")])
            cases.append(try #require(accepted["case_id"] as? String))
            let d = try #require(try p.reli.push(.dispatch))
            try p.reli.received([d["delivery"] as! String])
            dispatches.append(try #require(d["dispatch_id"] as? String))
        }
        // A later request answered: the batches before it are durable and let go.
        _ = try p.intake.request(.query, ["what": "case", "case_id": cases[4]])
        #expect(h.broker.casesInMemory.load(ordering: .relaxed) == 2, "five open cases, two held")
        // The oldest, read back from the store for each of these.
        #expect(try p.reli.request(.ack, ["dispatch_id": dispatches[0], "handler": "王师傅"]).1["state"] as? String == "handling")
        let (_, again, _) = try p.intake.request(.submit, ["case": BrokerTests.caseBody("held-1", address: "民主路1号")])
        #expect(again["case_id"] as? String == cases[1] && again["state"] as? String == "dispatched", "the same source's id: answered as before")
        let (_, joined, _) = try p.intake.request(.submit, ["case": BrokerTests.caseBody("held-5", address: "民主路2号")])
        #expect(joined["merged_into"] as? String == cases[2], "a report of the same problem joins the open case read back by its merge key")
        #expect(try p.reli.push(.dispatch, timeout: 0.3) == nil, "a merged report is not dispatched again")
        let (_, found, _) = try p.intake.request(.query, ["what": "case", "case_id": cases[0]])
        #expect((found["case"] as? [String: Any])?["state"] as? String == "handling")
        #expect(h.broker.casesInMemory.load(ordering: .relaxed) == 2, "held within the bound again (the merged report finished)")
        // And after a restart, the same answers from the store alone.
        try h.restart()
        let q = try Peers(h, "i")
        #expect(try q.reli.request(.resolve, ["dispatch_id": dispatches[0], "result": "阀门已修复"]).1["state"] as? String == "finished")
        #expect(try h.store.verifyLog().ok)
    }

    /// A source's id is compared byte for byte, held in memory or read back from the store:
    /// the same reference spelled in other code points is another report either way.
    @Test func aReferenceInOtherCodePointsIsAnotherReportHeldOrReadBack() throws {
        let h = try BrokerHarness(maxOpenCases: 2)
        defer { h.stop() }
        let p = try Peers(h, "r")
        var seen: Set<String> = []
        func submit(_ ref: String) throws -> String {
            let (_, accepted, _) = try p.intake.request(.submit, ["case": BrokerTests.caseBody(ref)])
            let id = try #require(accepted["case_id"] as? String)
            if seen.insert(id).inserted {  // a new case is dispatched: the agency takes it
                let d = try #require(try p.reli.push(.dispatch))
                try p.reli.received([d["delivery"] as! String])
            }
            return id
        }
        let composed = "cp-\u{E9}", decomposed = "cp-e\u{301}"
        let first = try submit(composed)
        let other = try submit(decomposed)
        #expect(other != first, "held in memory, the other spelling is another report")
        #expect(try submit(composed) == first && submit(decomposed) == other)
        for i in 0..<4 { _ = try submit("cp-filler-\(i)") }
        _ = try p.intake.request(.query, ["what": "case", "case_id": other])
        #expect(h.broker.casesInMemory.load(ordering: .relaxed) == 2, "both left memory")
        #expect(try submit(decomposed) == other && submit(composed) == first, "read back from the store, each finds its own")
    }

    /// A ladder whose rungs lie hours ahead: they are written to the store and leave memory, and
    /// are read back as their time nears — each fires once, on time, across a restart too.
    @Test func rungsBeyondTheHourWaitInTheStoreAndFireOnTime() throws {
        let clock = ManualClock()
        let h = try BrokerHarness(heartbeat: 86_400, resend: 86_400, clock: clock) { cfg in
            cfg.rules.sla.rules = []
            cfg.rules.sla.defaults[.ack] = Period(4, .h)
            cfg.rules.sla.ladders = [
                .ack: [.init(at: .percent(50), notice: "remind", to: ["agency"], level: 1),
                       .init(at: .percent(100), notice: "supervise", to: ["agency"], level: 2)],
            ]
        }
        defer { h.stop() }
        let p = try Peers(h, "t")
        _ = try p.intake.request(.submit, ["case": BrokerTests.caseBody("far-1")])
        let d = try #require(try p.reli.push(.dispatch))
        try p.reli.received([d["delivery"] as! String])
        clock.advance(seconds: 2 * 3600 - 60)
        #expect(try p.reli.push(.notice, timeout: 0.3) == nil, "nothing before two hours")
        clock.advance(seconds: 60)
        let remind = try LadderBrokerTests.notices(p.reli, count: 1, timeout: 5)
        #expect(remind.map { $0["kind"] as? String } == ["remind"], "催办 at two hours, read back from the store")
        try h.restart()
        let reli = try TestPeer(h.endpoint, name: "reli2")
        _ = try reli.hello(adapter: "reli-ws-t2", roles: ["agency"], agency: "reli")
        clock.advance(seconds: 2 * 3600)
        // The 催办 comes again if its RECEIVED was not yet durable at the restart (at least once,
        // same delivery id); the 督办 comes once.
        var after: [[String: Any]] = []
        while !after.contains(where: { $0["kind"] as? String == "supervise" }),
              let n = try LadderBrokerTests.notices(reli, count: 1, timeout: 5).first {
            if n["delivery"] as? String != remind.first?["delivery"] as? String { after.append(n) }
        }
        clock.advance(seconds: 3600)
        #expect(try reli.push(.notice, timeout: 0.3) == nil, "each rung once")
        #expect(after.map { $0["kind"] as? String } == ["supervise"], "督办 at four hours, after a restart")
    }

    /// The State Council's notice for 2027 arrives (SIGHUP) while cases are open with signing
    /// deadlines reaching into it: every one moves, read and let go a page at a time (pages of 2
    /// here), and the new schedules are recorded only with the last page.
    @Test func aNewHolidayScheduleMovesOpenDeadlinesAPageAtATime() throws {
        Broker.recalendarPage.store(2, ordering: .relaxed)
        defer { Broker.recalendarPage.store(2_000, ordering: .relaxed) }
        let clock = ManualClock(Timestamp.parse("2026-12-30T09:00:00+08:00")!)
        let h = try BrokerHarness(heartbeat: 86_400, resend: 86_400, clock: clock) { cfg in
            cfg.rules.sla.rules = []
            cfg.rules.sla.defaults[.ack] = Period(2, .wd)  // Wed 09:00 → Mon 2027-01-04 on the law's provisional 2027
        }
        defer { h.stop() }
        let p = try Peers(h, "cal")
        var dispatchIDs: [String] = [], caseIDs: [String] = []
        for i in 0..<5 {
            let (c, accepted, _) = try p.intake.request(.submit, ["case": BrokerTests.caseBody("cal-\(i)", address: "民主路\(i)号")])
            #expect(c == .accepted && accepted["state"] as? String == "dispatched", "\(accepted)")
            caseIDs.append(accepted["case_id"] as! String)
            let d = try #require(try p.reli.push(.dispatch))
            try p.reli.received([d["delivery"] as! String])
            dispatchIDs.append(d["dispatch_id"] as! String)
        }
        let notice = h.config.rules.calendar.replacing([
            2027: YearSchedule(official: true, daysOff: [CivilDay("2027-01-01")!], makeUpWorkdays: [CivilDay("2027-01-02")!]),
        ])
        var reloaded = h.config
        reloaded.rules.calendar = notice
        h.broker.reload(Broker.Reload(config: reloaded, errors: []))
        // Each department hears of each move (a NOTICE per dispatch), in pages.
        var moved = Set<String>()
        let deadline = Date().addingTimeInterval(10)
        while moved.count < 5, Date() < deadline {
            guard let n = try p.reli.push(.notice, timeout: 1) else { continue }
            try p.reli.received([n["delivery"] as! String])
            if n["kind"] as? String == "deadlines_moved", let d = n["dispatch_id"] as? String { moved.insert(d) }
        }
        #expect(moved == Set(dispatchIDs))
        for (caseID, id) in zip(caseIDs, dispatchIDs) {
            let (_, q, _) = try p.intake.request(.query, ["what": "case", "case_id": caseID])
            let lead = (q["dispatches"] as? [[String: Any]])?.first { $0["dispatch_id"] as? String == id }
            #expect((lead?["ack_by"] as? String)?.hasPrefix("2027-01-02T09:00") == true, "signing by the make-up Saturday: \(String(describing: lead))")
        }
        h.stop()
        #expect(try h.store.appliedCalendar()[2027]?.official == true, "recorded once every page is done")
        #expect(try h.store.verifyLog().ok)
    }
}
