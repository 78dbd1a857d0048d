import Foundation
import MusterTesting
import Testing
@testable import MusterBroker
@testable import MusterStore
import MusterWire

/// Which thread commits: a lone request with nothing in flight is committed on the broker's own
/// thread (the low-latency path); it is just as durable before it is answered.
@Suite(.serialized) struct CommitPathTests {
    @Test func aLoneRequestIsCommittedOnTheBrokersThreadAndIsDurableWhenAnswered() throws {
        let h = try BrokerHarness()
        defer { h.stop() }
        let intake = try TestPeer(h.endpoint, name: "in")
        _ = try intake.hello(adapter: "hotline-lone", roles: ["intake"])
        let agency = try TestPeer(h.endpoint, name: "reli")
        _ = try agency.hello(adapter: "reli-lone", roles: ["agency"], agency: "reli")
        // A first SUBMIT as a barrier: answered only after every batch before it (the start's
        // holiday schedules among them) is committed, so nothing else is in flight after it.
        #expect(try intake.request(.submit, ["case": BrokerTests.caseBody("lone-0")]).0 == .accepted)
        _ = try agency.push(.dispatch)
        let writer = h.broker.writer
        let here = writer.committedHere.load(ordering: .relaxed), there = writer.committedByWriter.load(ordering: .relaxed)

        let (c, accepted, _) = try intake.request(.submit, ["case": BrokerTests.caseBody("lone-1")])
        #expect(c == .accepted)
        let caseID = try #require(accepted["case_id"] as? String)
        #expect(writer.committedHere.load(ordering: .relaxed) == here + 1, "committed on the broker's thread")
        #expect(writer.committedByWriter.load(ordering: .relaxed) == there, "not handed to the writer")
        // Answered only once durable: the case and its push are in the file already.
        #expect(try h.store.caseRecord(caseID)?.state == .dispatched)
        #expect(try h.store.pendingPushes().count == 2, "the barrier's push and this one, neither received")
        let dispatch = try #require(try agency.push(.dispatch))
        #expect((dispatch["case"] as? [String: Any])?["case_id"] as? String == caseID)
    }

    /// The log's last pages, left by a commit for after its replies, are copied by the broker
    /// at the end of a turn while nothing is in flight, with no commit to do it for it.
    @Test func theBrokerCopiesTheLogsLastPagesAtTheEndOfATurn() throws {
        let h = try BrokerHarness()
        defer { h.stop() }
        let intake = try TestPeer(h.endpoint, name: "in")
        _ = try intake.hello(adapter: "hotline-ckpt", roles: ["intake"])
        #expect(try intake.request(.submit, ["case": BrokerTests.caseBody("ckpt-0")]).0 == .accepted)
        let writer = h.broker.writer
        let commits = { writer.committedHere.load(ordering: .relaxed) + writer.committedByWriter.load(ordering: .relaxed) }
        let before = commits()
        let checkpointer = try #require(h.store.checkpointer)
        checkpointer.finishDue.store(true, ordering: .releasing)  // as a commit past the mark leaves it
        // Two requests answered without a commit (malformed SUBMITs): the second's answer comes
        // from a later turn than the first's, so at least one turn has ended since.
        #expect(try intake.request(.submit, ["case": "not a case"]).0 == .error)
        #expect(try intake.request(.submit, ["case": "nor this"]).0 == .error)
        let stillDue = checkpointer.finishDue.load(ordering: .acquiring)
        #expect(!stillDue, "the broker copied them at the end of a turn")
        #expect(commits() == before, "no commit did it")
    }

    @Test func aBurstIsAllAnsweredWhicheverPathEachBatchTook() throws {
        let h = try BrokerHarness()
        defer { h.stop() }
        let intake = try TestPeer(h.endpoint, name: "in")
        _ = try intake.hello(adapter: "hotline-burst", roles: ["intake"])
        let n = 600
        for i in 0..<n { try intake.send(.submit, ["id": "b-\(i)", "case": BrokerTests.caseBody("burst-\(i)")]) }
        var accepted = Set<String>()
        for i in 0..<n {
            let (c, body, _) = try intake.reply(to: "b-\(i)", timeout: 30)
            #expect(c == .accepted, "b-\(i): \(body)")
            if let id = body["case_id"] as? String { accepted.insert(id) }
        }
        #expect(accepted.count == n)
        for id in accepted.prefix(50) { #expect(try h.store.caseRecord(id) != nil) }
        let writer = h.broker.writer
        let batches = writer.committedHere.load(ordering: .relaxed) + writer.committedByWriter.load(ordering: .relaxed)
        #expect(batches >= (n + Broker.maxBatch - 1) / Broker.maxBatch && batches <= n, "\(batches) batches for \(n) requests")
    }

    /// A reassignment withdraws the old dispatch's push by its delivery number (the outbox has
    /// no index by dispatch): whether the push was stored long before, or SUBMIT and ASSIGN came
    /// together (one batch, or the SUBMIT's still committing), it leaves the store and memory,
    /// and the new lead's push stays.
    @Test func aWithdrawnDispatchsPushLeavesTheStoreWhereverItWas() throws {
        let h = try BrokerHarness()
        defer { h.stop() }
        let intake = try TestPeer(h.endpoint, name: "in")
        _ = try intake.hello(adapter: "hotline-wd", roles: ["intake"])
        let ops = try TestPeer(h.endpoint, name: "ops")
        _ = try ops.hello(adapter: "ops-wd", roles: ["ops"])
        // No agency is connected: every push waits in the outbox.
        func pushes() throws -> [String: String] {
            Dictionary(try h.store.pendingPushes().map { ($0.dispatchID ?? "", $0.target) }, uniquingKeysWith: { a, _ in a })
        }
        let (c, accepted, _) = try intake.request(.submit, ["case": BrokerTests.caseBody("wd-1")])
        #expect(c == .accepted)
        let first = try #require(accepted["case_id"] as? String)
        #expect(Array(try pushes().values) == ["agency:reli"])
        #expect(try ops.request(.assign, ["case_id": first, "lead": "chengguan", "note": "非供热问题"]).0 == .ok)
        #expect(Array(try pushes().values) == ["agency:chengguan"], "the stored push to 热力 is gone")

        // The next case id is the next number: the ASSIGN follows its SUBMIT without waiting.
        // Both go on one connection, the only order ZeroMQ keeps: from two peers the ASSIGN
        // could be read first and find no case.
        let desk = try TestPeer(h.endpoint, name: "desk")
        _ = try desk.hello(adapter: "desk-wd", roles: ["intake", "ops"])
        let next = String(format: "C%0\(first.count - 1)d", try #require(Int(first.dropFirst())) + 1)
        try desk.send(.submit, ["id": "wd-s2", "case": BrokerTests.caseBody("wd-2")])
        try desk.send(.assign, ["id": "wd-a2", "case_id": next, "lead": "chengguan", "note": "非供热问题"])
        #expect(try desk.reply(to: "wd-s2", timeout: 10).1["case_id"] as? String == next)
        let (assigned, body, _) = try desk.reply(to: "wd-a2", timeout: 10)
        #expect(assigned == .ok, "\(body)")
        let left = try h.store.pendingPushes()
        #expect(left.count == 2 && left.allSatisfy { $0.target == "agency:chengguan" }, "\(left.map(\.target))")
        // What memory holds agrees: 热力 connecting now is sent nothing.
        let reli = try TestPeer(h.endpoint, name: "reli")
        _ = try reli.hello(adapter: "reli-wd", roles: ["agency"], agency: "reli")
        // Two queries: the second is read after the turn that welcomed 热力 delivered what it had.
        for _ in 0..<2 { #expect(try reli.request(.query, ["what": "case", "case_id": next]).0 == .result) }
        #expect(try reli.push(.dispatch, timeout: 0) == nil)
    }

    /// A RECEIVED has no reply and needs no commit of its own: the push leaves memory at once
    /// (never sent again), and its outbox row goes with the next commit, after a second alone,
    /// or when the broker stops.
    @Test func aReceiptRidesWithTheNextCommitOrGoesAloneAfterASecond() async throws {
        let clock = ManualClock()
        let h = try BrokerHarness(heartbeat: 86_400, resend: 2, clock: clock)
        defer { h.stop() }
        let intake = try TestPeer(h.endpoint, name: "in")
        _ = try intake.hello(adapter: "hotline-rcpt", roles: ["intake"])
        let agency = try TestPeer(h.endpoint, name: "reli")
        _ = try agency.hello(adapter: "reli-rcpt", roles: ["agency"], agency: "reli")
        let writer = h.broker.writer
        func commits() -> Int { writer.committedHere.load(ordering: .relaxed) + writer.committedByWriter.load(ordering: .relaxed) }
        func submit(_ ref: String) throws -> (caseID: String, delivery: String) {
            let (c, accepted, _) = try intake.request(.submit, ["case": BrokerTests.caseBody(ref)])
            #expect(c == .accepted)
            let d = try #require(try agency.push(.dispatch))
            return (try #require(accepted["case_id"] as? String), try #require(d["delivery"] as? String))
        }
        // Answered after the RECEIVED before it from the same peer: the broker has handled it.
        func barrier(_ caseID: String) throws { #expect(try agency.request(.query, ["what": "case", "case_id": caseID]).0 == .result) }

        let first = try submit("rcpt-1")
        var before = commits()
        try agency.received([first.delivery])
        try barrier(first.caseID)
        #expect(commits() == before, "no commit for a RECEIVED")
        #expect(try h.store.pendingPushes().count == 1, "its row is still there")
        clock.advance(seconds: 1.5)
        try barrier(first.caseID)  // the loop turned after the clock moved ...
        try barrier(first.caseID)  // ... and the turn before this one handed the receipt to the writer
        // which commits it on its own thread: the barriers do not wait for that (bounded wait).
        _ = try await AdapterKitTests.eventually(10) { commits() > before }
        #expect(commits() == before + 1, "alone, a second later")
        #expect(try h.store.pendingPushes().isEmpty, "its row went with that commit")
        clock.advance(seconds: 3)
        #expect(try agency.push(.dispatch, timeout: 0.3) == nil, "received: not sent again after resend_after")

        let second = try submit("rcpt-2")
        try agency.received([second.delivery])
        try barrier(second.caseID)
        before = commits()
        let third = try submit("rcpt-3")
        #expect(commits() == before + 1, "one commit: the SUBMIT's, the receipt with it")
        let thirdDispatch = try h.store.dispatches(ofCase: third.caseID).first?.dispatchID
        #expect(try h.store.pendingPushes().map(\.dispatchID) == [thirdDispatch], "only the third DISPATCH is waiting")

        try agency.received([third.delivery])
        try barrier(third.caseID)
        h.stopOnly()
        #expect(try h.store.pendingPushes().isEmpty, "written on the way out")
        try h.startAgain()
        let again = try TestPeer(h.endpoint, name: "reli2")
        _ = try again.hello(adapter: "reli-rcpt", roles: ["agency"], agency: "reli")
        #expect(try again.push(.dispatch, timeout: 0.3) == nil, "nothing received is sent again after a clean restart")
    }
}
