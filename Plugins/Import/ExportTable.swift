import Foundation

/// A source system's export (the 12345 platform's work orders, the petition office's registers), read whole: its header and its rows, each with
/// the row number the operator sees in Excel (the header is row 1). A CSV (CSVExport) or an
/// .xlsx (XLSXExport); wholly empty rows are left out.
public struct ExportTable: Sendable, Equatable {
    public struct Row: Sendable, Equatable {
        public var number: Int
        public var cells: [String]
        /// Columns whose cell was a number in the workbook (an Excel date is one: a serial).
        public var numeric: Set<Int> = []

        public init(number: Int, cells: [String], numeric: Set<Int> = []) {
            self.number = number; self.cells = cells; self.numeric = numeric
        }
    }

    /// A file that cannot be read as an export: the message names it and what is wrong.
    public struct Unreadable: Error, CustomStringConvertible, Equatable {
        public var message: String
        public var description: String { message }
        init(_ message: String) { self.message = message }
    }

    public var header: [String]
    public var rows: [Row]
    /// What the file was read as, for the summary: "UTF-8", "UTF-8 (BOM)", "GB18030", "xlsx (sheet 工单)".
    public var format: String

    /// By the file's extension: .xlsx is a workbook, anything else CSV. The old binary .xls is
    /// refused with what to do instead.
    public static func read(_ path: String) throws(Unreadable) -> ExportTable {
        let ext = (path as NSString).pathExtension.lowercased()
        if ext == "xls" {
            throw Unreadable("\(path): 不支持旧版 .xls — the old binary Excel format is not read; save it as .xlsx or CSV (UTF-8)")
        }
        if ext == "xlsx" { return try XLSXExport.read(path) }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Unreadable("cannot read \(path)")
        }
        do { return try CSVExport.read(Array(data)) } catch { throw Unreadable("\(path): \(error.message)") }
    }

    /// Rows that hold anything, the header trimmed: what both readers hand on.
    static func make(_ records: [(number: Int, cells: [String], numeric: Set<Int>)], format: String) throws(Unreadable) -> ExportTable {
        let filled = records.filter { $0.cells.contains { !$0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty } }
        guard let first = filled.first else { throw Unreadable("表格为空 — no header row, no rows") }
        return ExportTable(header: first.cells.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) },
                           rows: filled.dropFirst().map { Row(number: $0.number, cells: $0.cells, numeric: $0.numeric) }, format: format)
    }
}
