import Foundation
import GRDB
import MusterAdapterKit

/// The hotline adapter's own book, a SQLite file beside it: the platform's work orders (with the
/// caller's contact, which stays with the hotline), the status changes the platform polls, and
/// the follow-up calls (回访) to make. Written before anything is answered, like the act queue.
final class HotlineBook: Sendable {
    /// A follow-up call: waiting to be made (again), answered with a rating, or given up after
    /// the configured attempts (未接通).
    enum CallState: String, Sendable { case waiting, answered, unreached }

    struct Order: Sendable, Equatable {
        var orderNo: String
        var actID: String
        var caseID: String?
        var mergedInto: String?
        /// A merged order follows its case's events from this seq on — that of the case's
        /// `case.report_merged` naming it; `mergeNotYetRead` until that event is read. Nil: every
        /// event (an order's own case, and orders merged before the book kept this).
        var followsFrom: Int64? = nil
        var callback: Bool
        var name: String?
        var phone: String?
    }

    struct Update: Sendable, Equatable {
        /// Its place in the platform's feed: in the order recorded, which is not always the
        /// events' (an event may wait for its order's answer), so the feed pages on this.
        var id: Int64 = 0
        var seq: Int64
        var orderNo: String
        var caseID: String
        var status: String
        var at: String
        var note: String?
    }

    struct Call: Sendable, Equatable {
        var caseID: String
        /// The event seq of the finish it follows up (a redo finishes again: a new round of calls).
        var finishSeq: Int64
        var orderNo: String
        var name: String?
        var phone: String?
        var dueAt: String
        var state: CallState
        var attempts: Int
        var satisfaction: String?
        var note: String?
    }

    private let db: DatabaseQueue
    let path: String

    init(path: String) throws {
        self.path = path
        db = try LocalDatabase.open(path)
        var m = DatabaseMigrator()
        m.registerMigration("v1: orders, updates, follow-up calls") { db in
            try db.execute(sql: """
                CREATE TABLE orders (
                    order_no TEXT PRIMARY KEY,      -- 工单编号
                    act_id TEXT NOT NULL,           -- its SUBMIT's request id (a corrected resend of a refused order is a new one)
                    case_id TEXT,                   -- once ACCEPTED
                    merged_into TEXT,               -- the open case it joined (并单): called back when that one finishes
                    callback INTEGER NOT NULL,      -- 是否回访
                    name TEXT,
                    phone TEXT,
                    taken_at INTEGER NOT NULL
                );
                CREATE INDEX orders_by_case ON orders (case_id);
                CREATE INDEX orders_by_target ON orders (merged_into);
                CREATE TABLE updates (
                    seq INTEGER NOT NULL,           -- the broker's event seq
                    order_no TEXT NOT NULL,
                    case_id TEXT NOT NULL,
                    status TEXT NOT NULL,
                    at TEXT NOT NULL,
                    note TEXT,
                    PRIMARY KEY (seq, order_no)
                );
                CREATE TABLE calls (
                    case_id TEXT NOT NULL,
                    finish_seq INTEGER NOT NULL,
                    order_no TEXT NOT NULL,
                    due_at TEXT NOT NULL,           -- the broker's 回访 deadline (its evaluate clock)
                    state TEXT NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    satisfaction TEXT,
                    note TEXT,
                    updated_at INTEGER NOT NULL,
                    PRIMARY KEY (case_id, finish_seq, order_no)
                );
                CREATE INDEX calls_waiting ON calls (state, due_at);
                """)
        }
        m.registerMigration("v2: the status feed in the order recorded") { db in
            try db.execute(sql: """
                CREATE TABLE feed (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    seq INTEGER NOT NULL, order_no TEXT NOT NULL, case_id TEXT NOT NULL, status TEXT NOT NULL, at TEXT NOT NULL, note TEXT,
                    UNIQUE (seq, order_no)
                );
                INSERT INTO feed (seq, order_no, case_id, status, at, note) SELECT seq, order_no, case_id, status, at, note FROM updates ORDER BY seq, order_no;
                DROP TABLE updates;
                ALTER TABLE feed RENAME TO updates;
                """)
        }
        m.registerMigration("v3: where a merged order's feed begins") { db in
            try db.execute(sql: "ALTER TABLE orders ADD COLUMN follows_from INTEGER")
        }
        try m.migrate(db)
    }

    /// A merged order's `followsFrom` until its merge's event is read: no event yet.
    static let mergeNotYetRead = Int64.max

    private static func ms(_ d: Date) -> Int64 { Int64(d.timeIntervalSince1970 * 1000) }

    /// A work order taken. Until the broker accepted it, a resend replaces it (the platform
    /// corrected what was refused); once accepted, it is that case and a resend changes nothing.
    func take(_ o: Order, at now: Date = Date()) throws {
        try db.write { db in
            try db.execute(sql: """
                INSERT INTO orders (order_no, act_id, callback, name, phone, taken_at) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (order_no) DO UPDATE SET act_id = excluded.act_id, callback = excluded.callback, name = excluded.name,
                    phone = excluded.phone, taken_at = excluded.taken_at WHERE orders.case_id IS NULL
                """, arguments: [o.orderNo, o.actID, o.callback, o.name, o.phone, Self.ms(now)])
        }
    }

    func order(_ orderNo: String) throws -> Order? {
        try db.read { db in try Row.fetchOne(db, sql: "SELECT * FROM orders WHERE order_no = ?", arguments: [orderNo]).map(Self.order) }
    }

    /// The order whose SUBMIT is act `actID`.
    func order(ofAct actID: String) throws -> Order? {
        try db.read { db in try Row.fetchOne(db, sql: "SELECT * FROM orders WHERE act_id = ?", arguments: [actID]).map(Self.order) }
    }

    /// The broker refused the order: nothing of it waits for an answer any more.
    func refused(actID: String) throws {
        try db.write { db in try db.execute(sql: "UPDATE orders SET taken_at = 0 WHERE act_id = ? AND case_id IS NULL", arguments: [actID]) }
    }

    /// The broker accepted the order as `caseID` (joined to `mergedInto`, if merged). A merged
    /// order takes none of its case's events until the merge's own event says where it joined:
    /// an event from before the merge may still be on its way when the answer is recorded.
    func accepted(_ orderNo: String, caseID: String, mergedInto: String?) throws {
        try db.write { db in
            try db.execute(sql: """
                UPDATE orders SET case_id = ?1, merged_into = ?2,
                    follows_from = CASE WHEN ?2 IS NULL THEN NULL ELSE coalesce(follows_from, ?3) END
                WHERE order_no = ?4
                """, arguments: [caseID, mergedInto, Self.mergeNotYetRead, orderNo])
        }
    }

    /// The case `mergedCase` (a merged order's own) joined its target at event `seq`: the order
    /// follows the target from there. False when no order in the book is that case.
    func joined(_ mergedCase: String, at seq: Int64) throws -> Bool {
        try db.write { db in
            try db.execute(sql: "UPDATE orders SET follows_from = ? WHERE case_id = ? AND merged_into IS NOT NULL", arguments: [seq, mergedCase])
            return db.changesCount > 0
        }
    }

    /// The orders a case's events concern: its own, and those merged into it.
    func orders(of caseID: String) throws -> [Order] {
        try db.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM orders WHERE case_id = ? OR merged_into = ? ORDER BY order_no", arguments: [caseID, caseID]).map(Self.order)
        }
    }

    /// The SUBMITs of orders taken since `since` and not yet accepted: an event of an unknown
    /// case may be one of theirs, its answer not yet in.
    func unaccepted(since: Date) throws -> [String] {
        try db.read { db in
            try String.fetchAll(db, sql: "SELECT act_id FROM orders WHERE case_id IS NULL AND taken_at >= ? LIMIT 50", arguments: [Self.ms(since)])
        }
    }

    static func order(_ r: Row) -> Order {
        Order(orderNo: r["order_no"], actID: r["act_id"], caseID: r["case_id"], mergedInto: r["merged_into"], followsFrom: r["follows_from"],
              callback: r["callback"], name: r["name"], phone: r["phone"])
    }

    /// A status change of an order, once per (event, order).
    func record(_ u: Update) throws {
        try db.write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO updates (seq, order_no, case_id, status, at, note) VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: [u.seq, u.orderNo, u.caseID, u.status, u.at, u.note])
        }
    }

    /// Status changes recorded after feed position `id`, in the order recorded.
    func updates(after id: Int64, limit: Int) throws -> [Update] {
        try db.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM updates WHERE id > ? ORDER BY id LIMIT ?", arguments: [id, limit]).map { r in
                Update(id: r["id"], seq: r["seq"], orderNo: r["order_no"], caseID: r["case_id"], status: r["status"], at: r["at"], note: r["note"])
            }
        }
    }

    /// The follow-up calls of one finish: each caller who asked for one (once per finish).
    func scheduleCalls(caseID: String, finishSeq: Int64, dueAt: String, orders: [Order], at now: Date = Date()) throws {
        try db.write { db in
            for o in orders where o.callback {
                try db.execute(sql: "INSERT OR IGNORE INTO calls (case_id, finish_seq, order_no, due_at, state, updated_at) VALUES (?, ?, ?, ?, 'waiting', ?)",
                               arguments: [caseID, finishSeq, o.orderNo, dueAt, Self.ms(now)])
            }
        }
    }

    /// The calls in a state, soonest due first, with the callers' contact.
    func calls(_ state: CallState? = nil, caseID: String? = nil) throws -> [Call] {
        try db.read { db in
            var sql = "SELECT c.*, o.name, o.phone FROM calls c JOIN orders o ON o.order_no = c.order_no WHERE 1 = 1"
            var args: [any DatabaseValueConvertible] = []
            if let state { sql += " AND c.state = ?"; args.append(state.rawValue) }
            if let caseID { sql += " AND c.case_id = ?"; args.append(caseID) }
            sql += " ORDER BY c.due_at, c.case_id, c.order_no"
            return try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args)).map(Self.call)
        }
    }

    static func call(_ r: Row) -> Call {
        Call(caseID: r["case_id"], finishSeq: r["finish_seq"], orderNo: r["order_no"], name: r["name"], phone: r["phone"], dueAt: r["due_at"],
             state: CallState(rawValue: r["state"]) ?? .waiting, attempts: r["attempts"], satisfaction: r["satisfaction"], note: r["note"])
    }

    /// The calls of every finish settled (no call waiting) since `since`: a crash between
    /// settling the last call and queuing its EVALUATE is mended by queuing it again at start.
    func settledFinishes(since: Date) throws -> [[Call]] {
        try db.read { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT c.*, o.name, o.phone FROM calls c JOIN orders o ON o.order_no = c.order_no
                WHERE (c.case_id, c.finish_seq) IN (
                    SELECT case_id, finish_seq FROM calls GROUP BY case_id, finish_seq
                    HAVING sum(state = 'waiting') = 0 AND max(updated_at) >= ?)
                ORDER BY c.case_id, c.finish_seq, c.order_no
                """, arguments: [Self.ms(since)])
            var groups: [[Call]] = []
            for call in rows.map(Self.call) {
                if let last = groups.last?.last, last.caseID == call.caseID, last.finishSeq == call.finishSeq {
                    groups[groups.count - 1].append(call)
                } else {
                    groups.append([call])
                }
            }
            return groups
        }
    }

    /// Records one call's outcome, and returns every call of that finish as it now stands —
    /// all in one transaction, so two operators recording at once see each other's.
    func settle(caseID: String, orderNo: String, _ change: (inout Call) throws -> Void, at now: Date = Date()) throws -> [Call] {
        try db.write { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT c.*, o.name, o.phone FROM calls c JOIN orders o ON o.order_no = c.order_no
                WHERE c.case_id = ? AND c.order_no = ? ORDER BY c.finish_seq DESC LIMIT 1
                """, arguments: [caseID, orderNo]) else { throw FollowUp.Refusal(status: 404, field: "order_no", message: "无此回访 — no follow-up call for \(orderNo) on \(caseID)") }
            var call = Self.call(row)
            try change(&call)
            try db.execute(sql: "UPDATE calls SET state = ?, attempts = ?, satisfaction = ?, note = ?, updated_at = ? WHERE case_id = ? AND finish_seq = ? AND order_no = ?",
                           arguments: [call.state.rawValue, call.attempts, call.satisfaction, call.note, Self.ms(now), call.caseID, call.finishSeq, call.orderNo])
            return try Row.fetchAll(db, sql: """
                SELECT c.*, o.name, o.phone FROM calls c JOIN orders o ON o.order_no = c.order_no
                WHERE c.case_id = ? AND c.finish_seq = ? ORDER BY c.order_no
                """, arguments: [caseID, call.finishSeq]).map(Self.call)
        }
    }
}
