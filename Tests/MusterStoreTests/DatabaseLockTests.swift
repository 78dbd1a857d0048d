import Foundation
import Testing
@testable import MusterStore

// The store's contract tests are in StoreContractTests.swift; these are the SQLite file's own.

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
