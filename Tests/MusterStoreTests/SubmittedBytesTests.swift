import Foundation
import GRDB
import Testing
@testable import MusterCore
@testable import MusterStore

/// A case's submitted bytes (migration v15): written once, on the log's row of the fact that
/// accepted the case, beside a case row that the later acts rewrite without them.
@Suite struct SubmittedBytesTests {
    @Test func aCasesBytesAreWrittenOnceBesideItsAcceptanceAndItsRowWithoutThem() throws {
        let store = try Store(path: StoreFixtures.tempDB())
        var h = try Harness(store)
        h.submittedBytes = Array(#"{"title":"占道经营","reporter":{"name":"李四","phone":"138-1234 5678"}}"#.utf8)
        let c = try h.fullCase(1)
        let db = try DatabaseQueue(path: store.path)
        let kept = try db.read { try Row.fetchAll($0, sql: "SELECT case_id, type, submitted FROM events WHERE submitted IS NOT NULL") }
        #expect(kept.count == 1)
        #expect(kept.first?["case_id"] as String? == c && kept.first?["type"] as String? == "case.accepted")
        #expect(kept.first.map { Array($0["submitted"] as Data) } == h.submittedBytes)
        let columns = try db.read { try String.fetchAll($0, sql: "SELECT name FROM pragma_table_info('cases')") }
        #expect(!columns.isEmpty && !columns.contains("submitted"))
        let (state, accepted, updated) = try #require(try db.read {
            try Row.fetchOne($0, sql: "SELECT state, accepted_at, updated_at FROM cases WHERE case_id = ?", arguments: [c])
        }.map { ($0["state"] as String, $0["accepted_at"] as Int64, $0["updated_at"] as Int64) })
        #expect(state == "closed" && updated > accepted, "the acts after the SUBMIT rewrote the row")
        #expect(try store.submitted(caseID: c) == h.submittedBytes)
        #expect(try store.verifyLog().ok, "outside the chain's hash: the log verifies as before")
    }

    /// QUERY `cases` by phone reads each remaining case's reporter from its submitted bytes.
    @Test func aPhoneSearchReadsTheReporterFromTheSubmittedBytes() throws {
        let store = try Store(path: StoreFixtures.tempDB())
        var h = try Harness(store)
        h.submittedBytes = Array(#"{"reporter":{"phone":"138-1234 5678"}}"#.utf8)
        let mine = try h.fullCase(1)
        h.submittedBytes = Array(#"{"reporter":{"phone":"13900000000"}}"#.utf8)
        let other = try h.fullCase(2)
        #expect(try store.cases(CaseFilter(phone: "13812345678")).map(\.caseID) == [mine])
        #expect(try store.cases(CaseFilter(phone: "139 0000 0000")).map(\.caseID) == [other])
        #expect(try store.cases(CaseFilter(phone: "13700000000")).isEmpty)
    }
}
