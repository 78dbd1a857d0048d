import Foundation
import MusterConfig
import WebLogin

/// `settings:` of `plugin: console`: where the console listens, who may sit at it, what 办结 must
/// say, how long a login lasts, where the inbox is kept.
struct ConsoleSettings: Sendable {
    struct Seat: Sendable, Equatable {
        var login: String
        var name: String
        var password: PasswordHash
    }

    /// One of the department's required fields for 办结. `kind` text (one line), textarea or url
    /// (a photo or file: an attachment of the RESOLVE).
    struct FinishField: Sendable, Equatable {
        enum Kind: String, Sendable, CaseIterable { case text, textarea, url }
        var key: String
        var label: String
        var required: Bool
        var kind: Kind
    }

    var host: String
    var port: Int
    var seats: [Seat]
    var finishFields: [FinishField]
    var sessionHours: Double
    var inboxPath: String
    /// Category code → its Chinese name, for the pages (the codes of config/routing.yaml).
    var categoryNames: [String: String]

    struct File: Decodable {
        struct Seat: Decodable { var login: String; var name: String; var password: String }
        struct Field: Decodable { var key: String; var label: String; var required: Bool?; var kind: String? }
        var listen: String
        var seats: [Seat]
        var finish_fields: [Field]?
        var session_hours: Double?
        var inbox: String?
        var category_names: [String: String]?
    }

    /// 办结 asks for a result unless the department says otherwise.
    static let defaultFinishFields = [FinishField(key: "result", label: "处理结果", required: true, kind: .textarea)]

    /// The section decoded and checked; `adapter` names the default inbox file.
    static func load(_ settings: PluginSettings, adapter: String) throws(ConfigErrors) -> ConsoleSettings {
        let f = try settings.decode(File.self)
        var errors: [ConfigError] = []
        // listen: HOST:PORT
        var host = "127.0.0.1", port = 0
        switch settings.listen(f.listen, at: ["listen"], example: "127.0.0.1:8801") {
        case .success(let a): (host, port) = a
        case .failure(let e): errors.append(e)
        }
        // seats: each its own login and a password hash, never a password
        var seats: [Seat] = []
        var logins: Set<String> = []
        if f.seats.isEmpty { errors.append(settings.error(at: ["seats"], "at least one seat (座席) is needed")) }
        for (i, s) in f.seats.enumerated() {
            let at = "seats[\(i)]"
            if s.login.isEmpty || !s.login.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }) {
                errors.append(settings.error(at: ["seats"], "\(at).login \"\(s.login)\": letters, digits, . _ - only"))
            } else if !logins.insert(s.login).inserted {
                errors.append(settings.error(at: ["seats"], "\(at).login \"\(s.login)\" is given twice"))
            }
            if s.name.trimmingCharacters(in: .whitespaces).isEmpty {
                errors.append(settings.error(at: ["seats"], "\(at).name may not be empty (it is the handler on the record)"))
            }
            switch PasswordHash.parse(s.password) {
            case .success(let hash): seats.append(Seat(login: s.login, name: s.name, password: hash))
            case .failure(let why): errors.append(settings.error(at: ["seats"], "\(at).password: \(why.message)"))
            }
        }
        var fields: [FinishField] = []
        var keys: Set<String> = []
        for (i, x) in (f.finish_fields ?? []).enumerated() {
            let at = "finish_fields[\(i)]"
            if x.key.isEmpty || !x.key.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) {
                errors.append(settings.error(at: ["finish_fields"], "\(at).key \"\(x.key)\": letters, digits, _ only"))
            } else if !keys.insert(x.key).inserted {
                errors.append(settings.error(at: ["finish_fields"], "\(at).key \"\(x.key)\" is given twice"))
            }
            if x.label.trimmingCharacters(in: .whitespaces).isEmpty { errors.append(settings.error(at: ["finish_fields"], "\(at).label may not be empty")) }
            let kind = FinishField.Kind(rawValue: x.kind ?? "text")
            if kind == nil {
                errors.append(settings.error(at: ["finish_fields"], "\(at).kind \"\(x.kind ?? "")\": one of \(FinishField.Kind.allCases.map(\.rawValue).joined(separator: ", "))"))
            }
            fields.append(FinishField(key: x.key, label: x.label, required: x.required ?? false, kind: kind ?? .text))
        }
        let hours = f.session_hours ?? 12
        if !(hours > 0 && hours <= 24 * 7) { errors.append(settings.error(at: ["session_hours"], "must be more than 0 and at most 168 (a week)")) }
        guard errors.isEmpty else { throw ConfigErrors(errors: errors) }
        // A relative inbox path is beside the adapter's config, like its `queue:`.
        let inbox = f.inbox ?? "../../data/console/\(adapter).db"
        let base = (settings.path as NSString).deletingLastPathComponent
        let inboxPath = inbox.hasPrefix("/") || base.isEmpty ? inbox : ((base as NSString).appendingPathComponent(inbox) as NSString).standardizingPath
        return ConsoleSettings(host: host, port: port, seats: seats, finishFields: fields.isEmpty ? defaultFinishFields : fields,
                               sessionHours: hours, inboxPath: inboxPath, categoryNames: f.category_names ?? [:])
    }
}
