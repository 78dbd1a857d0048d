import Foundation

/// The rows an import did not get in (FILE.rejected.csv): row number, the row's key (工单编号,
/// 信访件编号), the member, its column, the reason — rows that could not be read as what the
/// adapter takes and rows its API answered 422. UTF-8 with a BOM and CRLF lines, which Excel opens as Chinese text.
public struct ImportReport: Sendable, Equatable {
    public struct Line: Sendable, Equatable {
        public var row: Int
        public var key: String
        public var rejection: ImportMapping.Rejection
        public init(row: Int, key: String, rejection: ImportMapping.Rejection) {
            self.row = row; self.key = key; self.rejection = rejection
        }
    }

    /// The key column's name in the report: the export's own header for it.
    public var keyLabel: String
    public var lines: [Line] = []
    public init(keyLabel: String, lines: [Line] = []) { self.keyLabel = keyLabel; self.lines = lines }

    public static func path(for file: String) -> String { file + ".rejected.csv" }
    public var header: [String] { ["行号", keyLabel, "字段", "列名", "原因"] }

    public func csv() -> [UInt8] {
        let records = [header] + lines.sorted { $0.row < $1.row }.map {
            [String($0.row), $0.key, $0.rejection.field, $0.rejection.column, $0.rejection.reason]
        }
        return [0xEF, 0xBB, 0xBF] + Array(records.map { $0.map(Self.quoted).joined(separator: ",") + "\r\n" }.joined().utf8)
    }

    public func write(_ path: String) throws { try ImportState.replace(path, with: Data(csv())) }

    /// A field as CSV; one Excel would take for a formula (=, +, -, @ first) is kept as text.
    static func quoted(_ s: String) -> String {
        let text = s.first.map { "=+-@".contains($0) } == true ? "'" + s : s
        guard text.unicodeScalars.contains(where: { ",\"\r\n".unicodeScalars.contains($0) }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
