import Foundation
import GRDB
import Testing
@testable import MusterStore

/// A new database is made with `Store.pageSize` pages. A database keeps the page size it was
/// made with (only a VACUUM outside WAL mode changes it): one of 4 KB pages, as every database
/// before 2026-12-05 is, keeps them and works as before.
@Suite struct PageSizeTests {
    static func pageSize(_ path: String) throws -> Int? {
        try DatabaseQueue(path: path).read { try Int.fetchOne($0, sql: "PRAGMA page_size") }
    }

    @Test func aNewDatabaseIsMadeWithEightKilobytePages() throws {
        let store = try Store(path: StoreFixtures.tempDB())
        var h = try Harness(store)
        _ = try h.fullCase(1)
        #expect(try Self.pageSize(store.path) == 8192)
    }

    @Test func aDatabaseMadeWithFourKilobytePagesKeepsThemAndTakesCommits() throws {
        let path = StoreFixtures.tempDB()
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try DatabaseQueue(path: path).writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA page_size = 4096; PRAGMA journal_mode = WAL; CREATE TABLE made_before (x)")
        }
        let store = try Store(path: path)
        var h = try Harness(store)
        let c = try h.fullCase(1)
        #expect(try Self.pageSize(path) == 4096)
        #expect(try store.read { try String.fetchOne($0, sql: "SELECT state FROM cases WHERE case_id = ?", arguments: [c]) } == "closed")
        #expect(try store.verifyLog().ok)
    }
}
