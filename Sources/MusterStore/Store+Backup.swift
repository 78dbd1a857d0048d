import Foundation
import GRDB

extension Store {
    /// What a backup holds, for the operator to compare with the live database.
    public struct BackupReport: Sendable, CustomStringConvertible {
        public var path: String
        public var cases: Int
        public var events: Int
        public var lastSeq: Int64
        public var bytes: Int64
        public var description: String {
            "\(path): \(cases) cases, \(events) events (last seq \(lastSeq)), \(bytes) bytes — integrity ok"
        }
    }

    public struct BackupFailure: Error, CustomStringConvertible {
        public var description: String
    }

    /// A consistent copy of the database at `database` in `to`, taken with SQLite's online backup
    /// (GRDB's `backup(to:)`) through a read-only connection — while a broker runs: its commits
    /// wait for nothing, the copy is one transaction's state. Written beside `to` first, checked
    /// (`PRAGMA integrity_check`), synced and renamed: a backup that fails leaves no file behind.
    public static func backup(database: String, to: String) throws -> BackupReport {
        guard FileManager.default.fileExists(atPath: database) else { throw BackupFailure(description: "no database at \(database)") }
        guard !FileManager.default.fileExists(atPath: to) else {
            throw BackupFailure(description: "\(to) exists: give a new file (backups are never overwritten)")
        }
        var readOnly = Configuration()
        readOnly.readonly = true
        let partial = to + ".partial"
        try? FileManager.default.removeItem(atPath: partial)
        do {
            let source = try DatabasePool(path: database, configuration: readOnly)
            let copy = try DatabaseQueue(path: partial)
            try source.backup(to: copy)
            let report = try copy.read { db -> BackupReport in
                let check = try String.fetchAll(db, sql: "PRAGMA integrity_check")
                guard check == ["ok"] else { throw BackupFailure(description: "the copy fails SQLite's integrity check: \(check.prefix(5).joined(separator: "; "))") }
                return BackupReport(path: to, cases: try Int.fetchOne(db, sql: "SELECT count(*) FROM cases") ?? 0,
                                    events: try Int.fetchOne(db, sql: "SELECT count(*) FROM events") ?? 0,
                                    lastSeq: try Int64.fetchOne(db, sql: "SELECT max(seq) FROM events") ?? 0, bytes: 0)
            }
            try copy.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode = DELETE") }
            try copy.close()
            let fd = open(partial, O_RDONLY)
            if fd >= 0 { fsync(fd); close(fd) }
            guard rename(partial, to) == 0 else { throw BackupFailure(description: "cannot move the copy to \(to): \(String(cString: strerror(errno)))") }
            var done = report
            done.bytes = ((try? FileManager.default.attributesOfItem(atPath: to)[.size]) as? NSNumber)?.int64Value ?? 0
            return done
        } catch {
            try? FileManager.default.removeItem(atPath: partial)
            throw error
        }
    }
}
