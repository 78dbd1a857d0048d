import Foundation
import GRDB
import MusterWire

/// The adapter's acts not yet answered by the broker, in a SQLite file beside it: an act is
/// written (synchronous=FULL) before the plugin is told it is taken, and deleted once the broker
/// has answered it, so a kill -9 of the adapter at any instant loses none. An act whose id is
/// already queued is the same act (a downstream update seen twice) and is dropped.
public final class ActQueue: Sendable {
    private let db: DatabaseQueue
    public let path: String

    public init(path: String) throws {
        self.path = path
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        var config = Configuration()
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        db = try DatabaseQueue(path: path, configuration: config)
        var m = DatabaseMigrator()
        m.registerMigration("v1: acts") { db in
            try db.execute(sql: """
                CREATE TABLE acts (
                    seq INTEGER PRIMARY KEY,
                    id TEXT NOT NULL UNIQUE,       -- the request id, from the downstream's update key
                    command TEXT NOT NULL,
                    body BLOB NOT NULL,            -- the whole request body
                    queued_at INTEGER NOT NULL
                );
                """)
        }
        try m.migrate(db)
    }

    /// Queues the act, durably; false if an act of that id is queued already.
    @discardableResult
    public func enqueue(_ act: Act, at now: Date = Date()) throws -> Bool {
        try db.write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO acts (id, command, body, queued_at) VALUES (?, ?, ?, ?)",
                           arguments: [act.id, act.command.rawValue, Data(act.body), Int64(now.timeIntervalSince1970 * 1000)])
            return db.changesCount > 0
        }
    }

    /// The broker answered it (OK, or an ERROR that sending again would not change).
    public func answered(_ id: String) throws {
        try db.write { db in try db.execute(sql: "DELETE FROM acts WHERE id = ?", arguments: [id]) }
    }

    /// Acts not yet answered, oldest first: (id, command, whole body).
    public func pending() throws -> [(id: String, command: Command, body: [UInt8])] {
        try db.read { db in
            try Row.fetchAll(db, sql: "SELECT id, command, body FROM acts ORDER BY seq").compactMap { row in
                guard let c = Command(rawValue: row["command"]) else { return nil }
                let body: Data = row["body"]
                return (row["id"], c, Array(body))
            }
        }
    }
}
