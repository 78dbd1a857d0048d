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
        let yaml: YAMLFile, f: File
        do { yaml = try YAMLFile(path: path); f = try yaml.decode(File.self) } catch { throw ConfigErrors(errors: [error]) }
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
                if let role = Role(rawValue: r) { roles.insert(role) } else { errors.append(yaml.error(at: base + [.name("roles"), .index(j)], "unknown role \"\(r)\"")) }
            }
            for (j, a) in (p.agencies ?? []).enumerated() where a != "*" && !known.contains(a) {
                errors.append(yaml.error(at: base + [.name("agencies"), .index(j)], "unknown agency \"\(a)\""))
            }
            byKey[key] = Principal(name: p.name, publicKey: key, adapters: p.adapters, roles: roles, agencies: p.agencies ?? [])
        }
        guard errors.isEmpty else { throw ConfigErrors(errors: errors) }
        return byKey
    }

    /// The `.pub` files peers.yaml names (for `muster keys init`), absolute.
    public static func keyFiles(_ path: String) throws(ConfigErrors) -> [String] {
        let f: File
        do { f = try YAMLFile(path: path).decode(File.self) } catch { throw ConfigErrors(errors: [error]) }
        return f.peers.compactMap { $0.public_key_file.map { resolve($0, beside: path) } }
    }

    private static func publicKey(of p: File.Peer, in yaml: YAMLFile, at base: [YAMLFile.Key], errors: inout [ConfigError]) -> String? {
        switch (p.public_key, p.public_key_file) {
        case (let key?, nil):
            guard isZ85Key(key) else {
                errors.append(yaml.error(at: base + [.name("public_key")], "not a 40-character Z85 CURVE public key (muster keys gen)")); return nil
            }
            return key
        case (nil, let file?):
            let full = resolve(file, beside: yaml.path)
            do { return try KeyFile.read(full).public } catch {
                let why = FileManager.default.fileExists(atPath: full) ? "has no Z85 public key" : "does not exist (muster keys gen \(((full as NSString).lastPathComponent as NSString).deletingPathExtension) --dir \((full as NSString).deletingLastPathComponent); make run does this for the sample peers)"
                errors.append(yaml.error(at: base + [.name("public_key_file")], "\(full) \(why)")); return nil
            }
        default:
            errors.append(yaml.error(at: base, "give exactly one of public_key and public_key_file")); return nil
        }
    }

    static func resolve(_ file: String, beside path: String) -> String {
        file.hasPrefix("/") ? file : (((path as NSString).deletingLastPathComponent as NSString).appendingPathComponent(file) as NSString).standardizingPath
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

    /// Writes NAME.key (public and secret, mode 0600 from the start) and NAME.pub (public only)
    /// in dir; refuses to overwrite an existing key.
    public static func write(name: String, publicKey: String, secretKey: String, dir: String) throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let keyPath = (dir as NSString).appendingPathComponent("\(name).key")
        let fd = open(keyPath, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else {
            throw ConfigError(file: keyPath, line: nil, key: "", message: errno == EEXIST ? "exists; remove it first to rotate the key" : "cannot create: \(String(cString: strerror(errno)))")
        }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        try handle.write(contentsOf: Data("public: \(publicKey)\nsecret: \(secretKey)\n".utf8))
        try handle.synchronize()
        try "public: \(publicKey)\n".write(toFile: (dir as NSString).appendingPathComponent("\(name).pub"), atomically: true, encoding: .utf8)
    }
}
