import Foundation
import MusterTesting
import Testing
@testable import MusterBroker
import MusterStore
import MusterWire

/// A delivery belongs to its recipient: RECEIVED from anyone else — another role, a sibling
/// instance, a guessed id — changes nothing and is counted.
@Suite(.serialized) struct DeliveryOwnershipTests {
    /// The wire ids of the pushes waiting in the outbox, read from their stored bodies.
    static func waitingIDs(_ h: BrokerHarness) throws -> [String] {
        try h.store.pendingPushes().map { p in
            let obj = try JSONSerialization.jsonObject(with: Data(p.body)) as? [String: Any]
            return try #require(obj?["delivery"] as? String)
        }
    }

    /// A request whose ACCEPTED means every batch before it is durable. With `after`: that
    /// peer's messages before it are read first (a reply on its own connection, the only order
    /// ZeroMQ keeps), so what they changed rides with the barrier's commit.
    static func barrier(_ intake: TestPeer, _ ref: String, after sender: TestPeer? = nil) throws {
        if let sender {
            let (c, body, _) = try sender.request(.query, ["what": "stats"])
            guard c == .result else { throw TestError("QUERY stats answered \(c): \(body)") }
        }
        let (c, body, _) = try intake.request(.submit, ["case": BrokerTests.caseBody(ref, category: "street_vending", address: ref)])
        guard c == .accepted else { throw TestError("barrier SUBMIT answered \(c): \(body)") }
    }

    @Test func receivedFromAnIntakePeerOrAGuessDeletesNothing() throws {
        let h = try BrokerHarness()
        defer { h.stop() }
        let intake = try TestPeer(h.endpoint, name: "in")
        _ = try intake.hello(adapter: "hotline-own", roles: ["intake"])
        for i in 0..<3 { _ = try intake.request(.submit, ["case": BrokerTests.caseBody("own-\(i)", address: "金水路\(i)号")]) }
        let ids = try Self.waitingIDs(h)
        #expect(ids.count == 3)
        #expect(ids.allSatisfy { $0.contains("-") }, "tagged, not bare counters: \(ids)")
        // The real ids (leaked, say) and plain guesses, from a peer they were never sent to.
        try intake.received(ids + (1...500).map(String.init))
        try Self.barrier(intake, "own-barrier")
        #expect(try h.store.pendingPushes().filter { $0.target == "agency:reli" }.count == 3, "热力's dispatches are still waiting")
        #expect(h.broker.ignoredReceipts.load(ordering: .relaxed) == 503)

        // 热力 connects and gets all three; it alone can acknowledge them.
        let reli = try TestPeer(h.endpoint, name: "reli")
        let welcome = try reli.hello(adapter: "reli-own-1", roles: ["agency"], agency: "reli")
        #expect(welcome["pending"] as? Int == 3)
        var got: [String] = []
        for _ in 0..<3 { got.append(try #require(try reli.push(.dispatch))["delivery"] as! String) }
        #expect(Set(got) == Set(ids))
        try reli.received(got)
        try Self.barrier(intake, "own-barrier-2", after: reli)
        #expect(try h.store.pendingPushes().filter { $0.target == "agency:reli" }.isEmpty)
    }

    @Test func aSiblingCannotAcknowledgeAnotherInstancesDelivery() throws {
        let h = try BrokerHarness()
        defer { h.stop() }
        let intake = try TestPeer(h.endpoint, name: "in")
        _ = try intake.hello(adapter: "hotline-sib", roles: ["intake"])
        let first = try TestPeer(h.endpoint, name: "reli-a")
        _ = try first.hello(adapter: "reli-a", roles: ["agency"], agency: "reli")
        _ = try intake.request(.submit, ["case": BrokerTests.caseBody("sib-1")])
        let d = try #require(try first.push(.dispatch))
        let delivery = d["delivery"] as! String

        let sibling = try TestPeer(h.endpoint, name: "reli-b")
        _ = try sibling.hello(adapter: "reli-b", roles: ["agency"], agency: "reli")
        try sibling.received([delivery])
        try Self.barrier(intake, "sib-barrier", after: sibling)
        #expect(try Self.waitingIDs(h).contains(delivery), "a sibling's RECEIVED is not the recipient's")
        #expect(h.broker.ignoredReceipts.load(ordering: .relaxed) == 1)
    }

    @Test func theSameAdapterCanAcknowledgeOnItsNextConnection() throws {
        let h = try BrokerHarness()
        defer { h.stop() }
        let intake = try TestPeer(h.endpoint, name: "in")
        _ = try intake.hello(adapter: "hotline-re", roles: ["intake"])
        let first = try TestPeer(h.endpoint, name: "reli-a")
        _ = try first.hello(adapter: "reli-a", roles: ["agency"], agency: "reli")
        _ = try intake.request(.submit, ["case": BrokerTests.caseBody("re-1", address: "re-1")])
        _ = try intake.request(.submit, ["case": BrokerTests.caseBody("re-2", address: "re-2")])
        let a = try #require(try first.push(.dispatch))["delivery"] as! String
        let b = try #require(try first.push(.dispatch))["delivery"] as! String
        // reli-a loses its connection and comes back with room for one push: the broker sends A
        // again; B waits, not sent to the new connection — yet it was reli-a's, so its RECEIVED
        // on the new connection counts.
        first.close()
        let again = try TestPeer(h.endpoint, name: "reli-a2")
        _ = try again.hello(adapter: "reli-a", roles: ["agency"], agency: "reli", window: 1)
        #expect(try again.push(.dispatch)?["delivery"] as? String == a)
        try again.received([b])
        try Self.barrier(intake, "re-barrier", after: again)
        let waiting = try Self.waitingIDs(h)
        #expect(!waiting.contains(b) && waiting.contains(a))
        #expect(h.broker.ignoredReceipts.load(ordering: .relaxed) == 0)
    }

    @Test func deliveryIDsAreTaggedAndCheckedPlainOnlyForOldRows() {
        let ids = DeliveryIDs(key: Array(repeating: 7, count: 32), plainThrough: 10)
        #expect(ids.wire(10) == "10", "made before the key: plain, as already sent")
        let w = ids.wire(11)
        #expect(w == "11-cd95837aa8d5cbb3", "HMAC-SHA256(key, \"11\"), first 8 bytes: the ids already sent stay valid")
        #expect(ids.wire(11) == w && ids.wire(12) != w, "the keyed state is copied, not consumed")
        #expect(ids.number(w) == 11 && ids.number("10") == 10)
        #expect(ids.number("11") == nil, "a bare number past the key is a guess")
        #expect(ids.number("12" + w.dropFirst(2)) == nil, "a tag belongs to its number")
        #expect(ids.number("11-0000000000000000") == nil && ids.number("0") == nil && ids.number("x-y") == nil)
        let other = DeliveryIDs(key: Array(repeating: 8, count: 32), plainThrough: 10)
        #expect(other.number(w) == nil, "another database's key")
        // The broker keeps the ids it made: checked by comparison, with the same answers.
        let made: (Int64) -> String? = { $0 == 11 ? w : nil }
        #expect(ids.number(w, known: made) == 11)
        #expect(ids.number("11-cd95837aa8d5cbb4", known: made) == nil, "the number's own id, not just its number")
        #expect(ids.number("11-", known: made) == nil && ids.number("11", known: made) == nil)
        #expect(ids.number(ids.wire(12), known: made) == 12 && ids.number("12" + w.dropFirst(2), known: made) == nil,
                "a number not kept: checked by its HMAC")
    }
}
