import Foundation
import GRDB
import MusterWire

/// The adapter's acts, in a SQLite file beside it: an act is written (synchronous=FULL) before
/// the plugin is told it is taken, and marked answered once the broker has answered it, so a
/// kill -9 of the adapter at any instant loses none. An act whose id is already there — waiting
/// or answered in the last `keepAnswered` — is the same act (a downstream update seen twice, a
/// page polled again) and is dropped. Beside them:
/// the downstream's own ids for the work it took (工单号 → dispatch), and polling cursors, each
/// written in the same transaction as the acts they led to.
public final class ActQueue: Sendable {
    private let db: DatabaseQueue
    public let path: String

    /// How long an answered act's id is kept to drop repeats by.
    public static let keepAnswered: TimeInterval = 30 * 86_400

    public init(path: String) throws {
        self.path = path
        db = try LocalDatabase.open(path)
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
        m.registerMigration("v2: refs and cursors") { db in
            try db.execute(sql: """
                CREATE TABLE refs (
                    ref TEXT PRIMARY KEY,          -- the downstream's own id for the work (its 工单号)
                    subject TEXT NOT NULL          -- the dispatch (or summon) it took
                );
                CREATE INDEX refs_by_subject ON refs (subject);
                CREATE TABLE cursors (
                    name TEXT PRIMARY KEY,         -- which feed (a plugin may poll several)
                    value TEXT NOT NULL            -- where the next read starts (the downstream's since)
                );
                """)
        }
        m.registerMigration("v3: answered acts kept to drop repeats by") { db in
            try db.execute(sql: "ALTER TABLE acts ADD COLUMN answered_at INTEGER")  // NULL: waiting for the broker
            try db.execute(sql: "CREATE INDEX acts_waiting ON acts (seq) WHERE answered_at IS NULL")
        }
        m.registerMigration("v4: pushes taken") { db in
            try db.execute(sql: """
                CREATE TABLE pushes (
                    subject TEXT PRIMARY KEY,      -- the dispatch or summon
                    body BLOB NOT NULL,            -- the push as the broker sent it
                    taken_at INTEGER NOT NULL
                );
                """)
        }
        m.registerMigration("v5: the broker's answers") { db in
            // The answer's command (OK, ACCEPTED, ERROR) and body: an intake plugin tells its
            // caller the case id from it, also after a restart (the hotline's GET of a work order).
            try db.execute(sql: "ALTER TABLE acts ADD COLUMN answer_command TEXT")
            try db.execute(sql: "ALTER TABLE acts ADD COLUMN answer BLOB")
        }
        try m.migrate(db)
        let horizon = Int64((Date().timeIntervalSince1970 - Self.keepAnswered) * 1000)
        try db.write { db in
            try db.execute(sql: "DELETE FROM acts WHERE answered_at < ?", arguments: [horizon])
            try db.execute(sql: "DELETE FROM pushes WHERE taken_at < ?", arguments: [horizon])
        }
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

    /// Queues acts together with the cursor of the feed they were read from, in one transaction:
    /// all or none, so a crash neither loses an update nor reads it twice. Returns the acts that
    /// were new (the others are repeats, dropped).
    public func enqueue(_ acts: [Act], cursor: (name: String, value: String)? = nil, at now: Date = Date()) throws -> [Act] {
        try db.write { db in
            var fresh: [Act] = []
            for act in acts {
                try db.execute(sql: "INSERT OR IGNORE INTO acts (id, command, body, queued_at) VALUES (?, ?, ?, ?)",
                               arguments: [act.id, act.command.rawValue, Data(act.body), Int64(now.timeIntervalSince1970 * 1000)])
                if db.changesCount > 0 { fresh.append(act) }
            }
            if let cursor {
                try db.execute(sql: "INSERT OR REPLACE INTO cursors (name, value) VALUES (?, ?)", arguments: [cursor.name, cursor.value])
            }
            return fresh
        }
    }

    /// Moves the feed `name` on (the events' cursor: only forward).
    public func advance(_ name: String, to value: Int64) throws {
        try db.write { db in
            try db.execute(sql: """
                INSERT INTO cursors (name, value) VALUES (?, ?)
                ON CONFLICT (name) DO UPDATE SET value = excluded.value WHERE CAST(cursors.value AS INTEGER) < CAST(excluded.value AS INTEGER)
                """, arguments: [name, String(value)])
        }
    }

    /// Where the feed `name` reads next; nil before its first read.
    public func cursor(_ name: String) throws -> String? {
        try db.read { db in try String.fetchOne(db, sql: "SELECT value FROM cursors WHERE name = ?", arguments: [name]) }
    }

    /// The downstream took `subject` (a dispatch or summon id) under its own id `ref`.
    public func remember(ref: String, subject: String) throws {
        try db.write { db in try db.execute(sql: "INSERT OR REPLACE INTO refs (ref, subject) VALUES (?, ?)", arguments: [ref, subject]) }
    }

    /// The push of `subject` the downstream took (kept 30 days, for the plugin's rules to read).
    public func remember(push body: [UInt8], subject: String, at now: Date = Date()) throws {
        try db.write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO pushes (subject, body, taken_at) VALUES (?, ?, ?)",
                           arguments: [subject, Data(body), Int64(now.timeIntervalSince1970 * 1000)])
        }
    }

    public func push(ofSubject subject: String) throws -> [UInt8]? {
        try db.read { db in try Data.fetchOne(db, sql: "SELECT body FROM pushes WHERE subject = ?", arguments: [subject]).map { Array($0) } }
    }

    public func subject(ofRef ref: String) throws -> String? {
        try db.read { db in try String.fetchOne(db, sql: "SELECT subject FROM refs WHERE ref = ?", arguments: [ref]) }
    }

    public func ref(ofSubject subject: String) throws -> String? {
        try db.read { db in try String.fetchOne(db, sql: "SELECT ref FROM refs WHERE subject = ? ORDER BY rowid DESC LIMIT 1", arguments: [subject]) }
    }

    /// The broker answered it (OK, or an ERROR that sending again would not change); the answer
    /// is kept as long as the act's id.
    public func answered(_ id: String, _ answer: ActAnswer? = nil) throws {
        try db.write { db in
            try db.execute(sql: "UPDATE acts SET answered_at = ?, body = x'', answer_command = ?, answer = ? WHERE id = ?",
                           arguments: [Int64(Date().timeIntervalSince1970 * 1000), answer?.command.rawValue, answer.map { Data($0.body) }, id])
        }
    }

    /// The broker's answer to act `id`: nil while it waits (or if no act has that id), and for
    /// acts answered before answers were kept.
    public func answer(_ id: String) throws -> ActAnswer? {
        try db.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT answer_command, answer FROM acts WHERE id = ? AND answered_at IS NOT NULL", arguments: [id]),
                  let c = (row["answer_command"] as String?).flatMap(Command.init(rawValue:)) else { return nil }
            let body: Data = row["answer"] ?? Data()
            return ActAnswer(command: c, body: Array(body))
        }
    }

    /// Whether act `id` is in the queue, waiting or answered.
    public func contains(_ id: String) throws -> Bool {
        try db.read { db in try Bool.fetchOne(db, sql: "SELECT 1 FROM acts WHERE id = ?", arguments: [id]) ?? false }
    }

    /// Acts not yet answered, oldest first: (id, command, whole body).
    public func pending() throws -> [(id: String, command: Command, body: [UInt8])] {
        try db.read { db in
            try Row.fetchAll(db, sql: "SELECT id, command, body FROM acts WHERE answered_at IS NULL ORDER BY seq").compactMap { row in
                guard let c = Command(rawValue: row["command"]) else { return nil }
                let body: Data = row["body"]
                return (row["id"], c, Array(body))
            }
        }
    }
}
