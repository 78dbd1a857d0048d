import Foundation
import GRDB
import Testing
@testable import MusterCore
@testable import MusterStore

/// The commit binds its text and blobs from one arena instead of letting SQLite copy each: what
/// is stored is what was given, whether it fitted or not, a statement made while another holds
/// the arena never writes over that one's values, and the arena is free again once a statement
/// has run.
struct BindArenaTests {
    typealias Values = (a: String, b: [UInt8], c: String, d: String?)

    static func stored(_ db: Database) throws -> [Int64: Values] {
        var out: [Int64: Values] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT k, a, b, c, d FROM t") {
            out[row["k"]] = (row["a"], (row["b"] as Data?).map { [UInt8]($0) } ?? [], row["c"], row["d"])
        }
        return out
    }

    @Test func valuesBoundInPlaceAreStoredAsGivenAndTheArenaIsFreeAfter() throws {
        let queue = try DatabaseQueue()
        let arena = BindArena(capacity: 40)
        let given: [Values] = [
            ("", [], "解放路3号", nil),                                                   // empty, absent, not ASCII
            ("short", [1, 2, 3], String(repeating: "x", count: 33), "y"),                 // 8 in, 33 no longer fits (SQLite copies it), "y" does
            (String(repeating: "长", count: 20), Array(repeating: 7, count: 50), "z", "w"),  // larger than the arena
        ]
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE t (k INTEGER PRIMARY KEY, a TEXT, b BLOB NOT NULL, c TEXT, d TEXT)")
            let insert = try db.cachedStatement(sql: "INSERT INTO t VALUES (?, ?, ?, ?, ?)")
            let other = try db.cachedStatement(sql: "INSERT INTO t VALUES (?, ?, ?, ?, ?)  -- another statement")
            for (i, v) in given.enumerated() {
                var b = Binder(insert, arena: arena)
                b.bind(Int64(i)); b.bind(v.a); b.bind(v.b); b.bind(v.c); b.bind(v.d)
                #expect(arena.held)
                // Bound and run while the first still waits to run: its values are its own copies.
                var nested = Binder(other, arena: arena)
                nested.bind(Int64(100 + i)); nested.bind("覆盖覆盖覆盖"); nested.bind([9, 9, 9, 9, 9, 9, 9, 9]); nested.bind("overwritten"); nested.bind("!")
                try nested.step()
                #expect(arena.held, "only the statement that took the arena hands it back")
                try b.step()
                #expect(!arena.held)
            }
            let rows = try Self.stored(db)
            for (i, v) in given.enumerated() {
                let row = try #require(rows[Int64(i)])
                #expect(row.a == v.a && row.b == v.b && row.c == v.c && row.d == v.d, "row \(i)")
                #expect(rows[Int64(100 + i)]?.c == "overwritten")
            }
        }
    }

    /// A whole commit hands the arena back, and takes it back from a Binder an error left
    /// unstepped (which would leave every later statement copying through SQLite).
    @Test func aCommitHandsTheArenaBack() throws {
        let store = try Store(path: StoreFixtures.tempDB())
        store.bindArena.held = true  // as an abandoned Binder leaves it
        var batch = Batch()
        batch.timerChanges = [.add(LadderRowsTests.rung("D0000000001", .ack, 0, dueIn: 10))]
        batch.replies = [Batch.StoredReply(adapter: "hotline-1", requestID: "r1", command: .ok, body: Array(#"{"re":"r1"}"#.utf8), at: LadderRowsTests.t0)]
        try store.commit(batch)
        #expect(!store.bindArena.held)
        #expect(try store.storedReplies([RequestKey(adapter: "hotline-1", requestID: "r1")]).first?.value.body == Array(#"{"re":"r1"}"#.utf8))
    }
}
