import Foundation
import GRDB
import Testing
@testable import MusterCore
@testable import MusterStore

/// Fixtures/v1.sql is the SQL dump (`sqlite3 v1.db .dump`) of a database written by the code
/// before the v2 log codec, with the scenario of Scenario.swift as it was then (its generator:
/// `git show 166bb0d:Tests/MusterStoreTests/MakeV1Fixture.swift`): 111 events in the v1 form,
/// every fact type, with its projections, timers, outbox and replies. Kept as text, not as a
/// database file; each test builds a database from it, byte for byte (blobs are hex literals),
/// and today's code opens that — everything still holds across the change.
@Suite struct LogMigrationTests {
    static let fixture = StoreFixtures.repo.appendingPathComponent("Tests/MusterStoreTests/Fixtures/v1.sql").path
    static let fixtureEvents: Int64 = 111

    /// A new database made from the dump (which carries its own transaction).
    static func copy() throws -> String {
        let path = StoreFixtures.tempDB()
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let dump = try String(contentsOfFile: fixture, encoding: .utf8)
        try DatabaseQueue(path: path).writeWithoutTransaction { try $0.execute(sql: dump) }
        return path
    }

    /// seq → (data, hash), as stored.
    static func rows(_ path: String) throws -> [Int64: (Data, Data)] {
        try DatabaseQueue(path: path).read { db in
            var out: [Int64: (Data, Data)] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT seq, data, hash FROM events") { out[r["seq"]] = (r["data"], r["hash"]) }
            return out
        }
    }

    @Test func theV1LogVerifiesReplaysToItsProjectionsAndTakesTodaysFactsAfterIt() throws {
        let path = try Self.copy()
        let before = try Self.rows(path)
        #expect(before.count == Self.fixtureEvents && before.values.allSatisfy { !LogFormat.Reader.isVersioned($0.0) }, "all v1")

        let store = try Store(path: path)
        let chain = try store.verifyLog()
        #expect(chain.ok && chain.checked == Self.fixtureEvents, "old rows verify as they are")
        let logged = try store.facts(after: 0, limit: 10_000)
        #expect(logged.count == before.count)
        #expect(Set(logged.map(\.type)) == StoreContractTests.v1Types, "every fact type of its day, read by the v1 reader")
        let loaded = try store.loadLedger()
        let replayed = try store.replay()
        #expect(replayed.cases == loaded.cases)
        #expect(replayed.dispatches == loaded.dispatches)
        #expect(replayed.dispatchesOfCase == loaded.dispatchesOfCase)
        #expect(replayed.timers == loaded.timers && !loaded.timers.isEmpty)
        #expect(replayed.modes == loaded.modes)

        // Carry on with today's code: new rows are v3, on the same chain.
        var h = try Harness(store)
        h.now = logged.map(\.fact.at).max()!
        try h.carryOn()
        let after = try Self.rows(path)
        #expect(after.count > before.count + 20)
        for (seq, old) in before { #expect(after[seq]?.0 == old.0 && after[seq]?.1 == old.1, "seq \(seq) is untouched") }
        let new = after.filter { $0.key > Self.fixtureEvents }
        #expect(new.values.allSatisfy { $0.0.starts(with: Array(#"{"v":3,"type":""#.utf8)) }, "new rows are v3")
        let newTypes = Set(try store.facts(after: Self.fixtureEvents, limit: 10_000).map(\.type))
        #expect(newTypes.isSuperset(of: ["case.assigned", "dispatch.acked", "case.resolved", "case.evaluated",
                                         "case.dispatched", "clock.scheduled", "case.escalated", "mode.changed", "case.accepted"]))

        let reopened = try Store(path: path)
        #expect(try reopened.verifyLog().ok)
        let mixed = try reopened.replay(), projected = try reopened.loadLedger()
        #expect(mixed.cases == projected.cases, "replay of v1 and v3 rows together equals the projections")
        #expect(mixed.dispatches == projected.dispatches)
        #expect(mixed.timers == projected.timers)
        #expect(mixed.modes == projected.modes)
        #expect(projected == h.ledger)
    }

    /// `meta` and `dispatches` are one B-tree each from v12 on (rowid tables keyed by text were
    /// two, a page of each written by a commit); what they held comes through unchanged, with
    /// the dispatches' indexes.
    @Test func metaAndDispatchesKeepTheirRowsInOneBTreeEach() throws {
        let path = try Self.copy()
        let meta = "SELECT key, value FROM meta ORDER BY key", dispatches = "SELECT * FROM dispatches ORDER BY dispatch_id"
        let old = try DatabaseQueue(path: path)
        try Schema.migrator.migrate(old, upTo: "v11: one row of waiting rungs per owner")  // as the last version left them
        let (metaBefore, dispatchesBefore) = try old.read { (try Row.fetchAll($0, sql: meta), try Row.fetchAll($0, sql: dispatches)) }
        try old.close()
        #expect(metaBefore.count == 5, "the delivery key and its start, the last delivery, the chain head")
        #expect(dispatchesBefore.count > 5)
        _ = try Store(path: path)
        let db = try DatabaseQueue(path: path)
        #expect(try db.read { try Row.fetchAll($0, sql: meta) } == metaBefore)
        let dispatchesAfter = try db.read { try Row.fetchAll($0, sql: dispatches) }
        #expect(dispatchesAfter.count == dispatchesBefore.count)
        for (a, b) in zip(dispatchesAfter, dispatchesBefore) {
            for column in b.columnNames { #expect(a[column] as DatabaseValue == b[column] as DatabaseValue, "\(column) of \(b["dispatch_id"] as String)") }
        }
        for table in ["meta", "dispatches"] {
            let sql = try db.read { try String.fetchOne($0, sql: "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", arguments: [table]) }
            #expect(sql?.contains("WITHOUT ROWID") == true, "\(sql ?? "no \(table)")")
        }
        let indexes = try db.read { try String.fetchAll($0, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('meta', 'dispatches') ORDER BY name") }
        #expect(indexes == ["dispatches_by_case"], "no index of a key: the rows are in its B-tree (and none by agency from v13)")
    }

    /// From v15 a case's submitted bytes are kept on the log's row of its `case.accepted` fact:
    /// each case's bytes come through unchanged and are read from there, the case rows keep
    /// every other column as it was, and the log still verifies.
    @Test func v15MovesEachCasesSubmittedBytesBesideItsAcceptance() throws {
        let path = try Self.copy()
        let old = try DatabaseQueue(path: path)
        try Schema.migrator.migrate(old, upTo: "v14: waiting rungs as arrays")
        let before = try old.read { try Row.fetchAll($0, sql: "SELECT * FROM cases ORDER BY case_id") }
        try old.close()
        #expect(before.count > 5, "the fixture has cases")
        let store = try Store(path: path)
        for row in before {
            #expect(try store.submitted(caseID: row["case_id"]) == Array(row["submitted"] as Data), "\(row["case_id"] as String)")
        }
        let db = try DatabaseQueue(path: path)
        let after = try db.read { try Row.fetchAll($0, sql: "SELECT * FROM cases ORDER BY case_id") }
        #expect(after.count == before.count)
        for (a, b) in zip(after, before) {
            #expect(Set(a.columnNames) == Set(b.columnNames).subtracting(["submitted"]))
            for column in a.columnNames { #expect(a[column] as DatabaseValue == b[column] as DatabaseValue, "\(column) of \(b["case_id"] as String)") }
        }
        let kept = try db.read { try String.fetchAll($0, sql: "SELECT type FROM events WHERE submitted IS NOT NULL") }
        #expect(kept.count == before.count && Set(kept) == ["case.accepted"], "once a case, on its acceptance")
        #expect(try store.verifyLog().ok)
    }

    /// A case whose acceptance the log lost has no row to keep its bytes on: v15 keeps them apart,
    /// they are read back as any case's, the upgrade goes on, and verify-log names the gap.
    @Test func v15KeepsTheBytesOfACaseWhoseAcceptanceTheLogLost() throws {
        let path = try Self.copy()
        let old = try DatabaseQueue(path: path)
        try Schema.migrator.migrate(old, upTo: "v14: waiting rungs as arrays")
        let (orphan, bytes) = try #require(try old.read {
            try Row.fetchOne($0, sql: "SELECT case_id, submitted FROM cases ORDER BY case_id LIMIT 1")
        }.map { ($0["case_id"] as String, Array($0["submitted"] as Data)) })
        let others = try old.read { try Int.fetchOne($0, sql: "SELECT count(*) - 1 FROM cases") ?? 0 }
        try old.write { try $0.execute(sql: "DELETE FROM events WHERE case_id = ? AND type = 'case.accepted'", arguments: [orphan]) }
        try old.close()
        let store = try Store(path: path)
        #expect(try store.submitted(caseID: orphan) == bytes)
        let db = try DatabaseQueue(path: path)
        #expect(try db.read { try String.fetchAll($0, sql: "SELECT case_id FROM submitted_unlogged") } == [orphan], "only the one")
        #expect(try db.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM events WHERE submitted IS NOT NULL") } == others)
        #expect(!(try store.verifyLog().ok), "the deleted row is a gap in the chain")
    }

    /// From v13 the write path feeds no index that no read needs: dispatches by agency, the
    /// outbox by dispatch, request ids by age (each a page of every SUBMIT's commit). Only the
    /// indexes go; every row stays.
    @Test func v13DropsTheIndexesNoReadNeedsAndKeepsEveryRow() throws {
        let path = try Self.copy()
        let tables = ["dispatches", "outbox", "requests"]
        let old = try DatabaseQueue(path: path)
        try Schema.migrator.migrate(old, upTo: "v12: meta and dispatches without a rowid")
        let rowsBefore = try old.read { db in try tables.map { try Row.fetchAll(db, sql: "SELECT * FROM \($0) ORDER BY 1, 2") } }
        let indexesBefore = try old.read { try String.fetchAll($0, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%' ORDER BY name") }
        try old.close()
        #expect(rowsBefore.allSatisfy { !$0.isEmpty }, "the fixture has rows in each")
        _ = try Store(path: path)
        let db = try DatabaseQueue(path: path)
        let rowsAfter = try db.read { db in try tables.map { try Row.fetchAll(db, sql: "SELECT * FROM \($0) ORDER BY 1, 2") } }
        #expect(rowsAfter == rowsBefore)
        let indexesAfter = try db.read { try String.fetchAll($0, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%' ORDER BY name") }
        #expect(Set(indexesBefore).subtracting(indexesAfter) == ["dispatches_by_agency", "outbox_by_dispatch", "requests_by_age"])
        #expect(Set(indexesAfter).isSubset(of: indexesBefore))
    }

    /// The migration that added the `outcomes` columns filled them from the v1 log: stats give
    /// what the old query (LIKE on the log's JSON) gave, for any period.
    @Test func theMigrationFillsVerdictsSoStatsAreWhatTheOldQueryGave() throws {
        let path = try Self.copy()
        let times = try DatabaseQueue(path: path).read { db in
            try Int64.fetchAll(db, sql: "SELECT at FROM events WHERE type IN ('case.rework', 'case.evaluated') ORDER BY at")
        }
        #expect(times.count == 3)
        let periods: [(Int64?, Int64?)] = [(nil, nil), (nil, times[1]), (times[1], nil), (times[0] + 1, times[2])]
        let old = try periods.map { p in try Self.oldFigures(path, since: p.0, until: p.1) }
        let store = try Store(path: path)
        for (p, expected) in zip(periods, old) {
            let figures = try store.stats(since: p.0.map(Date.init(ms:)), until: p.1.map(Date.init(ms:))).agencies
                .filter { $0.reworked + $0.rated > 0 }
                .map { [$0.agency: [$0.reworked, $0.redone, $0.rated, $0.satisfied]] }
            #expect(figures == expected, "period \(p)")
        }
        #expect(old[0] == [["chengguan": [1, 1, 2, 1]]])
    }

    /// A row that cannot be read (here: edited) does not stop the upgrade, and so the broker:
    /// it is left out of the new columns, and verify-log names it.
    @Test func anUnreadableRowDoesNotStopTheUpgrade() throws {
        let path = try Self.copy()
        let seq = try DatabaseQueue(path: path).write { db in
            let seq = try Int64.fetchOne(db, sql: "SELECT min(seq) FROM events WHERE type = 'case.evaluated'")!
            try db.execute(sql: #"UPDATE events SET data = CAST('{"evaluated":"?"}' AS BLOB) WHERE seq = ?"#, arguments: [seq])
            return seq
        }
        let store = try Store(path: path)
        #expect(try store.stats(since: nil, until: nil).agencies.first { $0.agency == "chengguan" }?.rated == 1)
        let report = try store.verifyLog()
        #expect(!report.ok && report.problems[0].contains("seq \(seq)"))
        #expect(throws: LogFormat.Unreadable.self) { try store.replay() }
    }

    /// The query stats ran before the `outcomes` columns.
    static func oldFigures(_ path: String, since: Int64?, until: Int64?) throws -> [[String: [Int]]] {
        try DatabaseQueue(path: path).read { db in
            try Row.fetchAll(db, sql: """
                SELECT c.lead AS agency,
                    sum(e.type = 'case.rework') AS reworked,
                    sum(e.type = 'case.evaluated' AND CAST(e.data AS TEXT) LIKE '%"dissatisfied"%') AS redone,
                    sum(e.type = 'case.evaluated') AS rated,
                    sum(e.type = 'case.evaluated' AND CAST(e.data AS TEXT) NOT LIKE '%"dissatisfied"%') AS satisfied
                FROM events e JOIN cases c ON c.case_id = e.case_id
                WHERE e.type IN ('case.rework', 'case.evaluated') AND e.at >= ? AND e.at < ? AND c.lead IS NOT NULL
                GROUP BY c.lead ORDER BY c.lead
                """, arguments: [since ?? Int64.min, until ?? Int64.max]).map { r in
                [r["agency"] as String: [r["reworked"], r["redone"], r["rated"], r["satisfied"]] as [Int]]
            }
        }
    }
}
