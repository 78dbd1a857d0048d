import Foundation
import Yams

/// One YAML file: decoded into a Codable shape, with every key path mapped back to its line so
/// that any problem — a type error or a broken rule — names file, line and key.
struct YAMLFile {
    enum Key: CustomStringConvertible {
        case name(String), index(Int)
        var description: String {
            switch self { case .name(let n): n; case .index(let i): "[\(i)]" }
        }
    }

    let path: String
    let root: Node?

    init(path: String) throws(ConfigError) {
        self.path = path
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ConfigError(file: path, line: nil, key: "", message: "cannot read: \(error.localizedDescription)")
        }
        do { root = try Yams.compose(yaml: text) } catch let e as YamlError {
            throw ConfigError(file: path, line: YAMLFile.line(of: e), key: "", message: "not valid YAML: \(e)")
        } catch {
            throw ConfigError(file: path, line: nil, key: "", message: "not valid YAML: \(error)")
        }
    }

    func decode<T: Decodable>(_ type: T.Type) throws(ConfigError) -> T {
        guard let root else { throw ConfigError(file: path, line: 1, key: "", message: "the file is empty") }
        do {
            return try YAMLDecoder().decode(T.self, from: root)
        } catch let e as DecodingError {
            throw error(e)
        } catch {
            throw ConfigError(file: path, line: nil, key: "", message: "\(error)")
        }
    }

    /// The error at a key path, with the line of the deepest node that exists on it.
    func error(at keys: [Key], _ message: String) -> ConfigError {
        ConfigError(file: path, line: line(at: keys), key: YAMLFile.render(keys), message: message)
    }

    /// The scalar text at a key path, if there is one.
    func node(at keys: [Key]) -> String? {
        var node = root
        for key in keys {
            switch key {
            case .name(let n): node = node?.mapping?[n]
            case .index(let i):
                if let seq = node?.sequence, i < seq.count { node = seq[i] } else { node = nil }
            }
        }
        return node?.scalar?.string
    }

    func line(at keys: [Key]) -> Int? {
        var node = root
        var line = root?.mark?.line
        for key in keys {
            switch key {
            case .name(let n): node = node?.mapping?[n]
            case .index(let i):
                if let seq = node?.sequence, i < seq.count { node = seq[i] } else { node = nil }
            }
            guard let node else { break }
            line = node.mark?.line ?? line
        }
        return line
    }

    static func render(_ keys: [Key]) -> String {
        var out = ""
        for k in keys {
            if case .name(let n) = k, !out.isEmpty { out += "." + n } else { out += k.description }
        }
        return out
    }

    private static func keys(_ path: [CodingKey]) -> [Key] {
        path.map { $0.intValue.map(Key.index) ?? .name($0.stringValue) }
    }

    private func error(_ e: DecodingError) -> ConfigError {
        switch e {
        case .keyNotFound(let key, let ctx):
            return error(at: YAMLFile.keys(ctx.codingPath + [key]), "required key is missing")
        case .typeMismatch(let type, let ctx):
            return error(at: YAMLFile.keys(ctx.codingPath), "wrong type; expected \(type)")
        case .valueNotFound(let type, let ctx):
            return error(at: YAMLFile.keys(ctx.codingPath), "missing value; expected \(type)")
        case .dataCorrupted(let ctx):
            return error(at: YAMLFile.keys(ctx.codingPath), "invalid value: \(ctx.debugDescription)")
        @unknown default:
            return ConfigError(file: path, line: nil, key: "", message: "\(e)")
        }
    }

    private static func line(of e: YamlError) -> Int? {
        switch e {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): mark.line
        default: nil
        }
    }
}
