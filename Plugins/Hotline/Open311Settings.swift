import Foundation
import MusterAdapterKit
import MusterConfig
import MusterWire

/// `settings.open311` of `plugin: hotline12345`: the Open311 GeoReport v2 API beside the intake
/// API (README.md, "Open311"). Its services are the categories of the broker's routing.yaml,
/// read through the broker's own config (`config`, the muster.yaml the broker runs with), so the
/// list a client sees is the list the broker routes by. Without the section nothing is served
/// under /open311.
struct Open311Settings: Sendable {
    var catalog: Open311Catalog
    /// The source of the cases POSTed here, and the only cases the API shows.
    var source: Source
    /// The spec's `jurisdiction_id`: a request naming another is answered 404; absent, the
    /// endpoint's one jurisdiction is meant.
    var jurisdiction: String?

    struct File: Decodable {
        var config: String
        var source: String?
        var jurisdiction_id: String?
    }

    /// The section checked; every problem is an error at its key (settings.open311.KEY).
    static func load(_ f: File, _ settings: PluginSettings) -> (Open311Settings?, [ConfigError]) {
        var errors: [ConfigError] = []
        let dir = (settings.path as NSString).deletingLastPathComponent
        let path = f.config.hasPrefix("/") ? f.config : (dir as NSString).appendingPathComponent(f.config)
        var catalog: Open311Catalog?
        do {
            let broker = try BrokerConfig.load(path, insecure: true)
            catalog = Open311Catalog(broker.rules.routing)
            if catalog?.services.isEmpty == true {
                errors.append(settings.error(at: ["open311", "config"], "\(path): routing.yaml has no categories to offer as services"))
            }
        } catch {
            let first = error.errors.first.map(\.description) ?? "unreadable"
            errors.append(settings.error(at: ["open311", "config"], "cannot load the broker's config \(path): \(first)"))
        }
        var source = Source.citizenApp
        if let s = f.source {
            if let known = Source(rawValue: s) { source = known } else {
                errors.append(settings.error(at: ["open311", "source"], "unknown source \"\(s)\": one of \(Source.allCases.map(\.rawValue).joined(separator: ", "))"))
            }
        }
        if let j = f.jurisdiction_id, j.isEmpty || j.utf8.count > 100 || !j.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }) {
            errors.append(settings.error(at: ["open311", "jurisdiction_id"], "\"\(j)\": letters, digits, . _ - only, at most 100 (zhengzhou.gov.cn)"))
        }
        guard errors.isEmpty, let catalog else { return (nil, errors) }
        return (Open311Settings(catalog: catalog, source: source, jurisdiction: f.jurisdiction_id), [])
    }
}
