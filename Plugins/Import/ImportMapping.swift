import Foundation
import MusterWire

/// An export's header read against an adapter's `ImportColumns`: which column holds each member,
/// and a row's cells read as what the member is — text, yes/no, a number, a time in the
/// export's format (or an Excel date serial) as RFC 3339 in +08:00. The adapter turns the cells
/// into the body its API takes (`WorkOrderImport`, `PetitionImport`). Pure: no file, no network.
public struct ImportMapping: Sendable {
    /// Why a row is not sent, or why the API refused it: the member, its column, the reason.
    public struct Rejection: Error, Sendable, Equatable {
        public var field: String
        public var column: String
        public var reason: String
        public init(field: String, column: String, reason: String) { self.field = field; self.column = column; self.reason = reason }
    }

    /// The header lacks a required member's column (or has it twice): nothing can be imported.
    public struct BadHeader: Error, Sendable, Equatable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// A row ready to send: its number, its key (工单编号, 信访件编号) and the API's body.
    public struct Item: Sendable, Equatable {
        public var row: Int
        public var key: String
        public var body: [UInt8]
        public init(row: Int, key: String, body: [UInt8]) { self.row = row; self.key = key; self.body = body }
    }

    public let settings: ImportColumns
    /// Member → the index of its column.
    public let index: [String: Int]
    /// Header cells no member reads (an export has many: 承办单位, 办理状态 …), for the summary.
    public let ignored: [String]

    var schema: ImportColumns.Schema { settings.schema }

    public init(_ settings: ImportColumns, header: [String]) throws(BadHeader) {
        self.settings = settings
        let schema = settings.schema
        var index: [String: Int] = [:]
        for field in schema.fields {
            guard let name = settings.columns[field] else { continue }
            let at = header.indices.filter { header[$0] == name }
            if at.count > 1 { throw BadHeader(message: "表头中“\(name)”列出现了 \(at.count) 次 — column \"\(name)\" (\(field)) is in the header \(at.count) times") }
            if let i = at.first { index[field] = i }
        }
        let missing = schema.fields.filter { schema.required.contains($0) && index[$0] == nil }
        if !missing.isEmpty {
            let names = missing.map { "“\(settings.columns[$0] ?? $0)”(\($0))" }.joined(separator: "、")
            throw BadHeader(message: "表头缺少必需的列 \(names) — the header has no column \(missing.map { "\"\(settings.columns[$0] ?? $0)\"" }.joined(separator: ", ")) for \(missing.joined(separator: ", ")); the header is: \(header.joined(separator: ","))  (map columns in settings.import.columns)")
        }
        self.index = index
        let used = Set(index.values)
        ignored = header.indices.filter { !used.contains($0) && !header[$0].isEmpty }.map { header[$0] }
    }

    /// The cell of a member in this row, trimmed; nil when empty or the column is absent.
    public func cell(_ field: String, _ row: ExportTable.Row) -> String? {
        guard let i = index[field], i < row.cells.count else { return nil }
        let t = row.cells[i].trimmingCharacters(in: .whitespacesAndNewlines)
        return t.isEmpty ? nil : t
    }

    /// The key of a row, as it stands in it (for the report, also of a row refused).
    public func key(_ row: ExportTable.Row) -> String { cell(schema.key, row) ?? "" }

    public func column(_ field: String) -> String { settings.columns[field] ?? field }

    public func refuse(_ field: String, _ reason: String) -> Rejection { Rejection(field: field, column: column(field), reason: reason) }

    /// A row as the adapter's API takes it: every required member filled, then `body`, the
    /// adapter's own reading of the cells (`WorkOrderImport`, `PetitionImport`).
    public func convert(_ row: ExportTable.Row, _ body: (ImportMapping, ExportTable.Row) throws(Rejection) -> [UInt8]) -> Result<Item, Rejection> {
        do throws(Rejection) {
            try requireFilled(row)
            return .success(Item(row: row.number, key: key(row), body: try body(self, row)))
        } catch {
            return .failure(error)
        }
    }

    /// Every required member filled, or the first that is not.
    public func requireFilled(_ row: ExportTable.Row) throws(Rejection) {
        for field in schema.fields where schema.required.contains(field) && cell(field, row) == nil {
            throw refuse(field, "“\(column(field))”为空 — \(field) is empty")
        }
    }

    /// yes/no words → a boolean; an empty cell is absent (false at the API).
    public func flag(_ field: String, _ row: ExportTable.Row) throws(Rejection) -> Bool? {
        guard let text = cell(field, row) else { return nil }
        let t = text.lowercased()
        if settings.yes.contains(where: { $0.lowercased() == t }) { return true }
        if settings.no.contains(where: { $0.lowercased() == t }) { return false }
        throw refuse(field, "“\(column(field))”的值“\(text)”不是 是/否 — \(field): \"\(text)\" is neither yes (\(settings.yes.joined(separator: ", "))) nor no (\(settings.no.joined(separator: ", ")))")
    }

    /// A finite number, or nil when the cell is empty.
    public func number(_ field: String, _ row: ExportTable.Row) throws(Rejection) -> Double? {
        guard let text = cell(field, row) else { return nil }
        guard let n = Double(text), n.isFinite else { throw refuse(field, "“\(column(field))”的值“\(text)”不是数字 — \(field) is not a number") }
        return n
    }

    /// Several values in one cell (links, agency codes): separated by blanks, line breaks, 分号,
    /// 全角逗号 or 顿号 — not the ASCII comma, which a link may hold.
    public func list(_ field: String, _ row: ExportTable.Row) -> [String] {
        (cell(field, row) ?? "").split(whereSeparator: { $0.isWhitespace || ";；，、".contains($0) }).map(String.init)
    }

    /// Links in one cell (`list`), as the APIs' `attachments`: `[{url}]`.
    public func links(_ field: String, _ row: ExportTable.Row) -> [[UInt8]] {
        list(field, row).map { u in var a = JSONWriter(); a.field("url", u); return a.finish() }
    }

    /// The time member as RFC 3339 in +08:00: in the configured format, already RFC 3339, or — a
    /// number in a workbook — an Excel serial (days since 1899-12-30, wall-clock time in +08:00).
    public func time(_ row: ExportTable.Row) throws(Rejection) -> String {
        let field = schema.time
        guard let text = cell(field, row) else { throw refuse(field, "“\(column(field))”为空 — \(field) is empty") }
        if let i = index[field], row.numeric.contains(i), let serial = Double(text), serial >= 1, serial < 2_958_466 {
            return Self.rfc3339(Self.excelOrigin.addingTimeInterval((serial * 86_400).rounded()))
        }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = Self.beijing
        f.isLenient = false
        f.dateFormat = settings.timeFormat
        if let d = f.date(from: text) { return Self.rfc3339(d) }
        if let d = try? Date(text, strategy: .iso8601), text.contains("T") { return Self.rfc3339(d) }
        throw refuse(field, "“\(column(field))”的值“\(text)”不符合格式 \(settings.timeFormat) — \(field): \"\(text)\" is not \(settings.timeFormat)")
    }

    static let beijing = TimeZone(secondsFromGMT: 8 * 3600)!
    /// Excel's day 0 (its serials count from 1899-12-30, which absorbs the 1900 leap-year bug), as wall-clock time in +08:00.
    static let excelOrigin = Date(timeIntervalSince1970: -2_209_161_600 - 8 * 3600)

    public static func rfc3339(_ d: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = beijing
        f.dateFormat = "yyyy-MM-dd'T'HH:mm:ssXXXXX"
        return f.string(from: d)
    }
}
