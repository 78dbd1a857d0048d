import Foundation
import Yams

/// One YAML file: decoded into a Codable shape, with every key path mapped back to its line so
/// that any problem — a type error or a broken rule — names file, line and key.
struct YAMLFile {
    enum Key: Hashable, CustomStringConvertible {
        case name(String), index(Int)
        var description: String {
            switch self { case .name(let n): n; case .index(let i): "[\(i)]" }
        }
    }

    let path: String
    private(set) var root: Node?
    /// Where `root` sits in the file, for a section decoded apart (`section(_:)`): errors name
    /// the whole key path.
    private(set) var prefix: [Key] = []

    init(path: String) throws(ConfigErrors) {
        self.path = path
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ConfigErrors(errors: [ConfigError(file: path, line: nil, key: "", message: "cannot read: \(error.localizedDescription)")])
        }
        let composed = try YAMLFile.compose(text, path: path)
        root = composed.root
        if let root {
            let repeats = YAMLFile.repeatedKeys(in: root, renamed: composed.renamed, file: path)
            if !repeats.isEmpty { throw ConfigErrors(errors: repeats) }
        }
    }

    /// Decodes the file into `T`, strictly: besides type errors, every key `T` does not read is
    /// an error, with the nearest valid key (StrictDecoding.swift).
    func decode<T: Decodable>(_ type: T.Type) throws(ConfigErrors) -> T {
        guard let root else {
            throw ConfigErrors(errors: [ConfigError(file: path, line: 1, key: YAMLFile.render(prefix), message: prefix.isEmpty ? "the file is empty" : "the section is empty")])
        }
        let ledger = KeyLedger()
        let value: T
        do {
            value = try YAMLDecoder().decode(Recorded<T>.self, from: root, userInfo: [KeyLedger.userInfoKey: ledger]).value
        } catch let e as DecodingError {
            throw ConfigErrors(errors: [error(e, ledger)])
        } catch {
            throw ConfigErrors(errors: [ConfigError(file: path, line: nil, key: YAMLFile.render(prefix), message: "\(error)")])
        }
        let unknown = ledger.unknownKeys(in: root, file: path).map { e in
            var e = e
            e.key = YAMLFile.render(prefix) + (prefix.isEmpty || e.key.isEmpty || e.key.hasPrefix("[") ? "" : ".") + e.key
            return e
        }
        guard unknown.isEmpty else { throw ConfigErrors(errors: unknown) }
        return value
    }

    /// The file without its top-level `key`: a section another decodes apart.
    func without(_ key: String) -> YAMLFile {
        var copy = self
        if case .mapping(let m)? = root, m.contains(where: { $0.key.string == key }) {
            copy.root = .mapping(Node.Mapping(m.filter { $0.key.string != key }, m.tag, m.style, m.mark))
        }
        return copy
    }

    /// The top-level `key` section as a file of its own (lines and key paths still the file's);
    /// nil when the file has no such key.
    func section(_ key: String) -> YAMLFile? {
        guard let node = YAMLFile.child(of: root, .name(key)) else { return nil }
        var copy = self
        copy.root = node
        copy.prefix = prefix + [.name(key)]
        return copy
    }

    /// The error at a key path, with the line of the deepest node that exists on it.
    func error(at keys: [Key], _ message: String) -> ConfigError {
        ConfigError(file: path, line: line(at: keys), key: YAMLFile.render(prefix + keys), message: message)
    }

    /// The line of a key path: where its last key is written (a block value starts below it),
    /// or its list item; as deep as the path exists.
    func line(at keys: [Key]) -> Int? {
        var node = root
        var line = root?.mark?.line
        for key in keys {
            let parent = node
            node = YAMLFile.child(of: node, key)
            guard let node else { break }
            switch key {
            case .name(let n): line = parent?.mapping?.first { $0.key.string == n }?.key.mark?.line ?? node.mark?.line ?? line
            case .index: line = node.mark?.line ?? line
            }
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

    private func error(_ e: DecodingError, _ ledger: KeyLedger) -> ConfigError {
        switch e {
        case .keyNotFound(let key, let ctx):
            let at = YAMLFile.keys(ctx.codingPath)
            if let slip = nearMiss(for: key.stringValue, at: at, ledger) {
                return ConfigError(file: path, line: slip.line, key: YAMLFile.render(prefix + at + [.name(key.stringValue)]),
                                   message: "required key is missing; is `\(slip.key)` (line \(slip.line.map(String.init) ?? "?")) a misspelling of it?")
            }
            return error(at: at + [.name(key.stringValue)], "required key is missing")
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

    /// A key beside a missing required one that looks like a misspelling of it. Decoding stopped
    /// at the missing key, so only the keys already read there are known to be valid; the
    /// others are candidates.
    private func nearMiss(for missing: String, at keys: [Key], _ ledger: KeyLedger) -> (key: String, line: Int?)? {
        var node = root
        for key in keys { node = YAMLFile.child(of: node, key) }
        guard let mapping = node?.mapping else { return nil }
        let read = ledger.keys(at: keys)
        let others = mapping.keys.compactMap(\.string).filter { !read.contains($0) && $0 != missing }
        guard let near = Spelling.nearest(missing, in: others) else { return nil }
        return (near, mapping.keys.first { $0.string == near }?.mark?.line)
    }

    private static func child(of node: Node?, _ key: Key) -> Node? {
        switch key {
        case .name(let n): return node?.mapping?[n]
        case .index(let i):
            guard let seq = node?.sequence, i < seq.count else { return nil }
            return seq[i]
        }
    }

    // MARK: - Repeated keys

    /// Composes the text. Yams refuses a mapping that repeats a key, but names only the first
    /// occurrence and no key path; to report the repeat itself, the first occurrence is renamed
    /// in a copy of the text (a prefix at the position Yams gives) and the copy composed again,
    /// until it composes. `renamed` maps each new name back to the key it was.
    private static func compose(_ text: String, path: String) throws(ConfigErrors) -> (root: Node?, renamed: [String: String]) {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var renamed: [String: String] = [:]
        var lastMark: (Int, Int)?
        while true {
            do {
                return (try Yams.compose(yaml: lines.joined(separator: "\n")), renamed)
            } catch YamlError.duplicatedKeysInMapping(let keys, let context) {
                let key = keys.sorted().first ?? "?"
                let mark = context.mark
                let first = ConfigError(file: path, line: mark.line, key: "", message: "duplicate key `\(key)` in one mapping")
                // Give up locating (but keep the first line) if the rename did not take.
                guard lastMark.map({ $0 != (mark.line, mark.column) }) ?? true, renamed.count < 100,
                      (1...lines.count).contains(mark.line) else { throw ConfigErrors(errors: [first]) }
                lastMark = (mark.line, mark.column)
                var scalars = Array(lines[mark.line - 1].unicodeScalars)   // libyaml counts columns in code points
                var at = mark.column - 1
                guard at < scalars.count else { throw ConfigErrors(errors: [first]) }
                if scalars[at] == "\"" || scalars[at] == "'" { at += 1 }
                let prefix = "muster-repeated-\(renamed.count)-"
                scalars.insert(contentsOf: prefix.unicodeScalars, at: at)
                var line = String.UnicodeScalarView()
                line.append(contentsOf: scalars)
                lines[mark.line - 1] = String(line)
                renamed[prefix + key] = key
            } catch let e as YamlError {
                throw ConfigErrors(errors: [ConfigError(file: path, line: YAMLFile.line(of: e), key: "", message: "not valid YAML: \(e)")])
            } catch {
                throw ConfigErrors(errors: [ConfigError(file: path, line: nil, key: "", message: "not valid YAML: \(error)")])
            }
        }
    }

    /// Every key given a second time in its mapping, at the line of the repeat. Besides the
    /// repeats Yams refused (renamed), this finds keys Yams tells apart by tag but decoding would
    /// not (`1:` and `"1":`).
    private static func repeatedKeys(in node: Node, at path: [Key] = [], renamed: [String: String], file: String) -> [ConfigError] {
        switch node {
        case .mapping(let mapping):
            var errors: [ConfigError] = []
            var firstLine: [String: Int?] = [:]
            for (key, value) in mapping {
                guard let written = key.string else { continue }
                let name = renamed[written] ?? written
                if let first = firstLine[name] {
                    errors.append(ConfigError(file: file, line: key.mark?.line, key: render(path + [.name(name)]),
                                              message: "duplicate key `\(name)` (first at line \(first.map(String.init) ?? "?")): remove one"))
                } else {
                    firstLine[name] = key.mark?.line
                }
                errors += repeatedKeys(in: value, at: path + [.name(name)], renamed: renamed, file: file)
            }
            return errors
        case .sequence(let sequence):
            return sequence.enumerated().flatMap { i, n in repeatedKeys(in: n, at: path + [.index(i)], renamed: renamed, file: file) }
        case .scalar, .alias:
            return []
        }
    }

    private static func line(of e: YamlError) -> Int? {
        switch e {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): mark.line
        default: nil
        }
    }
}
