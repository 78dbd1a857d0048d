import GRDB
import GRDBSQLite
import Synchronization

/// A statement's text with a number of its own, by which a connection's `PreparedStatements`
/// finds it. Each takes a number for good: declare one as a `static let`, never per call.
struct StatementSQL: Sendable {
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
/// It belongs to the first connection it is used on, and is used inside that connection's queue
/// only (so never by two threads at once). The broker's connections live as long as the store
/// and no migration runs after it opens (it holds the database's lock), so a statement kept here
/// stays prepared for the schema it was made for.
final class PreparedStatements: @unchecked Sendable {
    private var slots: [Statement?] = []
    private var connection: OpaquePointer?

    func callAsFunction(_ db: Database, _ sql: StatementSQL) throws -> Statement {
        if connection == nil { connection = db.sqliteConnection }
        precondition(connection == db.sqliteConnection, "statements prepared for one connection, asked for on another")
        if sql.slot < slots.count, let s = slots[sql.slot] { return s }
        let s = try db.cachedStatement(sql: sql.text)
        if sql.slot >= slots.count { slots.append(contentsOf: repeatElement(nil, count: sql.slot + 1 - slots.count)) }
        slots[sql.slot] = s
        return s
    }
}

extension Database {
    /// `sql`'s statement from `prepared` when there is one (a connection the store keeps), else
    /// from GRDB's cache (any other connection).
    func statement(_ sql: StatementSQL, _ prepared: PreparedStatements?) throws -> Statement {
        if let prepared { try prepared(self, sql) } else { try cachedStatement(sql: sql.text) }
    }
}
