import Foundation
import MusterConfig

/// `settings.import` of `plugin: hotline12345`: how `muster import hotline` reads the platform's
/// export (README.md, "Import") — which column holds which member of a work order, how 来电时间
/// is written, how yes and no are written. Every key has a default: the platform's own headers.
public struct ImportSettings: Sendable, Equatable {
    /// Work-order member → the export's column header.
    public var columns: [String: String]
    /// 来电时间 as the export writes it (DateFormatter pattern), read in +08:00.
    public var timeFormat: String
    /// How the export writes yes and no (compared without case; an empty cell is no).
    public var yes: [String]
    public var no: [String]

    /// The members a column may fill, in the order the report and the docs list them; the
    /// first four are required.
    public static let fields = ["order_no", "called_at", "kind", "content", "title", "address", "grid", "category",
                                "contact.name", "contact.phone", "anonymous", "callback", "urgent", "lat", "lon", "attachments"]
    public static let required: Set<String> = ["order_no", "called_at", "kind", "content"]
    static let booleans: Set<String> = ["anonymous", "callback", "urgent"]

    public static let defaultColumns = [
        "order_no": "工单编号", "called_at": "来电时间", "kind": "诉求类型", "content": "诉求内容", "title": "标题", "address": "地址",
        "grid": "网格", "category": "类别", "contact.name": "联系人", "contact.phone": "联系电话", "anonymous": "是否匿名",
        "callback": "是否回访", "urgent": "是否紧急", "lat": "纬度", "lon": "经度", "attachments": "附件",
    ]
    public static let `default` = ImportSettings(columns: defaultColumns, timeFormat: "yyyy-MM-dd HH:mm:ss",
                                                 yes: ["是", "Y", "1", "true"], no: ["否", "N", "0", "false"])

    struct File: Decodable {
        var columns: [String: String]?
        var time_format: String?
        var yes: [String]?
        var no: [String]?
    }

    /// The section checked; every problem is an error at its key (settings.import.KEY). Columns
    /// named in the file replace the defaults of those members only.
    static func load(_ f: File?, _ settings: PluginSettings) -> (ImportSettings, [ConfigError]) {
        var s = ImportSettings.default
        guard let f else { return (s, []) }
        var errors: [ConfigError] = []
        for (field, header) in (f.columns ?? [:]).sorted(by: { $0.key < $1.key }) {
            if !fields.contains(field) {
                errors.append(settings.error(at: ["import", "columns", field], "unknown member \"\(field)\": one of \(fields.joined(separator: ", "))"))
            } else if header.trimmingCharacters(in: .whitespaces).isEmpty {
                errors.append(settings.error(at: ["import", "columns", field], "the column header of \(field) is empty"))
            } else {
                s.columns[field] = header.trimmingCharacters(in: .whitespaces)
            }
        }
        var byHeader: [String: String] = [:]
        for field in fields {
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
