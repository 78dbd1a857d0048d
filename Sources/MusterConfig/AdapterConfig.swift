import Foundation
import MusterWire

/// config/adapters/NAME.yaml: one adapter instance and its downstream.
public struct AdapterConfig: Sendable {
    public enum Downstream: Sendable, Equatable {
        case none
        /// `reportAfter`: on site this long after a SUMMON; nil: never (`report_after: never`).
        case simulate(signAfter: Double, progressAfter: Double?, finishAfter: Double, returnProbability: Double, reportAfter: Double?)
        /// Each push POSTed to the department's system; RECEIVED after its 2xx.
        case http(url: String, timeout: Double)
    }

    public var adapter: String
    public var agency: String?
    public var name: String
    public var roles: [String]
    public var broker: String
    public var jurisdictions: [String]?
    public var window: Int
    public var downstream: Downstream
    /// The plugin that runs it (`plugin: webhook`), from the registry under Plugins/; nil: the
    /// generic adapter with `downstream`.
    public var plugin: String?
    /// The plugin's own section (`settings:`), for the plugin to decode.
    public var settings: PluginSettings = .none
    /// The line of `plugin:`, for an unknown plugin's error.
    public var pluginLine: Int?
    /// Where its acts not yet answered wait (`queue:`, beside the config; default
    /// data/acts/ADAPTER.db from the project folder).
    public var queuePath: String = ""
    /// CURVE: the broker's public key file and this adapter's key file; nil: plain TCP.
    public var serverKeyFile: String?
    public var keyFile: String?

    struct File: Decodable {
        struct Downstream: Decodable {
            var kind: String
            var sign_after: String?
            var progress_after: String?
            var finish_after: String?
            var return_probability: Double?
            var report_after: String?
            var url: String?
            var timeout: String?
        }
        var adapter: String
        var agency: String?
        var name: String?
        var roles: [String]
        var broker: String?
        var jurisdictions: [String]?
        var window: Int?
        var downstream: Downstream?
        var plugin: String?
        var queue: String?
        var curve: Curve?
        struct Curve: Decodable { var server_key: String; var key: String }
    }

    /// `200ms`, `2s`, `1m` → seconds.
    public static func seconds(_ text: String) -> Double? {
        for (suffix, scale) in [("ms", 0.001), ("s", 1.0), ("m", 60.0), ("h", 3600.0)] where text.hasSuffix(suffix) {
            if let v = Double(text.dropLast(suffix.count)), v >= 0 { return v * scale }
        }
        return nil
    }

    /// The adapter config at `path`, checked on its own (the adapter does not know the broker's files).
    public static func load(_ path: String) throws(ConfigErrors) -> AdapterConfig {
        try load(path, broker: nil)
    }

    /// The adapter config at `path`, checked on its own and against the broker's config
    /// (`muster check-config`): its agency is in routing.yaml, its jurisdictions are grids or
    /// dedicated grids in grids.yaml, and where grids.yaml lists an instance with this adapter id,
    /// it is for the same agency.
    public static func load(_ path: String, against broker: BrokerConfig) throws(ConfigErrors) -> AdapterConfig {
        try load(path, broker: broker)
    }

    private static func load(_ path: String, broker: BrokerConfig?) throws(ConfigErrors) -> AdapterConfig {
        let file = try YAMLFile(path: path)
        // `settings:` belongs to the plugin, which decodes it as strictly (`PluginSettings`).
        let yaml = file.without("settings")
        let f = try yaml.decode(File.self)
        let settings = file.section("settings")
        var errors: [ConfigError] = []
        let known = Role.allCases.map(\.rawValue)
        for (i, r) in f.roles.enumerated() where !known.contains(r) {
            errors.append(yaml.error(at: [.name("roles"), .index(i)], "unknown role \"\(r)\"\(Spelling.hint(r, in: known))"))
        }
        if f.roles.contains("agency"), f.agency == nil {
            errors.append(yaml.error(at: [.name("agency")], "role agency needs an agency code"))
        }
        if let broker {
            let agencies = broker.rules.routing.agencies.keys.sorted()
            if let a = f.agency, !agencies.contains(a) {
                errors.append(yaml.error(at: [.name("agency")], "unknown agency \"\(a)\" (not in routing.yaml)\(Spelling.hint(a, in: agencies))"))
            } else if let listed = broker.instanceAgencies[f.adapter], listed != f.agency {
                errors.append(yaml.error(at: [.name("agency")], "grids.yaml lists adapter \(f.adapter) as an instance of agency \(listed), not \(f.agency ?? "none")"))
            }
            for (i, j) in (f.jurisdictions ?? []).enumerated() where !broker.rules.grids.exists(j) {
                errors.append(yaml.error(at: [.name("jurisdictions"), .index(i)], "unknown grid \"\(j)\" (not in grids.yaml)"))
            }
        }
        var downstream = Downstream.none
        if let d = f.downstream {
            switch d.kind {
            case "none": break
            case "simulate":
                func dur(_ t: String?, _ key: String, _ def: Double?) -> Double? {
                    guard let t else { return def }
                    if let s = seconds(t) { return s }
                    errors.append(yaml.error(at: [.name("downstream"), .name(key)], "\"\(t)\" is not a duration like 200ms, 2s, 1m"))
                    return def
                }
                let p = d.return_probability ?? 0
                if !(0...1).contains(p) {
                    errors.append(yaml.error(at: [.name("downstream"), .name("return_probability")], "must be between 0 and 1"))
                }
                let reportAfter = d.report_after == "never" ? nil : dur(d.report_after, "report_after", 1)
                downstream = .simulate(signAfter: dur(d.sign_after, "sign_after", 0.2)!, progressAfter: dur(d.progress_after, "progress_after", nil),
                                       finishAfter: dur(d.finish_after, "finish_after", 1)!, returnProbability: p, reportAfter: reportAfter)
            case "http":
                let key: [YAMLFile.Key] = [.name("downstream"), .name("url")]
                var timeout = 30.0
                if let t = d.timeout {
                    if let s = seconds(t), s > 0 { timeout = s } else {
                        errors.append(yaml.error(at: [.name("downstream"), .name("timeout")], "\"\(t)\" is not a duration like 500ms, 30s, 1m"))
                    }
                }
                if let u = d.url, let parsed = URL(string: u), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil {
                    downstream = .http(url: u, timeout: timeout)
                } else {
                    errors.append(yaml.error(at: d.url == nil ? [.name("downstream")] : key,
                                             d.url == nil ? "kind http needs a url" : "\"\(d.url!)\" is not an http(s) URL"))
                }
            default:
                errors.append(yaml.error(at: [.name("downstream"), .name("kind")], "unknown kind \"\(d.kind)\"; simulate, http or none"))
            }
        }
        if f.plugin != nil, f.downstream != nil {
            errors.append(yaml.error(at: [.name("downstream")], "a plugin is its own downstream: give plugin (and its settings) or downstream, not both"))
        }
        if f.plugin == nil, settings != nil {
            errors.append(file.error(at: [.name("settings")], "settings belong to a plugin: name it with plugin:"))
        }
        guard errors.isEmpty else { throw ConfigErrors(errors: errors) }
        func sibling(_ p: String) -> String { ConfigPath.resolve(p, beside: path) }
        return AdapterConfig(adapter: f.adapter, agency: f.agency, name: f.name ?? f.adapter, roles: f.roles,
                             broker: f.broker ?? "tcp://127.0.0.1:7400", jurisdictions: f.jurisdictions,
                             window: f.window ?? 1000, downstream: downstream, plugin: f.plugin,
                             settings: PluginSettings(settings, path: path), pluginLine: yaml.line(at: [.name("plugin")]),
                             queuePath: sibling(f.queue ?? "../../data/acts/\(f.adapter).db"),
                             serverKeyFile: f.curve.map { sibling($0.server_key) }, keyFile: f.curve.map { sibling($0.key) })
    }
}
