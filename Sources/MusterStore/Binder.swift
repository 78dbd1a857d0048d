import Foundation
import GRDB
import GRDBSQLite
import MusterWire

/// Binds and steps one of GRDB's cached statements through SQLite's C API. Used only on the
/// commit path: GRDB's `StatementArguments` box every value as an existential, which cost
/// about a third of the commit; here each value goes straight to `sqlite3_bind_*`.
struct Binder {
    private let stmt: OpaquePointer
    private var index: Int32 = 0
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
    /// Where this statement's text and blobs are copied, when it holds the arena (see `BindArena`).
    private let arena: BindArena?
    private var used = 0

    /// `arena`: the writer's, on the commit path; taken only if no other statement holds it.
    init(_ statement: Statement, arena: BindArena? = nil) {
        stmt = statement.sqliteStatement
        sqlite3_reset(stmt)
        sqlite3_clear_bindings(stmt)
        if let arena, !arena.held { arena.held = true; self.arena = arena } else { self.arena = nil }
    }

    /// How many values have been bound (or passed over as NULL).
    var bound: Int { Int(index) }

    mutating func bind(_ v: Int64) { index += 1; sqlite3_bind_int64(stmt, index, v) }
    mutating func bind(_ v: Int) { bind(Int64(v)) }
    mutating func bind(_ v: Bool) { bind(Int64(v ? 1 : 0)) }
    mutating func bind(_ v: Int64?) { if let v { bind(v) } else { index += 1 } }
    mutating func bind(_ v: Double?) { index += 1; if let v { sqlite3_bind_double(stmt, index, v) } }
    mutating func bind(_ v: String) {
        v.withUTF8Bytes { bind(UnsafeRawBufferPointer($0), text: true) }
    }
    mutating func bind(_ v: String?) { if let v { bind(v) } else { index += 1 } }
    mutating func bind(_ v: [UInt8]) { v.withUnsafeBytes { bind($0, text: false) } }
    mutating func bind(_ v: [UInt8]?) { if let v { bind(v) } else { index += 1 } }
    mutating func bind(_ v: Data) { v.withUnsafeBytes { bind($0, text: false) } }
    /// UTF-8 bytes as TEXT (SQLite's JSON functions read a BLOB as its binary JSONB).
    mutating func bind(text v: [UInt8]) { v.withUnsafeBytes { bind($0, text: true) } }

    /// Copied into the arena and bound in place when it fits (SQLITE_STATIC: the arena stays put
    /// until the statement has run); otherwise SQLite copies it (SQLITE_TRANSIENT).
    private mutating func bind(_ bytes: UnsafeRawBufferPointer, text: Bool) {
        index += 1
        var pointer = bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
        var destructor: sqlite3_destructor_type? = Binder.transient
        if let arena, bytes.count <= arena.capacity - used {
            let place = arena.base + used
            if let from = bytes.baseAddress { place.copyMemory(from: from, byteCount: bytes.count) }
            pointer = UnsafeRawPointer(place)
            destructor = nil
            used += bytes.count
        }
        if text {
            sqlite3_bind_text(stmt, index, pointer.assumingMemoryBound(to: CChar.self), Int32(bytes.count), destructor)
        } else {
            sqlite3_bind_blob(stmt, index, pointer, Int32(bytes.count), destructor)
        }
    }

    /// After the statement ran: nothing bound may point into the arena once it is handed back.
    private func release() {
        guard let arena else { return }
        sqlite3_clear_bindings(stmt)
        arena.held = false
    }

    /// Runs a query, handing each row to `row` (the statement is reset after). For the reads
    /// every SUBMIT makes (its source's id, its merge key, its request id): GRDB's rows and
    /// arguments cost several times the probe itself.
    func rows(_ row: (Columns) throws -> Void) throws {
        defer { sqlite3_reset(stmt); release() }
        while true {
            let rc = sqlite3_step(stmt)
            if rc == SQLITE_DONE { return }
            guard rc == SQLITE_ROW else {
                throw DatabaseError(resultCode: ResultCode(rawValue: rc), message: String(cString: sqlite3_errmsg(sqlite3_db_handle(stmt))))
            }
            try row(Columns(stmt: stmt))
        }
    }

    /// The current row of a query being stepped.
    struct Columns {
        let stmt: OpaquePointer
        func text(_ i: Int32) -> String {
            guard let p = sqlite3_column_text(stmt, i) else { return "" }
            return String(decoding: UnsafeBufferPointer(start: p, count: Int(sqlite3_column_bytes(stmt, i))), as: UTF8.self)
        }
        func isNull(_ i: Int32) -> Bool { sqlite3_column_type(stmt, i) == SQLITE_NULL }
        func bytes(_ i: Int32) -> [UInt8] {
            let n = Int(sqlite3_column_bytes(stmt, i))
            guard n > 0, let p = sqlite3_column_blob(stmt, i) else { return [] }
            return Array(UnsafeRawBufferPointer(start: p, count: n))
        }
    }

    /// Runs the statement; throws SQLite's message on failure.
    func step() throws {
        let rc = sqlite3_step(stmt)
        defer { sqlite3_reset(stmt); release() }
        guard rc == SQLITE_DONE || rc == SQLITE_ROW else {
            throw DatabaseError(resultCode: ResultCode(rawValue: rc), message: String(cString: sqlite3_errmsg(sqlite3_db_handle(stmt))))
        }
    }
}

/// The bytes of the statement being bound on the writer's connection. With SQLITE_TRANSIENT
/// SQLite allocates, copies and frees every text and blob it is given: ~130 values a lifecycle,
/// ~6 % of its instructions (`sqlite3_bind_text` and the frees of `sqlite3_clear_bindings`,
/// counted). Copied here, they are bound in place. One statement holds it at a time (a Binder
/// made while it is held copies as before); used only under the writer connection's queue.
final class BindArena: @unchecked Sendable {
    let base: UnsafeMutableRawPointer
    let capacity: Int
    /// A Binder has copied into it and its statement has not run yet.
    var held = false

    init(capacity: Int = 64 << 10) {
        self.capacity = capacity
        base = UnsafeMutableRawPointer.allocate(byteCount: max(capacity, 1), alignment: 16)
    }

    deinit { base.deallocate() }
}
