import Foundation
import MusterWire

/// One row of the platform's export → the work order POSTed for it (README.md, "Import"): the
/// columns of `ImportSettings` found in the header, yes/no words as booleans, 来电时间 in the
/// export's format (or an Excel date serial) as RFC 3339 in +08:00. Pure: no file, no network.
/// The order is then checked as the intake API checks it (`WorkOrder.parse`), so a dry run finds
/// every fault the adapter would, but those only the broker knows (an unknown grid, a phone).
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

    /// A row ready to send.
    public struct Order: Sendable, Equatable {
        public var row: Int
        public var orderNo: String
        public var body: [UInt8]
    }

    public let settings: ImportSettings
    /// Member → the index of its column.
    public let index: [String: Int]
    /// Header cells no member reads (the export has many: 承办单位, 办理状态 …), for the summary.
    public let ignored: [String]

    public init(_ settings: ImportSettings, header: [String]) throws(BadHeader) {
        self.settings = settings
        var index: [String: Int] = [:]
        for field in ImportSettings.fields {
            guard let name = settings.columns[field] else { continue }
            let at = header.indices.filter { header[$0] == name }
            if at.count > 1 { throw BadHeader(message: "表头中“\(name)”列出现了 \(at.count) 次 — column \"\(name)\" (\(field)) is in the header \(at.count) times") }
            if let i = at.first { index[field] = i }
        }
        let missing = ImportSettings.fields.filter { ImportSettings.required.contains($0) && index[$0] == nil }
        if !missing.isEmpty {
            let names = missing.map { "“\(settings.columns[$0] ?? $0)”(\($0))" }.joined(separator: "、")
            throw BadHeader(message: "表头缺少必需的列 \(names) — the header has no column \(missing.map { "\"\(settings.columns[$0] ?? $0)\"" }.joined(separator: ", ")) for \(missing.joined(separator: ", ")); the header is: \(header.joined(separator: ","))  (map columns in settings.import.columns)")
        }
        self.index = index
        let used = Set(index.values)
        ignored = header.indices.filter { !used.contains($0) && !header[$0].isEmpty }.map { header[$0] }
    }

    /// The cell of a member in this row, trimmed; nil when empty or the column is absent.
    func cell(_ field: String, _ row: ExportTable.Row) -> String? {
        guard let i = index[field], i < row.cells.count else { return nil }
        let t = row.cells[i].trimmingCharacters(in: .whitespacesAndNewlines)
        return t.isEmpty ? nil : t
    }

    /// The 工单编号 of a row, as it stands in it (for the report, also of a row refused).
    public func orderNo(_ row: ExportTable.Row) -> String { cell("order_no", row) ?? "" }

    public func column(_ field: String) -> String { settings.columns[field] ?? field }

    public func convert(_ row: ExportTable.Row) -> Result<Order, Rejection> {
        do { return .success(try order(row)) } catch { return .failure(error) }
    }

    func order(_ row: ExportTable.Row) throws(Rejection) -> Order {
        func refuse(_ field: String, _ reason: String) -> Rejection { Rejection(field: field, column: column(field), reason: reason) }
        for field in ImportSettings.fields where ImportSettings.required.contains(field) && cell(field, row) == nil {
            throw refuse(field, "“\(column(field))”为空 — \(field) is empty")
        }
        var w = JSONWriter()
        for field in ["order_no", "kind", "content", "title", "address", "grid", "category"] { w.field(field, cell(field, row)) }
        w.field("called_at", try time(row))
        for field in ImportSettings.fields where ImportSettings.booleans.contains(field) {
            if let yes = try flag(field, row) { w.field(field, yes) }
        }
        for field in ["lat", "lon"] {
            guard let text = cell(field, row) else { continue }
            guard let n = Double(text), n.isFinite else { throw refuse(field, "“\(column(field))”的值“\(text)”不是数字 — \(field) is not a number") }
            w.field(field, n)
        }
        let name = cell("contact.name", row), phone = cell("contact.phone", row)
        if name != nil || phone != nil { w.object("contact") { c in c.field("name", name); c.field("phone", phone) } }
        if let text = cell("attachments", row) {
            // Several links in one cell: separated by blanks, 分号 or line breaks.
            let urls = text.split(whereSeparator: { $0.isWhitespace || $0 == ";" || $0 == "；" }).map(String.init)
            w.array("attachments", urls.map { u in var a = JSONWriter(); a.field("url", u); return a.finish() })
        }
        let body = w.finish()
        do { _ = try WorkOrder.parse(body) } catch {
            throw Rejection(field: error.field, column: column(error.field), reason: error.message)
        }
        return Order(row: row.number, orderNo: cell("order_no", row)!, body: body)
    }

    /// yes/no words → a boolean; an empty cell is absent (false at the API).
    func flag(_ field: String, _ row: ExportTable.Row) throws(Rejection) -> Bool? {
        guard let text = cell(field, row) else { return nil }
        let t = text.lowercased()
        if settings.yes.contains(where: { $0.lowercased() == t }) { return true }
        if settings.no.contains(where: { $0.lowercased() == t }) { return false }
        throw Rejection(field: field, column: column(field),
                        reason: "“\(column(field))”的值“\(text)”不是 是/否 — \(field): \"\(text)\" is neither yes (\(settings.yes.joined(separator: ", "))) nor no (\(settings.no.joined(separator: ", ")))")
    }

    /// 来电时间 as RFC 3339 in +08:00: in the configured format, already RFC 3339, or — a number
    /// in a workbook — an Excel serial (days since 1899-12-30, wall-clock time in +08:00).
    func time(_ row: ExportTable.Row) throws(Rejection) -> String {
        let text = cell("called_at", row)!
        if let i = index["called_at"], row.numeric.contains(i), let serial = Double(text), serial >= 1, serial < 2_958_466 {
            return Self.rfc3339(Self.excelOrigin.addingTimeInterval((serial * 86_400).rounded()))
        }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = Self.beijing
        f.isLenient = false
        f.dateFormat = settings.timeFormat
        if let d = f.date(from: text) { return Self.rfc3339(d) }
        if let d = try? Date(text, strategy: .iso8601), text.contains("T") { return Self.rfc3339(d) }
        throw Rejection(field: "called_at", column: column("called_at"),
                        reason: "“\(column("called_at"))”的值“\(text)”不符合格式 \(settings.timeFormat) — called_at: \"\(text)\" is not \(settings.timeFormat)")
    }

    static let beijing = TimeZone(secondsFromGMT: 8 * 3600)!
    /// Excel's day 0 (its serials count from 1899-12-30, which absorbs the 1900 leap-year bug), as wall-clock time in +08:00.
    static let excelOrigin = Date(timeIntervalSince1970: -2_209_161_600 - 8 * 3600)

    static func rfc3339(_ d: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = beijing
        f.dateFormat = "yyyy-MM-dd'T'HH:mm:ssXXXXX"
        return f.string(from: d)
    }
}
