import Foundation
import GRDB
import Testing
import MusterConfig
@testable import MusterCore
@testable import MusterStore
import MusterWire

/// Store contract: what is committed comes back the same way; the log replays to the
/// projections; tampering is detected; a failed commit writes nothing.
@Suite struct StoreTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let rules = try! BrokerConfig.load(repo.appendingPathComponent("config/muster.yaml").path, insecure: true).rules

    static func tempDB() -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("muster-store-\(UUID().uuidString)")
        return dir.appendingPathComponent("test.db").path
    }

    static func make<T: Decodable>(_ json: [String: Any]) -> T {
        try! JSONDecoder().decode(T.self, from: JSONSerialization.data(withJSONObject: json))
    }

    static func submitJSON(_ n: Int, category: String = "street_vending") -> [String: Any] {
        ["source": "hotline_12345", "external_ref": "12345-\(n)", "category": category, "title": "占道经营 \(n)",
         "location": ["grid": "zz/erqi/jiefanglu", "address": "解放路\(n)号"]]
    }

    /// Runs commands through the core and commits each decision, like the broker does.
    struct Harness {
        var ledger = Ledger()
        let store: Store
        var now = Date(ms: 1_795_000_000_000)
        var delivery: Int64 = 0

        init(path: String) throws {
            store = try Store(path: path)
            ledger = try store.loadLedger()
        }

        @discardableResult
        mutating func run(_ command: CaseCommand, by actor: Actor, reply: (String, String)? = nil) throws -> Decision {
            now = now.adding(ms: 1000)
            let decision = try ledger.decide(command, by: actor, rules: StoreTests.rules, now: now).get()
            var batch = Batch()
            batch.add(decision.facts)
            for f in decision.facts {
                if case .accepted = f.change { batch.submitted[f.caseID] = Array(#"{"title":"x"}"#.utf8) }
                if case .dispatched(let d) = f.change {
                    batch.pushes.append(Batch.Push(delivery: store.nextDelivery(), target: "agency:\(d.agency)", command: "DISPATCH",
                                                   body: Array("{}".utf8), dispatchID: d.dispatchID, createdAt: now))
                }
            }
            if let (adapter, id) = reply {
                batch.replies.append(Batch.StoredReply(adapter: adapter, requestID: id, command: "OK", body: Array("{\"re\":\"\(id)\"}".utf8), at: now))
            }
            try store.commit(batch, ledger: ledger)
            return decision
        }

        mutating func fullCase(_ n: Int) throws -> String {
            let d = try run(.submit(StoreTests.make(["id": "s\(n)", "case": StoreTests.submitJSON(n)])), by: Actor(adapter: "hotline", roles: [.intake]))
            guard case .accepted(let c, _, _, _) = d.reply else { throw StoreError.corrupt("no case") }
            let lead = ledger.openDispatchRecords(of: c).first { $0.role == .lead }!
            let cg = Actor(adapter: "cg-1", roles: [.agency], agency: lead.agency)
            try run(.ack(StoreTests.make(["id": "a\(n)", "dispatch_id": lead.dispatchID, "handler": "王五"])), by: cg)
            if n % 4 == 0 {
                try run(.extend(StoreTests.make(["id": "x\(n)e", "dispatch_id": lead.dispatchID, "by": "2wd", "reason": "等待配件"])), by: cg)
            }
            if n % 3 == 0 {
                try run(.return(StoreTests.make(["id": "x\(n)", "dispatch_id": lead.dispatchID, "reason": "not_our_duty"])), by: cg)
                return c
            }
            try run(.resolve(StoreTests.make(["id": "r\(n)", "dispatch_id": lead.dispatchID])), by: cg)
            let satisfaction = n % 5 == 0 ? "dissatisfied" : "satisfied"
            try run(.evaluate(StoreTests.make(["id": "e\(n)", "case_id": c, "satisfaction": satisfaction])), by: Actor(adapter: "hotline", roles: [.intake]))
            return c
        }
    }

    @Test func projectionsReloadAndReplayExactly() throws {
        let path = Self.tempDB()
        var h = try Harness(path: path)
        for n in 1...40 { _ = try h.fullCase(n) }
        let reopened = try Store(path: path)
        let loaded = try reopened.loadLedger()
        #expect(loaded.cases == h.ledger.cases)
        #expect(loaded.dispatches == h.ledger.dispatches)
        #expect(loaded.dispatches.values.contains { $0.extensions == 1 && $0.firstResolveBy != nil }, "延期 survives a restart")
        #expect(loaded.openDispatches == h.ledger.openDispatches)
        #expect(loaded.ids == h.ledger.ids)
        #expect(!loaded.timers.isEmpty && loaded.timers == h.ledger.timers, "the ladder rungs still to fire come back from their rows")
        #expect(loaded.timersByOwner == h.ledger.timersByOwner)
        #expect(loaded.openByMergeKey == h.ledger.openByMergeKey, "merging decides the same after a restart")
        let replayed = try reopened.replay()
        #expect(replayed.timers == loaded.timers)
        #expect(replayed.cases == loaded.cases)
        #expect(replayed.dispatches == loaded.dispatches)
        #expect(try reopened.verifyLog().ok)
        #expect(reopened.lastSeq == h.store.lastSeq)
    }

    @Test func statsCountReworkRedoAndSatisfactionPerAgency() throws {
        var h = try Harness(path: Self.tempDB())
        for n in 1...10 { _ = try h.fullCase(n) }
        let s = try h.store.stats(since: nil, until: nil)
        let cg = try #require(s.agencies.first { $0.agency == "chengguan" })
        // Cases 3, 6, 9 were returned; of the 7 rated, 5 and 10 were dissatisfied (重办).
        #expect(cg.rated == 7 && cg.redone == 2 && cg.satisfied == 5)
        #expect(cg.returned == 3)
    }

    @Test func theOutboxKeepsPushesUntilReceivedOrWithdrawn() throws {
        var h = try Harness(path: Self.tempDB())
        let d = try h.run(.submit(Self.make(["id": "s1", "case": Self.submitJSON(1, category: "road_collapse")])), by: Actor(adapter: "hotline", roles: [.intake]))
        guard case .accepted(let c, _, _, _) = d.reply else { Issue.record("not accepted"); return }
        let pending = try h.store.pendingPushes()
        #expect(pending.count == 3)  // lead zhujian + assists gongan, jiaotong
        var batch = Batch()
        batch.received = [pending[0].delivery]
        try h.store.commit(batch, ledger: h.ledger)
        #expect(try h.store.pendingPushes().map(\.delivery) == pending.dropFirst().map(\.delivery))
        // The centre reassigns: the old dispatches' unsent pushes are withdrawn.
        try h.run(.assign(Self.make(["id": "as1", "case_id": c, "lead": "chengguan"])), by: Actor(adapter: "ops", roles: [.ops]))
        let after = try h.store.pendingPushes()
        #expect(after.count == 1)
        #expect(after[0].dispatchID.flatMap { h.ledger.dispatches[$0]?.agency } == "chengguan")
        #expect(after[0].delivery > pending.last!.delivery, "delivery ids are never reused")
    }

    @Test func repliesAreFoundByAdapterAndRequestID() throws {
        var h = try Harness(path: Self.tempDB())
        try h.run(.submit(Self.make(["id": "s1", "case": Self.submitJSON(1)])), by: Actor(adapter: "hotline", roles: [.intake]), reply: ("hotline", "s1"))
        let found = try h.store.storedReplies([RequestKey(adapter: "hotline", requestID: "s1"), RequestKey(adapter: "other", requestID: "s1")])
        #expect(found.count == 1)
        #expect(found[RequestKey(adapter: "hotline", requestID: "s1")]?.body == Array(#"{"re":"s1"}"#.utf8))
        try h.store.pruneRequests(before: h.now.adding(ms: 1))
        #expect(try h.store.storedReplies([RequestKey(adapter: "hotline", requestID: "s1")]).isEmpty)
    }

    @Test func aFailedCommitWritesNothingAndKeepsTheChainHead() throws {
        var h = try Harness(path: Self.tempDB())
        _ = try h.fullCase(1)
        let seq = h.store.lastSeq
        var batch = Batch()
        let fact = Fact(caseID: "C0000000001", at: h.now, actor: "t", change: .progressed(dispatchID: "D0000000001", note: "x", attachments: []))
        batch.add([fact])
        let push = Batch.Push(delivery: 7, target: "agency:x", command: "DISPATCH", body: [], dispatchID: nil, createdAt: h.now)
        batch.pushes = [push, push]  // the same delivery twice: the transaction must fail
        #expect(throws: (any Error).self) { try h.store.commit(batch, ledger: h.ledger) }
        #expect(h.store.lastSeq == seq)
        #expect(try h.store.facts(after: seq).isEmpty)
        #expect(try h.store.verifyLog().ok)
        _ = try h.fullCase(2)
        #expect(try h.store.verifyLog().ok, "the chain continues from the right head after a failure")
    }

    @Test func anEditedDeletedOrTruncatedLogIsDetected() throws {
        let path = Self.tempDB()
        var h = try Harness(path: path)
        for n in 1...5 { _ = try h.fullCase(n) }
        let raw = try DatabaseQueue(path: path)
        try raw.write { db in try db.execute(sql: "UPDATE events SET actor = 'mallory' WHERE seq = 3") }
        let edited = try Store(path: path).verifyLog()
        #expect(!edited.ok && edited.problems[0].contains("seq 3"))

        let path2 = Self.tempDB()
        var h2 = try Harness(path: path2)
        for n in 1...5 { _ = try h2.fullCase(n) }
        let raw2 = try DatabaseQueue(path: path2)
        try raw2.write { db in try db.execute(sql: "DELETE FROM events WHERE seq = 4") }
        #expect(try Store(path: path2).verifyLog().problems.contains { $0.contains("missing") })
        try raw2.write { db in
            try db.execute(sql: "DELETE FROM events WHERE seq = 4")
            let last = try Int64.fetchOne(db, sql: "SELECT max(seq) FROM events")!
            try db.execute(sql: "DELETE FROM events WHERE seq = ?", arguments: [last])
        }
        #expect(try Store(path: path2).verifyLog().problems.contains { $0.contains("head") })
    }
}

/// One broker per database: the lock on DB.pid.
@Suite struct DatabaseLockTests {
    @Test func aSecondLockOnTheSameDatabaseIsRefusedNamingTheOwnerAndOnlyTheOwnerRemovesThePidFile() throws {
        let db = FileManager.default.temporaryDirectory.appendingPathComponent("muster-lock-\(UUID().uuidString)/m.db").path
        let first = try DatabaseLock(database: db)
        #expect(try String(contentsOfFile: DatabaseLock.path(database: db), encoding: .utf8) == "\(getpid())\n")
        do {
            _ = try DatabaseLock(database: db)
            Issue.record("a second lock was granted")
        } catch let busy as DatabaseLock.Busy {
            #expect(busy.pid == getpid())
            #expect(busy.description.contains("pid \(getpid())") && busy.description.contains(db))
        }
        #expect(FileManager.default.fileExists(atPath: DatabaseLock.path(database: db)), "the refused one removed nothing")
        first.release()
        #expect(!FileManager.default.fileExists(atPath: DatabaseLock.path(database: db)))
        let next = try DatabaseLock(database: db)
        next.release()
    }

    @Test func aStalePidFileFromAKilledBrokerDoesNotBlock() throws {
        let db = FileManager.default.temporaryDirectory.appendingPathComponent("muster-lock-\(UUID().uuidString)/m.db").path
        try FileManager.default.createDirectory(atPath: (db as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try "999999\n".write(toFile: DatabaseLock.path(database: db), atomically: true, encoding: .utf8)
        let lock = try DatabaseLock(database: db)
        #expect(try String(contentsOfFile: DatabaseLock.path(database: db), encoding: .utf8) == "\(getpid())\n")
        lock.release()
    }
}
