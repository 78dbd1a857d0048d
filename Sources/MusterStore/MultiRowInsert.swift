import GRDB

/// An INSERT of many rows in one statement, `VALUES (…), (…), …`, up to `chunk` rows a step.
/// Each statement SQLite runs pays a fixed part — opening its cursors, starting and ending its
/// statement transaction, resetting — about as much as writing a small row: a lifecycle's nine
/// facts and five stored replies paid it fourteen times, a batch's now pay it once per sixteen.
///
/// Only `INSERT OR FAIL` or `OR IGNORE`, into tables without foreign keys: a statement of many
/// rows that may abort must undo itself alone, so SQLite keeps every page it changes in a
/// statement journal, spilled to a temporary file past 64 KB — written and deleted at every
/// commit (+8 write calls a lifecycle, measured; kept in memory, +1.2 % instructions). FAIL keeps
/// the rows before a refused one, which changes nothing here: the caller's transaction is taken
/// back whole on any error.
struct MultiRowInsert: Sendable {
    /// The statement for 1…chunk rows (index n − 1).
    private let sql: [StatementSQL]
    private let columns: Int
    static let chunk = 16

    /// `head`: `INSERT … INTO table (columns) VALUES`; `columns`: how many values a row binds.
    init(_ head: String, columns: Int) {
        precondition(head.hasPrefix("INSERT OR FAIL ") || head.hasPrefix("INSERT OR IGNORE "), "a multi-row INSERT that may abort needs a statement journal")
        self.columns = columns
        let row = "(" + Array(repeating: "?", count: columns).joined(separator: ", ") + ")"
        sql = (1...Self.chunk).map { n in StatementSQL(head + " " + Array(repeating: row, count: n).joined(separator: ", ")) }
    }

    /// Inserts rows 0..<count, `bindRow(&binder, i)` binding row i's values in column order.
    func run(_ db: Database, count: Int, arena: BindArena?, _ prepared: PreparedStatements? = nil,
             _ bindRow: (inout Binder, Int) -> Void) throws {
        precondition(db.isInsideTransaction, "OR FAIL keeps the rows before a refused one: only a transaction takes them back")
        var i = 0
        while i < count {
            let n = min(Self.chunk, count - i)
            var b = Binder(try db.statement(sql[n - 1], prepared), arena: arena)
            for j in i..<(i + n) { bindRow(&b, j) }
            assert(b.bound == n * columns, "a row bound \(b.bound / n) values of \(columns)")
            try b.step()
            i += n
        }
    }
}
