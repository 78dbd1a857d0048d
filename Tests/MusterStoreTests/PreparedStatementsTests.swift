import Foundation
import GRDB
import Testing
@testable import MusterStore

/// Statements kept by number, each connection its own: found again, not prepared again; never
/// handed to another connection.
struct PreparedStatementsTests {
    static let value = StatementSQL("SELECT v FROM t")

    @Test func eachConnectionFindsItsOwnStatementByItsNumber() throws {
        let a = try DatabaseQueue(), b = try DatabaseQueue()
        try a.write { try $0.execute(sql: "CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('甲')") }
        try b.write { try $0.execute(sql: "CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('乙')") }
        let ofA = PreparedStatements(), ofB = PreparedStatements()
        try a.inDatabase { db throws in
            let first = try ofA(db, Self.value)
            #expect(try String.fetchOne(first) == "甲")
            #expect(try ofA(db, Self.value) === first, "found again, not prepared again")
        }
        #expect(try b.inDatabase { db in try String.fetchOne(ofB(db, Self.value)) } == "乙")
        #expect(try a.inDatabase { db in try String.fetchOne(ofA(db, Self.value)) } == "甲")
    }

    @Test func statementsOfOneConnectionAreNeverHandedToAnother() async {
        await #expect(processExitsWith: .failure) {
            let a = try DatabaseQueue(), b = try DatabaseQueue()
            let prepared = PreparedStatements()
            _ = try a.inDatabase { db in try prepared(db, StatementSQL("SELECT 1")) }
            _ = try b.inDatabase { db in try prepared(db, StatementSQL("SELECT 1")) }
        }
    }

    @Test func eachStatementHasANumberOfItsOwn() {
        let slots = (0..<3).map { _ in StatementSQL("SELECT 1").slot }
        #expect(Set(slots + [Self.value.slot]).count == 4)
    }
}
