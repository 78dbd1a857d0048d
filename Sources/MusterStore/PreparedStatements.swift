import GRDB
import GRDBSQLite
import Synchronization

/// A statement's text with a number of its own, by which a connection's `PreparedStatements`
/// finds it. Declared once (a `static let`), never made per call.
struct SQL: Sendable {
    let text: String
    let slot: Int
    private static let made = Atomic<Int>(0)

    init(_ text: String) {
        self.text = text
        slot = Self.made.add(1, ordering: .relaxed).oldValue
    }
}

/// The statements one connection runs over and over, prepared once and found by number. GRDB's
/// `cachedStatement(sql:)` finds a statement by hashing its whole text, ~1,200 instructions for a
/// few hundred bytes: a lone SUBMIT's commit and look-ups found ~22 that way (3 % of its count).
/// Used by one connection at a time (inside its queue); a statement of another connection is
/// never returned: asked with another, it prepares that one's instead.
final class PreparedStatements: @unchecked Sendable {
    private var slots: [Statement?] = []

    func callAsFunction(_ db: Database, _ sql: SQL) throws -> Statement {
        if sql.slot < slots.count, let s = slots[sql.slot], sqlite3_db_handle(s.sqliteStatement) == db.sqliteConnection {
            return s
        }
        let s = try db.cachedStatement(sql: sql.text)
        if sql.slot >= slots.count { slots.append(contentsOf: repeatElement(nil, count: sql.slot + 1 - slots.count)) }
        slots[sql.slot] = s
        return s
    }
}

extension Database {
    /// `sql`'s statement from `prepared` when there is one (a connection the store keeps), else
    /// from GRDB's cache (any other connection).
    func statement(_ sql: SQL, _ prepared: PreparedStatements?) throws -> Statement {
        if let prepared { try prepared(self, sql) } else { try cachedStatement(sql: sql.text) }
    }
}
