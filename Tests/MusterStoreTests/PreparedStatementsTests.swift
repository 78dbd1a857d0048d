import Foundation
import GRDB
import Testing
@testable import MusterStore

/// A statement kept by number is its own connection's: asked on another, it is that one's.
struct PreparedStatementsTests {
    static let value = SQL("SELECT v FROM t")

    @Test func aStatementIsFoundByItsNumberOnItsOwnConnectionOnly() throws {
        let a = try DatabaseQueue(), b = try DatabaseQueue()
        try a.write { try $0.execute(sql: "CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('甲')") }
        try b.write { try $0.execute(sql: "CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('乙')") }
        let prepared = PreparedStatements()
        try a.inDatabase { db throws in
            let first = try prepared(db, Self.value)
            #expect(try String.fetchOne(first) == "甲")
            #expect(try prepared(db, Self.value) === first, "found again, not prepared again")
        }
        #expect(try b.inDatabase { db in try String.fetchOne(prepared(db, Self.value)) } == "乙")
        #expect(try a.inDatabase { db in try String.fetchOne(prepared(db, Self.value)) } == "甲")
    }

    @Test func eachStatementHasANumberOfItsOwn() {
        let slots = (0..<3).map { _ in SQL("SELECT 1").slot }
        #expect(Set(slots + [Self.value.slot]).count == 4)
    }
}
