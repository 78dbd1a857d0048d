import Foundation
import MusterConfig

/// `settings.import` of an intake adapter (hotline12345, petition): how `muster import` reads the
/// source system's export — which column holds which member of what the adapter's API takes, how
/// the time column is written, how yes and no are written. Every key has a default: the source
/// system's own headers, from the adapter's `Schema`.
public struct ImportColumns: Sendable, Equatable {
    /// What one adapter's rows hold: its members in the order reports and docs list them, which
    /// are required, which are yes/no and the default header of each.
    public struct Schema: Sendable, Equatable {
        public var fields: [String]
        public var required: Set<String>
        public var booleans: Set<String>
        public var defaults: [String: String]
        /// The member that names a row's item (工单编号, 信访件编号): idempotence and the report key on it.
        public var key: String
        /// The member holding a time (来电时间, 登记时间), read in `timeFormat` or as an Excel serial.
        public var time: String

        public init(fields: [String], required: Set<String>, booleans: Set<String>, defaults: [String: String], key: String, time: String) {
            self.fields = fields; self.required = required; self.booleans = booleans; self.defaults = defaults; self.key = key; self.time = time
        }
    }

    public let schema: Schema
    /// Member → the export's column header.
    public var columns: [String: String]
    /// The time column as the export writes it (DateFormatter pattern), read in +08:00.
    public var timeFormat: String
    /// How the export writes yes and no (compared without case; an empty cell is no).
    public var yes: [String]
    public var no: [String]

    public init(_ schema: Schema) {
        self.schema = schema
        columns = schema.defaults
        timeFormat = "yyyy-MM-dd HH:mm:ss"
        yes = ["是", "Y", "1", "true"]
        no = ["否", "N", "0", "false"]
    }

    /// `settings.import` as written.
    public struct File: Decodable, Sendable {
        var columns: [String: String]?
        var time_format: String?
        var yes: [String]?
        var no: [String]?
    }

    /// The section checked; every problem is an error at its key (settings.import.KEY). Columns
    /// named in the file replace the defaults of those members only.
    public static func load(_ f: File?, _ schema: Schema, _ settings: PluginSettings) -> (ImportColumns, [ConfigError]) {
        var s = ImportColumns(schema)
        guard let f else { return (s, []) }
        var errors: [ConfigError] = []
        for (field, header) in (f.columns ?? [:]).sorted(by: { $0.key < $1.key }) {
            if !schema.fields.contains(field) {
                errors.append(settings.error(at: ["import", "columns", field], "unknown member \"\(field)\": one of \(schema.fields.joined(separator: ", "))"))
            } else if header.trimmingCharacters(in: .whitespaces).isEmpty {
                errors.append(settings.error(at: ["import", "columns", field], "the column header of \(field) is empty"))
            } else {
                s.columns[field] = header.trimmingCharacters(in: .whitespaces)
            }
        }
        var byHeader: [String: String] = [:]
        for field in schema.fields {
            guard let header = s.columns[field] else { continue }
            if let other = byHeader[header] {
                errors.append(settings.error(at: ["import", "columns", field], "column \"\(header)\" is already \(other)'s: one column, one member"))
            }
            byHeader[header] = field
        }
        if let t = f.time_format {
            if !t.contains("yy") || !t.contains("d") || !t.contains("H") && !t.contains("h") {
                errors.append(settings.error(at: ["import", "time_format"], "\"\(t)\" has no year, day and hour (yyyy-MM-dd HH:mm:ss)"))
            } else {
                s.timeFormat = t
            }
        }
        if let y = f.yes { s.yes = y }
        if let n = f.no { s.no = n }
        for (key, words) in [("yes", s.yes), ("no", s.no)] where words.isEmpty || words.contains(where: { $0.trimmingCharacters(in: .whitespaces).isEmpty }) {
            errors.append(settings.error(at: ["import", key], "give the words the export uses for \(key), none empty ([是, Y, 1, true])"))
        }
        let clash = Set(s.yes.map { $0.lowercased() }).intersection(s.no.map { $0.lowercased() })
        if let word = clash.sorted().first {
            errors.append(settings.error(at: ["import", "no"], "\"\(word)\" is both yes and no"))
        }
        return (s, errors)
    }
}
