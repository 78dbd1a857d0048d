import Foundation
import MusterConfig

/// The `chengguan:` section of the adapter's settings: each category the centre routes to 城管 →
/// its 数字城管 class. Decoded strictly (a misspelt key is an error with file, line and key), then
/// checked: every problem found, each at its key.
struct ChengguanSettings: Decodable {
    var codes: [String: Code]?

    struct Code: Decodable {
        var code: String
        var kind: String?
        var major: String
        var minor: String
        var filing: String
        var limit: String
        var closing: String
        var after_photo: Bool?
        var stages: [Stage]?
    }

    struct Stage: Decodable {
        var name: String
        var limit: String
    }

    /// category → class, or every error at its key (`settings.chengguan.codes.street_vending.code`).
    static func classes(_ settings: PluginSettings) throws(ConfigErrors) -> [String: SzcgClass] {
        let s = try settings.decode(ChengguanSettings.self)
        guard let codes = s.codes, !codes.isEmpty else {
            throw ConfigErrors(errors: [settings.error(at: ["codes"],
                "the chengguan: section needs codes: each category routed to 城管 → its 数字城管 code, limit and 结案条件 (Plugins/Chengguan/README.md)")])
        }
        var errors: [ConfigError] = []
        var classes: [String: SzcgClass] = [:]
        // One code names one class: the same code of the same kind under two categories must say
        // the same 大类/小类. (Events and components are numbered apart: 0102 may be both.)
        var named: [String: (category: String, major: String, minor: String)] = [:]
        for (category, c) in codes.sorted(by: { $0.key < $1.key }) {
            func error(_ keys: [String], _ message: String) { errors.append(settings.error(at: ["codes", category] + keys, message)) }
            let before = errors.count
            if category.utf8.isEmpty || category.utf8.count > 64 || category.contains(where: { $0.isWhitespace || $0.asciiValue.map { $0 < 32 } == true }) {
                error([], "\"\(category)\" is not a category code (1–64 bytes, no spaces), as config/routing.yaml writes them")
            }
            let kind = SzcgClass.Kind(rawValue: c.kind ?? "event")
            let key = "\(kind?.rawValue ?? "?") \(c.code)"
            if !isCode(c.code) {
                error(["code"], "\"\(c.code)\" is not a 数字城管 code: four digits, 大类 two and 小类 two (e.g. \"0501\"), neither 00")
            } else if let other = named[key], other.major != c.major || other.minor != c.minor {
                error(["code"], "code \(c.code) is \(other.major)/\(other.minor) under \(other.category): one code, one class")
            }
            if kind == nil {
                error(["kind"], "\"\(c.kind ?? "")\" is not a kind: event (事件) or component (部件)")
            }
            for (key, text) in [("major", c.major), ("minor", c.minor), ("filing", c.filing), ("closing", c.closing)]
                where text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                error([key], "\(key) is empty: \(["major": "大类名", "minor": "小类名", "filing": "立案条件", "closing": "结案条件"][key]!) is required")
            }
            let limit = TimeLimit(c.limit)
            if limit == nil { error(["limit"], "\"\(c.limit)\" is not a 处置时限 (2h, 3d, 4wh, 7wd: docs/PROTOCOL.md, Units)") }
            var stages: [SzcgClass.Stage] = []
            if let list = c.stages {
                if list.isEmpty { error(["stages"], "stages is empty: leave it out for a class without stages") }
                var seen: Set<String> = []
                for (i, stage) in list.enumerated() {
                    let name = stage.name.trimmingCharacters(in: .whitespacesAndNewlines)
                    if name.isEmpty { error(["stages"], "stages[\(i)]: name is empty") }
                    else if !seen.insert(name).inserted { error(["stages"], "stages[\(i)]: \"\(name)\" is listed twice") }
                    if let l = TimeLimit(stage.limit) { stages.append(.init(name: name, limit: l)) } else {
                        error(["stages"], "stages[\(i)] (\(name)): \"\(stage.limit)\" is not a limit (4wh, 7wd: docs/PROTOCOL.md, Units)")
                    }
                }
            }
            guard errors.count == before, let kind, let limit else { continue }
            named[key] = named[key] ?? (category, c.major, c.minor)
            classes[category] = SzcgClass(code: c.code, kind: kind, major: c.major, minor: c.minor, filing: c.filing, limit: limit,
                                          closing: c.closing, afterPhoto: c.after_photo ?? true, stages: stages)
        }
        guard errors.isEmpty else { throw ConfigErrors(errors: errors) }
        return classes
    }

    /// 大类 + 小类, two digits each, neither 00.
    static func isCode(_ s: String) -> Bool {
        let digits = Array(s.utf8)
        guard digits.count == 4, digits.allSatisfy({ (48...57).contains($0) }) else { return false }
        return s.prefix(2) != "00" && s.suffix(2) != "00"
    }
}
