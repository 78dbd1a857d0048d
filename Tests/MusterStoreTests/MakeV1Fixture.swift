import Foundation
import GRDB
import Testing
@testable import MusterStore

/// Writes Fixtures/v1.db with the log codec of its day (synthesized-Codable facts, "v1"):
/// `MUSTER_WRITE_V1_FIXTURE=path swift test --filter MakeV1Fixture`. Kept only until the log
/// moved to v2; the fixture is committed, and is what later code must keep reading.
@Suite struct MakeV1Fixture {
    @Test(.enabled(if: ProcessInfo.processInfo.environment["MUSTER_WRITE_V1_FIXTURE"] != nil))
    func write() throws {
        let out = ProcessInfo.processInfo.environment["MUSTER_WRITE_V1_FIXTURE"]!
        let path = StoreTests.tempDB()
        do {
            var h = try StoreTests.Harness(path: path)
            try h.aDayAtTheCentre()
            #expect(try h.store.verifyLog().ok)
        }
        // One self-contained file: the WAL folded in, no pid or shm beside it.
        let q = try DatabaseQueue(path: path)
        try q.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
            try db.execute(sql: "PRAGMA journal_mode = DELETE")
            try db.execute(sql: "VACUUM")
        }
        try? FileManager.default.removeItem(atPath: out)
        try FileManager.default.copyItem(atPath: path, toPath: out)
    }
}
