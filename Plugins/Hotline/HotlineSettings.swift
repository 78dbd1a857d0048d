import Foundation
import MusterAdapterKit
import MusterConfig
import MusterWire
import TableImport
import WebhookDepartment

/// `settings:` of `plugin: hotline12345`: where the intake API listens, which platform clients
/// may call it and how each proves it, how long a caller waits for ACCEPTED.
struct HotlineSettings: Sendable {
    /// A caller of the API: the 12345 platform (or a second one during a migration).
    typealias Client = IntakeClient

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
    /// How `muster import hotline` reads the platform's export (WorkOrderImport).
    var importing: ImportColumns = WorkOrderImport.defaults

    struct File: Decodable {
        var listen: String
        var clients: [ClientProof.File]
        var wait: String?
        var source: String?
        struct FollowUp: Decodable { var attempts: Int }
        var followup: FollowUp?
        var book: String?
        var open311: Open311Settings.File?
        var `import`: ImportColumns.File?
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
        let (clients, clientProblems) = ClientProof.load(f.clients, settings, who: "the 12345 platform")
        errors += clientProblems
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
        let (importing, importProblems) = ImportColumns.load(f.import, WorkOrderImport.schema, settings)
        errors += importProblems
        guard errors.isEmpty else { throw ConfigErrors(errors: errors) }
        return HotlineSettings(host: host, port: port, clients: clients, wait: wait, source: source, followupAttempts: attempts,
                               bookPath: book.hasPrefix("/") ? book : (dir as NSString).appendingPathComponent(book), open311: open311,
                               importing: importing)
    }
}
