import Crypto
import Foundation
import MusterConfig
import WebhookDepartment

/// Where `muster import` sends a file's rows: the intake API of the adapter whose config it is
/// given (its `listen`), as one of that config's clients, proving itself as that client would
/// (`ClientProof`) — so imported items take exactly the way live ones take.
public struct ImportTarget: Sendable {
    public let adapter: String
    /// http://HOST:PORT of the intake API.
    public let base: String
    public let client: String
    let proof: IntakeClient.Proof
    public let columns: ImportColumns
    /// The adapter's `wait`: how long one POST may take before it answers 202.
    public let wait: Double

    public struct WrongClient: Error, CustomStringConvertible {
        public var description: String
    }

    /// What an adapter's settings give the import.
    public struct Settings {
        public var host: String, port: Int, clients: [IntakeClient], columns: ImportColumns, wait: Double
        public init(host: String, port: Int, clients: [IntakeClient], columns: ImportColumns, wait: Double) {
            self.host = host; self.port = port; self.clients = clients; self.columns = columns; self.wait = wait
        }
    }

    /// The adapter's config as the adapter loads it (every error with file, line and key) — it
    /// must be of `plugin` — and the client: `client`, or the first one listed.
    public static func load(config path: String, client: String?, plugin: String,
                            settings: (PluginSettings, String) throws -> Settings) throws -> ImportTarget {
        let cfg = try AdapterConfig.load(path)
        guard cfg.plugin == plugin else {
            throw ConfigErrors(errors: [ConfigError(file: path, line: cfg.pluginLine, key: "plugin",
                                                    message: "\(cfg.plugin.map { "plugin \"\($0)\"" } ?? "no plugin"): this import needs the config of a \(plugin) adapter")])
        }
        let s = try settings(cfg.settings, cfg.adapter)
        let names = s.clients.map(\.name)
        guard let c = client.map({ name in s.clients.first { $0.name == name } }) ?? s.clients.first else {
            throw WrongClient(description: "\(path) has no client \"\(client ?? "")\": one of \(names.joined(separator: ", "))")
        }
        // The adapter listens on every address: this machine is one of them.
        let host = ["0.0.0.0", "", "*"].contains(s.host) ? "127.0.0.1" : ["::", "[::]"].contains(s.host) ? "[::1]" : s.host
        return ImportTarget(adapter: cfg.adapter, base: "http://\(host):\(s.port)", client: c.name, proof: c.proof,
                            columns: s.columns, wait: s.wait)
    }

    /// The headers proving a request with this body (an empty one for a GET).
    public func headers(body: [UInt8], now: Date = Date()) -> [String: String] {
        var h = ["X-Muster-Client": client]
        switch proof {
        case .hmac(let secret):
            let ts = String(Int64(now.timeIntervalSince1970))
            h["X-Muster-Timestamp"] = ts
            h["X-Muster-Signature"] = "sha256=" + WebhookDepartment.signature(secret: SymmetricKey(data: secret), timestamp: ts, body: body)
        case .apiKey(let key):
            h["Authorization"] = "Bearer " + key
        }
        return h
    }
}
