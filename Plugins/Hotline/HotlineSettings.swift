import Foundation
import MusterAdapterKit
import MusterConfig
import MusterWire

/// `settings:` of `plugin: hotline12345`: where the intake API listens, which platform clients
/// may call it and how each proves it, how long a caller waits for ACCEPTED.
struct HotlineSettings: Sendable {
    /// A caller of the API: the 12345 platform (or a second one during a migration), proving
    /// itself with an HMAC over each request (`secret_file`) or a bearer key (`api_key_file`).
    struct Client: Sendable {
        enum Proof: Sendable { case hmac(secret: [UInt8]), apiKey(String) }
        var name: String
        var proof: Proof
    }

    var host: String
    var port: Int
    var clients: [Client]
    /// How long a POST waits for the broker's ACCEPTED before answering 202 (queued).
    var wait: Double
    var source: Source
    /// 回访: 未接通 this many times gives a call up.
    var followupAttempts: Int
    var bookPath: String
    /// The Open311 GeoReport v2 API beside it (Open311Settings); nil: not served.
    var open311: Open311Settings?
    /// How `muster import hotline` reads the platform's export (ImportSettings).
    var importing: ImportSettings = .default

    struct File: Decodable {
        struct Client: Decodable { var name: String; var secret_file: String?; var api_key_file: String? }
        var listen: String
        var clients: [Client]
        var wait: String?
        var source: String?
        struct FollowUp: Decodable { var attempts: Int }
        var followup: FollowUp?
        var book: String?
        var open311: Open311Settings.File?
        var `import`: ImportSettings.File?
    }

    static func load(_ settings: PluginSettings, adapter: String) throws(ConfigErrors) -> HotlineSettings {
        let f = try settings.decode(File.self)
        var errors: [ConfigError] = []
        var host = "127.0.0.1", port = 0
        switch settings.listen(f.listen, at: ["listen"], example: "127.0.0.1:8720") {
        case .success(let a): (host, port) = a
        case .failure(let e): errors.append(e)
        }
        let dir = (settings.path as NSString).deletingLastPathComponent
        func read(_ file: String, _ key: String, _ i: Int) -> String? {
            let path = file.hasPrefix("/") ? file : (dir as NSString).appendingPathComponent(file)
            let text = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            guard let text, !text.isEmpty else {
                errors.append(settings.error(at: ["clients"], "clients[\(i)].\(key): cannot read a secret from \(path)")); return nil
            }
            return text
        }
        var clients: [Client] = []
        var names: Set<String> = []
        if f.clients.isEmpty { errors.append(settings.error(at: ["clients"], "at least one client (the 12345 platform) is needed")) }
        for (i, c) in f.clients.enumerated() {
            if c.name.isEmpty || !c.name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }) {
                errors.append(settings.error(at: ["clients"], "clients[\(i)].name \"\(c.name)\": letters, digits, . _ - only"))
            } else if !names.insert(c.name).inserted {
                errors.append(settings.error(at: ["clients"], "clients[\(i)].name \"\(c.name)\" is given twice"))
            }
            switch (c.secret_file, c.api_key_file) {
            case (let s?, nil): if let t = read(s, "secret_file", i) { clients.append(Client(name: c.name, proof: .hmac(secret: Array(t.utf8)))) }
            case (nil, let k?): if let t = read(k, "api_key_file", i) { clients.append(Client(name: c.name, proof: .apiKey(t))) }
            default: errors.append(settings.error(at: ["clients"], "clients[\(i)] (\(c.name)): give secret_file (HMAC) or api_key_file (bearer key), one of them"))
            }
        }
        var wait = 5.0
        if let w = f.wait {
            if let s = AdapterConfig.seconds(w), s > 0, s <= 60 { wait = s } else {
                errors.append(settings.error(at: ["wait"], "\"\(w)\" is not a duration between 1ms and 60s (5s)"))
            }
        }
        var source = Source.hotline12345
        if let s = f.source {
            if let known = Source(rawValue: s) { source = known } else {
                errors.append(settings.error(at: ["source"], "unknown source \"\(s)\": one of \(Source.allCases.map(\.rawValue).joined(separator: ", "))"))
            }
        }
        let attempts = f.followup?.attempts ?? 3
        if !(1...20).contains(attempts) { errors.append(settings.error(at: ["followup", "attempts"], "\(attempts) is not between 1 and 20")) }
        let book = f.book ?? "../../data/hotline/\(adapter).db"
        var open311: Open311Settings?
        if let o = f.open311 {
            let (loaded, problems) = Open311Settings.load(o, settings)
            open311 = loaded; errors += problems
        }
        let (importing, importProblems) = ImportSettings.load(f.import, settings)
        errors += importProblems
        guard errors.isEmpty else { throw ConfigErrors(errors: errors) }
        return HotlineSettings(host: host, port: port, clients: clients, wait: wait, source: source, followupAttempts: attempts,
                               bookPath: book.hasPrefix("/") ? book : (dir as NSString).appendingPathComponent(book), open311: open311,
                               importing: importing)
    }
}
