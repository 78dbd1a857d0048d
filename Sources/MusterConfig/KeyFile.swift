import Foundation

/// A key file written by `muster keys gen`: NAME.key holds `public: …` and `secret: …` lines
/// (mode 0600), NAME.pub only the first. Read leniently (CRLF, quotes, a BOM), written strictly.
public enum KeyFile {
    public static func read(_ path: String) throws(ConfigErrors) -> (public: String, secret: String?) {
        func fail(_ key: String, _ message: String) -> ConfigErrors {
            ConfigErrors(errors: [ConfigError(file: path, line: nil, key: key, message: message)])
        }
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw fail("", FileManager.default.fileExists(atPath: path) ? "cannot read: \(error.localizedDescription)" : "does not exist")
        }
        var values: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            let parts = line.split(separator: ":", maxSplits: 1).map {
                $0.trimmingCharacters(in: CharacterSet.whitespaces.union(["\u{FEFF}", "\"", "'"]))
            }
            if parts.count == 2 { values[parts[0]] = parts[1] }
        }
        guard let pub = values["public"], PeersConfig.isZ85Key(pub) else { throw fail("public", "no Z85 public key (a `public: …` line of 40 characters)") }
        if let secret = values["secret"], !PeersConfig.isZ85Key(secret) { throw fail("secret", "the secret key is not 40 Z85 characters") }
        return (pub, values["secret"])
    }

    /// The broker's own key file: it must hold the secret, readable by its owner only (as ssh
    /// insists for private keys).
    public static func readSecret(_ path: String) throws(ConfigErrors) -> (public: String, secret: String) {
        let keys = try read(path)
        guard let secret = keys.secret else {
            throw ConfigErrors(errors: [ConfigError(file: path, line: nil, key: "secret", message: "no secret key: this is a .pub file")])
        }
        if let mode = (try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int, mode & 0o077 != 0 {
            throw ConfigErrors(errors: [ConfigError(file: path, line: nil, key: "", message: String(format: "mode %o lets others read the secret key: chmod 600 %@", mode, path))])
        }
        return (keys.public, secret)
    }

    /// Writes NAME.key (public and secret, mode 0600 from its creation) and NAME.pub (public only)
    /// in dir. Refuses if either exists: a .pub may be a peer's own key, not to be replaced.
    public static func write(name: String, publicKey: String, secretKey: String, dir: String) throws(ConfigErrors) {
        do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
            throw ConfigErrors(errors: [ConfigError(file: dir, line: nil, key: "", message: "cannot create: \(error.localizedDescription)")])
        }
        let keyPath = path(dir, name, "key"), pubPath = path(dir, name, "pub")
        for p in [keyPath, pubPath] where FileManager.default.fileExists(atPath: p) {
            throw ConfigErrors(errors: [ConfigError(file: p, line: nil, key: "", message: "exists; remove NAME.key and NAME.pub first to make a new pair")])
        }
        try create(keyPath, "public: \(publicKey)\nsecret: \(secretKey)\n", mode: 0o600)
        try writePublic(name: name, publicKey: publicKey, dir: dir)
    }

    /// Writes NAME.pub alone (never over an existing file).
    public static func writePublic(name: String, publicKey: String, dir: String) throws(ConfigErrors) {
        try create(path(dir, name, "pub"), "public: \(publicKey)\n", mode: 0o644)
    }

    /// NAME of …/NAME.key or …/NAME.pub.
    public static func name(of path: String) -> String { ((path as NSString).lastPathComponent as NSString).deletingPathExtension }

    /// dir/NAME.ext
    public static func path(_ dir: String, _ name: String, _ ext: String) -> String { (dir as NSString).appendingPathComponent("\(name).\(ext)") }

    private static func create(_ path: String, _ text: String, mode: mode_t) throws(ConfigErrors) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode)
        guard fd >= 0 else {
            throw ConfigErrors(errors: [ConfigError(file: path, line: nil, key: "", message: errno == EEXIST ? "exists; remove it first" : "cannot create: \(String(cString: strerror(errno)))")])
        }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        do {
            try handle.write(contentsOf: Data(text.utf8))
            try handle.synchronize()
        } catch {
            throw ConfigErrors(errors: [ConfigError(file: path, line: nil, key: "", message: "cannot write: \(error.localizedDescription)")])
        }
    }
}

/// Paths in config files are relative to the file that names them.
enum ConfigPath {
    static func resolve(_ file: String, beside path: String) -> String {
        file.hasPrefix("/") ? file : (((path as NSString).deletingLastPathComponent as NSString).appendingPathComponent(file) as NSString).standardizingPath
    }
}
