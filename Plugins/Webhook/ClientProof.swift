import Crypto
import Foundation
import Hummingbird
import MusterAdapterKit
import MusterConfig

/// A caller of an intake API (the 12345 platform, the petition office's system), proving itself
/// with an HMAC over each request (`secret_file`) or a bearer key (`api_key_file`).
public struct IntakeClient: Sendable {
    public enum Proof: Sendable { case hmac(secret: [UInt8]), apiKey(String) }
    public var name: String
    public var proof: Proof
    public init(name: String, proof: Proof) { self.name = name; self.proof = proof }
}

/// Who is calling: `X-Muster-Client` names the client; an HMAC client signs as the department
/// plugins' systems do (`X-Muster-Timestamp`, `X-Muster-Signature: sha256=HEX` over
/// `timestamp.body`, within 5 minutes), a key client sends `Authorization: Bearer KEY`.
public struct ClientProof: Sendable {
    public let clients: [IntakeClient]

    public init(clients: [IntakeClient]) { self.clients = clients }

    /// The client's name, or nil if the request proves nothing.
    public func check(client: String, timestamp: String, signature: String, authorization: String, body: [UInt8], now: Date = Date()) -> String? {
        guard let c = clients.first(where: { $0.name == client }) else { return nil }
        switch c.proof {
        case .hmac(let secret):
            guard let t = Int64(timestamp), abs(Int64(now.timeIntervalSince1970) - t) <= 300 else { return nil }
            let want = "sha256=" + WebhookDepartment.signature(secret: SymmetricKey(data: secret), timestamp: timestamp, body: body)
            return Self.same(want, signature) ? c.name : nil
        case .apiKey(let key):
            return Self.same("Bearer " + key, authorization) ? c.name : nil
        }
    }

    /// The client of an HTTP request, from its headers.
    public func check(_ request: Request, body: [UInt8]) -> String? {
        func header(_ name: String) -> String { request.headers.first { $0.name.canonicalName == name }?.value ?? "" }
        return check(client: header("x-muster-client"), timestamp: header("x-muster-timestamp"),
                     signature: header("x-muster-signature"), authorization: header("authorization"), body: body)
    }

    /// Compared in constant time: a wrong guess says nothing about how wrong.
    public static func same(_ a: String, _ b: String) -> Bool {
        a.utf8.count == b.utf8.count && zip(a.utf8, b.utf8).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// `clients:` in an adapter's settings, as written.
    public struct File: Decodable, Sendable { public var name: String; public var secret_file: String?; public var api_key_file: String? }

    /// The clients of `settings` (their secrets read from files beside the config), or the
    /// problems, each located; `who` names the expected caller in the error for none.
    public static func load(_ files: [File], _ settings: PluginSettings, who: String) -> ([IntakeClient], [ConfigError]) {
        var errors: [ConfigError] = []
        let dir = (settings.path as NSString).deletingLastPathComponent
        func read(_ file: String, _ key: String, _ i: Int) -> String? {
            let path = file.hasPrefix("/") ? file : (dir as NSString).appendingPathComponent(file)
            let text = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            guard let text, !text.isEmpty else {
                errors.append(settings.error(at: ["clients"], "clients[\(i)].\(key): cannot read a secret from \(path)")); return nil
            }
            return text
        }
        var clients: [IntakeClient] = []
        var names: Set<String> = []
        if files.isEmpty { errors.append(settings.error(at: ["clients"], "at least one client (\(who)) is needed")) }
        for (i, c) in files.enumerated() {
            if c.name.isEmpty || !c.name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }) {
                errors.append(settings.error(at: ["clients"], "clients[\(i)].name \"\(c.name)\": letters, digits, . _ - only"))
            } else if !names.insert(c.name).inserted {
                errors.append(settings.error(at: ["clients"], "clients[\(i)].name \"\(c.name)\" is given twice"))
            }
            switch (c.secret_file, c.api_key_file) {
            case (let s?, nil): if let t = read(s, "secret_file", i) { clients.append(IntakeClient(name: c.name, proof: .hmac(secret: Array(t.utf8)))) }
            case (nil, let k?): if let t = read(k, "api_key_file", i) { clients.append(IntakeClient(name: c.name, proof: .apiKey(t))) }
            default: errors.append(settings.error(at: ["clients"], "clients[\(i)] (\(c.name)): give secret_file (HMAC) or api_key_file (bearer key), one of them"))
            }
        }
        return (clients, errors)
    }
}
