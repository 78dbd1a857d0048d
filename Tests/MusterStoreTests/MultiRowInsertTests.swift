import Foundation
import GRDB
import Testing
@testable import MusterStore

/// Rows inserted sixteen to a statement arrive all, once, in order, whatever their number; a
/// row refused refuses its statement, and the caller's transaction takes back the rest.
struct MultiRowInsertTests {
    static let insert = MultiRowInsert("INSERT OR FAIL INTO t (k, v) VALUES", columns: 2)

    @Test(arguments: [0, 1, 15, 16, 17, 32, 33, 50])
    func everyRowArrivesOnceInOrder(count: Int) throws {
        let queue = try DatabaseQueue()
        let arena = BindArena()
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE t (n INTEGER PRIMARY KEY, k INTEGER NOT NULL UNIQUE, v TEXT NOT NULL)")
            try Self.insert.run(db, count: count, arena: arena) { b, i in b.bind(Int64(i)); b.bind("第\(i)行") }
            let rows = try Row.fetchAll(db, sql: "SELECT k, v FROM t ORDER BY n").map { (k: $0["k"] as Int64, v: $0["v"] as String) }
            #expect(rows.map(\.k) == (0..<Int64(count)).map { $0 })
            #expect(rows.map(\.v) == (0..<count).map { "第\($0)行" })
        }
        #expect(!arena.held)
    }

    @Test func aRefusedRowLeavesNothingOnceTheTransactionIsTakenBack() throws {
        let queue = try DatabaseQueue()
        let arena = BindArena()
        try queue.write { db in try db.execute(sql: "CREATE TABLE t (n INTEGER PRIMARY KEY, k INTEGER NOT NULL UNIQUE, v TEXT NOT NULL)") }
        #expect(throws: DatabaseError.self) {
            try queue.write { db in
                // Row 20 repeats row 3's key: the second statement is refused.
                try Self.insert.run(db, count: 24, arena: arena) { b, i in b.bind(Int64(i == 20 ? 3 : i)); b.bind("v") }
            }
        }
        #expect(try queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM t") } == 0)
        #expect(!arena.held, "a refused statement hands the arena back too")
    }
}
