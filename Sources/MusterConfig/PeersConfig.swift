import Foundation
import MusterCore
import MusterWire

/// config/peers.yaml: each peer's CURVE public key and what it may claim. A key is given inline
/// (`public_key`, as the peer's administrator sent it) or as the `.pub` file `muster keys gen`
/// wrote (`public_key_file`, relative to peers.yaml).
public enum PeersConfig {
    struct File: Decodable {
        struct Peer: Decodable {
            var name: String
            var public_key: String?
            var public_key_file: String?
            var adapters: [String]
            var roles: [String]
            var agencies: [String]?
        }
        var peers: [Peer]
    }

    public static func load(_ path: String, agencies known: Set<String>) throws(ConfigErrors) -> [String: Principal] {
        let yaml = try YAMLFile(path: path)
        let f = try yaml.decode(File.self)
        var errors: [ConfigError] = []
        var byKey: [String: Principal] = [:]
        var names: Set<String> = []
        for (i, p) in f.peers.enumerated() {
            let base: [YAMLFile.Key] = [.name("peers"), .index(i)]
            guard let key = publicKey(of: p, in: yaml, at: base, errors: &errors) else { continue }
            if byKey[key] != nil { errors.append(yaml.error(at: base, "the same key is listed twice")) }
            if !names.insert(p.name).inserted { errors.append(yaml.error(at: base + [.name("name")], "the name \"\(p.name)\" is used twice")) }
            var roles: Set<Role> = []
            for (j, r) in p.roles.enumerated() {
                if let role = Role(rawValue: r) { roles.insert(role) } else {
                    errors.append(yaml.error(at: base + [.name("roles"), .index(j)], "unknown role \"\(r)\"\(Spelling.hint(r, in: Role.allCases.map(\.rawValue)))"))
                }
            }
            for (j, a) in (p.agencies ?? []).enumerated() where a != "*" && !known.contains(a) {
                errors.append(yaml.error(at: base + [.name("agencies"), .index(j)], "unknown agency \"\(a)\"\(Spelling.hint(a, in: known.sorted()))"))
            }
            byKey[key] = Principal(name: p.name, publicKey: key, adapters: p.adapters, roles: roles, agencies: p.agencies ?? [])
        }
        guard errors.isEmpty else { throw ConfigErrors(errors: errors) }
        return byKey
    }

    /// The `.pub` files peers.yaml names (for `muster keys init`), absolute.
    public static func keyFiles(_ path: String) throws(ConfigErrors) -> [String] {
        let f = try YAMLFile(path: path).decode(File.self)
        return f.peers.compactMap { $0.public_key_file.map { ConfigPath.resolve($0, beside: path) } }
    }

    private static func publicKey(of p: File.Peer, in yaml: YAMLFile, at base: [YAMLFile.Key], errors: inout [ConfigError]) -> String? {
        switch (p.public_key, p.public_key_file) {
        case (let key?, nil):
            guard isZ85Key(key) else {
                errors.append(yaml.error(at: base + [.name("public_key")], "not a 40-character Z85 CURVE public key (muster keys gen)")); return nil
            }
            return key
        case (nil, let file?):
            let full = ConfigPath.resolve(file, beside: yaml.path)
            do { return try KeyFile.read(full).public } catch {
                let why = FileManager.default.fileExists(atPath: full) ? "has no Z85 public key"
                    : "does not exist (muster keys gen \(KeyFile.name(of: full)) --dir \((full as NSString).deletingLastPathComponent); make run does this for the sample peers)"
                errors.append(yaml.error(at: base + [.name("public_key_file")], "\(full) \(why)")); return nil
            }
        default:
            errors.append(yaml.error(at: base, "give exactly one of public_key and public_key_file")); return nil
        }
    }

    /// Z85 text of 32 bytes: 40 characters of the Z85 alphabet.
    public static func isZ85Key(_ s: String) -> Bool {
        let alphabet = Set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#")
        return s.count == 40 && s.allSatisfy(alphabet.contains)
    }
}
