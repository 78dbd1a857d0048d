import Foundation
import MusterCore
import MusterWire

/// config/peers.yaml: each peer's CURVE public key and what it may claim.
public enum PeersConfig {
    struct File: Decodable {
        struct Peer: Decodable {
            var name: String
            var public_key: String
            var adapters: [String]
            var roles: [String]
            var agencies: [String]?
        }
        var peers: [Peer]
    }

    public static func load(_ path: String, agencies known: Set<String>) throws(ConfigErrors) -> [String: Principal] {
        let yaml: YAMLFile, f: File
        do { yaml = try YAMLFile(path: path); f = try yaml.decode(File.self) } catch { throw ConfigErrors(errors: [error]) }
        var errors: [ConfigError] = []
        var byKey: [String: Principal] = [:]
        for (i, p) in f.peers.enumerated() {
            let base: [YAMLFile.Key] = [.name("peers"), .index(i)]
            if !isZ85Key(p.public_key) { errors.append(yaml.error(at: base + [.name("public_key")], "not a 40-character Z85 CURVE public key (muster keys gen)")) }
            if byKey[p.public_key] != nil { errors.append(yaml.error(at: base + [.name("public_key")], "the same key is listed twice")) }
            var roles: Set<Role> = []
            for (j, r) in p.roles.enumerated() {
                if let role = Role(rawValue: r) { roles.insert(role) } else { errors.append(yaml.error(at: base + [.name("roles"), .index(j)], "unknown role \"\(r)\"")) }
            }
            for (j, a) in (p.agencies ?? []).enumerated() where a != "*" && !known.contains(a) {
                errors.append(yaml.error(at: base + [.name("agencies"), .index(j)], "unknown agency \"\(a)\""))
            }
            byKey[p.public_key] = Principal(name: p.name, publicKey: p.public_key, adapters: p.adapters, roles: roles, agencies: p.agencies ?? [])
        }
        guard errors.isEmpty else { throw ConfigErrors(errors: errors) }
        return byKey
    }

    /// Z85 text of 32 bytes: 40 characters of the Z85 alphabet.
    static func isZ85Key(_ s: String) -> Bool {
        let alphabet = Set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#")
        return s.count == 40 && s.allSatisfy(alphabet.contains)
    }
}

/// A key file written by `muster keys gen`: `public: …` and `secret: …` lines (the `.pub` file
/// has only the first).
public enum KeyFile {
    public static func read(_ path: String) throws -> (public: String, secret: String?) {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var pub: String?, sec: String?
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2 else { continue }
            if parts[0] == "public" { pub = parts[1] } else if parts[0] == "secret" { sec = parts[1] }
        }
        guard let pub, PeersConfig.isZ85Key(pub) else {
            throw ConfigErrors(errors: [ConfigError(file: path, line: nil, key: "public", message: "no Z85 public key")])
        }
        return (pub, sec)
    }
}
