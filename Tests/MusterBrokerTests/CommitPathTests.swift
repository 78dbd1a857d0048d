import Foundation
import MusterTesting
import Testing
@testable import MusterBroker
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
}
