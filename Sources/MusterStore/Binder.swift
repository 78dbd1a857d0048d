import Foundation
import GRDB
import GRDBSQLite

/// Binds and steps one of GRDB's cached statements through SQLite's C API. Used only on the
/// commit path: GRDB's `StatementArguments` box every value as an existential, which cost
/// about a third of the commit; here each value goes straight to `sqlite3_bind_*`.
struct Binder {
    private let stmt: OpaquePointer
    private var index: Int32 = 0
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    init(_ statement: Statement) {
        stmt = statement.sqliteStatement
        sqlite3_reset(stmt)
        sqlite3_clear_bindings(stmt)
    }

    mutating func bind(_ v: Int64) { index += 1; sqlite3_bind_int64(stmt, index, v) }
    mutating func bind(_ v: Int) { bind(Int64(v)) }
    mutating func bind(_ v: Bool) { bind(Int64(v ? 1 : 0)) }
    mutating func bind(_ v: Int64?) { if let v { bind(v) } else { index += 1 } }
    mutating func bind(_ v: Double?) { index += 1; if let v { sqlite3_bind_double(stmt, index, v) } }
    mutating func bind(_ v: String) {
        index += 1
        var s = v
        s.withUTF8 { buf in
            buf.withMemoryRebound(to: CChar.self) { chars in
                _ = sqlite3_bind_text(stmt, index, chars.baseAddress ?? UnsafePointer(bitPattern: 1), Int32(chars.count), Binder.transient)
            }
        }
    }
    mutating func bind(_ v: String?) { if let v { bind(v) } else { index += 1 } }
    mutating func bind(_ v: [UInt8]) {
        index += 1
        v.withUnsafeBytes { _ = sqlite3_bind_blob(stmt, index, $0.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32($0.count), Binder.transient) }
    }
    mutating func bind(_ v: Data) {
        index += 1
        v.withUnsafeBytes { _ = sqlite3_bind_blob(stmt, index, $0.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32($0.count), Binder.transient) }
    }
    /// UTF-8 bytes as TEXT (SQLite's JSON functions read a BLOB as its binary JSONB).
    mutating func bind(text v: [UInt8]) {
        index += 1
        v.withUnsafeBytes {
            _ = sqlite3_bind_text(stmt, index, $0.baseAddress?.assumingMemoryBound(to: CChar.self) ?? UnsafePointer(bitPattern: 1),
                                  Int32($0.count), Binder.transient)
        }
    }

    /// Runs a query, handing each row to `row` (the statement is reset after). For the reads
    /// every SUBMIT makes (its source's id, its merge key, its request id): GRDB's rows and
    /// arguments cost several times the probe itself.
    func rows(_ row: (Columns) throws -> Void) throws {
        defer { sqlite3_reset(stmt) }
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
        defer { sqlite3_reset(stmt) }
        guard rc == SQLITE_DONE || rc == SQLITE_ROW else {
            throw DatabaseError(resultCode: ResultCode(rawValue: rc), message: String(cString: sqlite3_errmsg(sqlite3_db_handle(stmt))))
        }
    }
}
