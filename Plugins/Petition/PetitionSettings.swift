import Foundation
import MusterAdapterKit
import MusterConfig
import TableImport
import WebhookDepartment

/// `settings:` of `plugin: petition`: where the petition office's API listens, which systems may
/// call it and how each proves it, how long a caller waits for the broker, where the book is.
struct PetitionSettings: Sendable {
    var host: String
    var port: Int
    var clients: [IntakeClient]
    /// How long a POST waits for the broker's answer before answering 202 (queued).
    var wait: Double
    var bookPath: String
    /// The documents' address as the bus records it (`url` of each notice): this API's.
    var publicURL: String
    /// How `muster import petition` reads the office's register (PetitionImport).
    var importing: ImportColumns = PetitionImport.defaults

    struct File: Decodable {
        var listen: String
        var clients: [ClientProof.File]
        var wait: String?
        var book: String?
        var public_url: String?
        var `import`: ImportColumns.File?
    }

    static func load(_ settings: PluginSettings, adapter: String) throws(ConfigErrors) -> PetitionSettings {
        let f = try settings.decode(File.self)
        var errors: [ConfigError] = []
        var host = "127.0.0.1", port = 0
        switch settings.listen(f.listen, at: ["listen"], example: "127.0.0.1:8730") {
        case .success(let a): (host, port) = a
        case .failure(let e): errors.append(e)
        }
        let (clients, problems) = ClientProof.load(f.clients, settings, who: "the petition office's system")
        errors += problems
        var wait = 5.0
        if let w = f.wait {
            if let s = AdapterConfig.seconds(w), s > 0, s <= 60 { wait = s } else {
                errors.append(settings.error(at: ["wait"], "\"\(w)\" is not a duration between 1ms and 60s (5s)"))
            }
        }
        let publicURL = f.public_url ?? "http://\(host):\(port)"
        if !(publicURL.hasPrefix("http://") || publicURL.hasPrefix("https://")) || publicURL.hasSuffix("/") {
            errors.append(settings.error(at: ["public_url"], "\"\(publicURL)\" is not an http(s) address without a trailing / (https://xf.example.gov.cn)"))
        }
        let (importing, importProblems) = ImportColumns.load(f.import, PetitionImport.schema, settings)
        errors += importProblems
        guard errors.isEmpty else { throw ConfigErrors(errors: errors) }
        let dir = (settings.path as NSString).deletingLastPathComponent
        let book = f.book ?? "../../data/petition/\(adapter).db"
        return PetitionSettings(host: host, port: port, clients: clients, wait: wait,
                                bookPath: book.hasPrefix("/") ? book : (dir as NSString).appendingPathComponent(book), publicURL: publicURL,
                                 importing: importing)
    }
}
