import Foundation
import GRDB
import MusterAdapterKit
import MusterWire

/// The desk's own inbox, in a SQLite file beside the adapter: a DISPATCH, SUMMON or NOTICE is
/// written here (synchronous=FULL) before the push is acknowledged, and the state a seat's acts
/// put it in is kept with it, so a restart of the adapter finds every item as it was.
final class Inbox: Sendable {
    /// Where an item stands, as the desk sees it (the broker's answer to an act is not seen here).
    enum State: String, Sendable, CaseIterable {
        case sent, acked, resolved, returned          // a dispatch
        case summoned, enRoute = "en_route", onSite = "on_site"  // a summon
        case notice                                   // a NOTICE: a message to read

        var zh: String {
            switch self {
            case .sent: "待签收"; case .acked: "处置中"; case .resolved: "已办结"; case .returned: "已退回"
            case .summoned: "待出发"; case .enRoute: "在途"; case .onSite: "已到场"; case .notice: "消息"
            }
        }
        /// Still waiting for the desk.
        var open: Bool { [.sent, .acked, .summoned, .enRoute].contains(self) }
    }

    enum Kind: String, Sendable { case dispatch, summon, notice }

    // Unchecked: `body` is the push parsed by JSONSerialization, never changed after reading.
    struct Item: @unchecked Sendable {
        var seq: Int64
        var subject: String
        var kind: Kind
        var body: [String: Any]
        var state: State
        var receivedAt: Date
        var updatedAt: Date
        /// The desk's id for it, given to the broker as the work's `ref` (externalID).
        var ref: String { "ZX-\(seq)" }
    }

    struct Entry: Sendable {
        var at: Date
        var seat: String
        var action: String
        var text: String
    }

    private let db: DatabaseQueue
    let path: String

    init(path: String) throws {
        self.path = path
        db = try LocalDatabase.open(path)
        var m = DatabaseMigrator()
        m.registerMigration("v1: items and their history") { db in
            try db.execute(sql: """
                CREATE TABLE items (
                    seq INTEGER PRIMARY KEY,
                    subject TEXT NOT NULL UNIQUE,   -- dispatch_id, summon_id, or notice:DELIVERY
                    kind TEXT NOT NULL,
                    body BLOB NOT NULL,             -- the push as the broker sent it
                    state TEXT NOT NULL,
                    received_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL
                );
                CREATE TABLE history (
                    seq INTEGER PRIMARY KEY,
                    item INTEGER NOT NULL REFERENCES items(seq),
                    at INTEGER NOT NULL,
                    seat TEXT NOT NULL,
                    action TEXT NOT NULL,
                    text TEXT NOT NULL
                );
                CREATE INDEX history_by_item ON history (item);
                """)
        }
        try m.migrate(db)
    }

    /// Stores a push (once: the same subject again is the item there). Returns it and whether it is new.
    func store(_ command: Command, body raw: [UInt8], now: Date = Date()) throws -> (Item, Bool) {
        let doc = (try? JSONSerialization.jsonObject(with: Data(raw))) as? [String: Any] ?? [:]
        let (kind, subject, state): (Kind, String, State) = switch command {
        case .dispatch: (.dispatch, doc["dispatch_id"] as? String ?? "dispatch:\(doc["delivery"] as? String ?? "?")", .sent)
        case .summon: (.summon, doc["summon_id"] as? String ?? "summon:\(doc["delivery"] as? String ?? "?")", .summoned)
        default: (.notice, "notice:\(doc["delivery"] as? String ?? UUID().uuidString)", .notice)
        }
        let ms = Int64(now.timeIntervalSince1970 * 1000)
        let fresh = try db.write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO items (subject, kind, body, state, received_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: [subject, kind.rawValue, Data(raw), state.rawValue, ms, ms])
            return db.changesCount > 0
        }
        guard let item = try item(subject: subject) else { throw CocoaError(.fileReadUnknown) }
        return (item, fresh)
    }

    /// A seat acted: the item's new state (if the act changes it) and a line of its history, together.
    func record(_ seq: Int64, state: State?, seat: String, action: String, text: String, now: Date = Date()) throws {
        let ms = Int64(now.timeIntervalSince1970 * 1000)
        try db.write { db in
            if let state {
                try db.execute(sql: "UPDATE items SET state = ?, updated_at = ? WHERE seq = ?", arguments: [state.rawValue, ms, seq])
            } else {
                try db.execute(sql: "UPDATE items SET updated_at = ? WHERE seq = ?", arguments: [ms, seq])
            }
            try db.execute(sql: "INSERT INTO history (item, at, seat, action, text) VALUES (?, ?, ?, ?, ?)",
                           arguments: [seq, ms, seat, action, text])
        }
    }

    func item(_ seq: Int64) throws -> Item? {
        try db.read { db in try Row.fetchOne(db, sql: "SELECT * FROM items WHERE seq = ?", arguments: [seq]).map(Self.item) }
    }

    func item(subject: String) throws -> Item? {
        try db.read { db in try Row.fetchOne(db, sql: "SELECT * FROM items WHERE subject = ?", arguments: [subject]).map(Self.item) }
    }

    /// Every item, open ones first, newest first within each.
    func all(limit: Int = 500) throws -> [Item] {
        let open = State.allCases.filter(\.open).map { "'\($0.rawValue)'" }.joined(separator: ",")
        return try db.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM items ORDER BY (state IN (\(open))) DESC, seq DESC LIMIT ?", arguments: [limit]).map(Self.item)
        }
    }

    func history(_ seq: Int64) throws -> [Entry] {
        try db.read { db in
            try Row.fetchAll(db, sql: "SELECT at, seat, action, text FROM history WHERE item = ? ORDER BY seq", arguments: [seq]).map { row in
                Entry(at: Date(timeIntervalSince1970: Double(row["at"] as Int64) / 1000), seat: row["seat"], action: row["action"], text: row["text"])
            }
        }
    }

    private static func item(_ row: Row) -> Item {
        let body: Data = row["body"]
        return Item(seq: row["seq"], subject: row["subject"], kind: Kind(rawValue: row["kind"]) ?? .notice,
                    body: (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:],
                    state: State(rawValue: row["state"]) ?? .notice,
                    receivedAt: Date(timeIntervalSince1970: Double(row["received_at"] as Int64) / 1000),
                    updatedAt: Date(timeIntervalSince1970: Double(row["updated_at"] as Int64) / 1000))
    }
}
