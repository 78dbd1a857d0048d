import Foundation
import Yams

// Strict decoding: a key in a config file that no schema reads is an error, not a silent default.
//
// Neither Swift's Decodable nor Yams has a "reject unknown keys" mode, and keeping key lists by
// hand would drift from the structs. So decoding goes through `RecordingDecoder`, which wraps the
// decoder Yams hands out and notes, for each mapping (by key path), every key the schema asked
// for: synthesized Decodable asks for every property (`contains` for optionals), and a Dictionary
// asks for `allKeys`. Afterwards `KeyLedger.unknownKeys` walks the composed YAML tree and reports
// each mapping key nobody asked for, with the nearest valid key. One mechanism for every file.

/// Which keys decoding asked for at each mapping, by key path.
final class KeyLedger {
    private var asked: [[YAMLFile.Key]: Set<String>] = [:]
    /// Mappings read whole (`allKeys`: a Dictionary), where every key is valid.
    private var readWhole: Set<[YAMLFile.Key]> = []

    static let userInfoKey = CodingUserInfoKey(rawValue: "muster.keyLedger")!

    func opened(_ path: [YAMLFile.Key]) { if asked[path] == nil { asked[path] = [] } }
    func asked(_ key: String, at path: [YAMLFile.Key]) { asked[path, default: []].insert(key) }
    func readWhole(_ path: [YAMLFile.Key]) { readWhole.insert(path) }

    /// The keys known to be valid at `path` (all of them only once decoding has succeeded).
    func keys(at path: [YAMLFile.Key]) -> Set<String> { asked[path] ?? [] }

    /// Every mapping key under `node` that no schema asked for, located.
    func unknownKeys(in node: Node, at path: [YAMLFile.Key] = [], file: String) -> [ConfigError] {
        switch node {
        case .mapping(let mapping):
            var errors: [ConfigError] = []
            for (key, value) in mapping {
                if key.tag.rawValue == Tag.Name.merge.rawValue {
                    // `<<: *anchor` (or a list of them): the merged keys belong to this mapping.
                    let merged = value.sequence.map(Array.init) ?? [value]
                    for m in merged { errors += unknownKeys(in: m, at: path, file: file) }
                    continue
                }
                guard let name = key.string else {
                    errors.append(ConfigError(file: file, line: key.mark?.line, key: YAMLFile.render(path), message: "a key must be a name"))
                    continue
                }
                if readWhole.contains(path) || keys(at: path).contains(name) {
                    errors += unknownKeys(in: value, at: path + [.name(name)], file: file)
                } else {
                    errors.append(ConfigError(file: file, line: key.mark?.line, key: YAMLFile.render(path + [.name(name)]),
                                              message: KeyLedger.unknownKeyMessage(name, valid: keys(at: path))))
                }
            }
            return errors
        case .sequence(let sequence):
            return sequence.enumerated().flatMap { i, element in unknownKeys(in: element, at: path + [.index(i)], file: file) }
        case .scalar, .alias:
            return []
        }
    }

    static func unknownKeyMessage(_ name: String, valid: Set<String>) -> String {
        if let near = Spelling.nearest(name, in: valid) { return "unknown key `\(name)`; did you mean `\(near)`?" }
        if valid.isEmpty { return "unknown key `\(name)`: nothing is read here" }
        return "unknown key `\(name)`; valid here: \(valid.sorted().joined(separator: ", "))"
    }
}

/// The spelling nearest a mistyped word, among the words valid at that place.
public enum Spelling {
    /// Edit distance counting insertions and deletions (a substitution counts two), taken from
    /// the standard library's diff rather than hand-written: it only has to rank candidates.
    static func distance(_ a: String, _ b: String) -> Int { Array(a).difference(from: Array(b)).count }

    /// The closest candidate, if close enough to be a slip: a letter missing or extra in a short
    /// word, a letter or two (more in long words) otherwise.
    static func nearest(_ word: String, in candidates: some Collection<String>) -> String? {
        let scored = candidates.map { (word: $0, distance: distance(word, $0)) }
        let allowed = word.count <= 3 ? 1 : max(2, word.count / 3)
        guard let best = scored.min(by: { ($0.distance, $0.word) < ($1.distance, $1.word) }),
              best.distance <= allowed else { return nil }
        return best.word
    }

    /// ` (did you mean "x"?)` or ` (one of a, b, c)`: for a value outside a closed vocabulary.
    public static func hint(_ word: String, in candidates: [String]) -> String {
        if let near = nearest(word, in: candidates) { return "; did you mean \"\(near)\"?" }
        return " (one of \(candidates.joined(separator: ", ")))"
    }
}

/// Decodes `Value` through a `RecordingDecoder`: the entry point Yams calls with its own decoder.
struct Recorded<Value: Decodable>: Decodable {
    var value: Value
    init(from decoder: Decoder) throws {
        guard let ledger = decoder.userInfo[KeyLedger.userInfoKey] as? KeyLedger else {
            preconditionFailure("Recorded decoded without a KeyLedger in userInfo")
        }
        value = try Value(from: RecordingDecoder(inner: decoder, path: [], ledger: ledger))
    }
}

/// A decoder that forwards to Yams's and records the keys asked for. Values that are not YAML
/// scalars are decoded by their own `init(from:)` against a recording decoder in turn (Yams
/// would otherwise hand nested values its own decoder, and they would go unrecorded).
struct RecordingDecoder: Decoder {
    let inner: Decoder
    let path: [YAMLFile.Key]
    let ledger: KeyLedger

    var codingPath: [CodingKey] { inner.codingPath }
    var userInfo: [CodingUserInfoKey: Any] { inner.userInfo }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        let c = try inner.container(keyedBy: type)
        ledger.opened(path)
        return KeyedDecodingContainer(RecordingKeyedContainer(inner: c, path: path, ledger: ledger))
    }

    func unkeyedContainer() throws -> UnkeyedDecodingContainer {
        RecordingUnkeyedContainer(inner: try inner.unkeyedContainer(), path: path, ledger: ledger)
    }

    func singleValueContainer() throws -> SingleValueDecodingContainer {
        RecordingSingleValueContainer(decoder: self, inner: try inner.singleValueContainer())
    }

    /// Yams builds its scalars (String, Int, Date …) itself; everything else is decoded here.
    static func isScalar<T>(_ type: T.Type) -> Bool { type is ScalarConstructible.Type }
}

struct RecordingKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let inner: KeyedDecodingContainer<Key>
    let path: [YAMLFile.Key]
    let ledger: KeyLedger

    var codingPath: [CodingKey] { inner.codingPath }
    var allKeys: [Key] { ledger.readWhole(path); return inner.allKeys }

    private func note(_ key: Key) -> [YAMLFile.Key] {
        ledger.asked(key.stringValue, at: path)
        return path + [.name(key.stringValue)]
    }

    func contains(_ key: Key) -> Bool { _ = note(key); return inner.contains(key) }
    func decodeNil(forKey key: Key) throws -> Bool { _ = note(key); return try inner.decodeNil(forKey: key) }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try scalar(type, key) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try scalar(type, key) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try scalar(type, key) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try scalar(type, key) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try scalar(type, key) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try scalar(type, key) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try scalar(type, key) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try scalar(type, key) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try scalar(type, key) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try scalar(type, key) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try scalar(type, key) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try scalar(type, key) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try scalar(type, key) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try scalar(type, key) }

    private func scalar<T: Decodable>(_ type: T.Type, _ key: Key) throws -> T {
        _ = note(key)
        return try inner.decode(type, forKey: key)
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        let child = note(key)
        if RecordingDecoder.isScalar(type) { return try inner.decode(type, forKey: key) }
        return try T(from: RecordingDecoder(inner: try inner.superDecoder(forKey: key), path: child, ledger: ledger))
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try RecordingDecoder(inner: try inner.superDecoder(forKey: key), path: note(key), ledger: ledger).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> UnkeyedDecodingContainer {
        RecordingUnkeyedContainer(inner: try inner.nestedUnkeyedContainer(forKey: key), path: note(key), ledger: ledger)
    }

    func superDecoder() throws -> Decoder {
        ledger.asked("super", at: path)
        return RecordingDecoder(inner: try inner.superDecoder(), path: path + [.name("super")], ledger: ledger)
    }

    func superDecoder(forKey key: Key) throws -> Decoder {
        RecordingDecoder(inner: try inner.superDecoder(forKey: key), path: note(key), ledger: ledger)
    }
}

struct RecordingUnkeyedContainer: UnkeyedDecodingContainer {
    var inner: UnkeyedDecodingContainer
    let path: [YAMLFile.Key]
    let ledger: KeyLedger

    var codingPath: [CodingKey] { inner.codingPath }
    var count: Int? { inner.count }
    var isAtEnd: Bool { inner.isAtEnd }
    var currentIndex: Int { inner.currentIndex }

    mutating func decodeNil() throws -> Bool { try inner.decodeNil() }
    mutating func decode(_ type: Bool.Type) throws -> Bool { try inner.decode(type) }
    mutating func decode(_ type: String.Type) throws -> String { try inner.decode(type) }
    mutating func decode(_ type: Double.Type) throws -> Double { try inner.decode(type) }
    mutating func decode(_ type: Float.Type) throws -> Float { try inner.decode(type) }
    mutating func decode(_ type: Int.Type) throws -> Int { try inner.decode(type) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try inner.decode(type) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try inner.decode(type) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try inner.decode(type) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try inner.decode(type) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try inner.decode(type) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try inner.decode(type) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try inner.decode(type) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try inner.decode(type) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try inner.decode(type) }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        if RecordingDecoder.isScalar(type) { return try inner.decode(type) }
        return try T(from: try superDecoder())
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try superDecoder().container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> UnkeyedDecodingContainer {
        try superDecoder().unkeyedContainer()
    }

    mutating func superDecoder() throws -> Decoder {
        let index = inner.currentIndex
        return RecordingDecoder(inner: try inner.superDecoder(), path: path + [.index(index)], ledger: ledger)
    }
}

struct RecordingSingleValueContainer: SingleValueDecodingContainer {
    let decoder: RecordingDecoder
    let inner: SingleValueDecodingContainer

    var codingPath: [CodingKey] { inner.codingPath }

    func decodeNil() -> Bool { inner.decodeNil() }
    func decode(_ type: Bool.Type) throws -> Bool { try inner.decode(type) }
    func decode(_ type: String.Type) throws -> String { try inner.decode(type) }
    func decode(_ type: Double.Type) throws -> Double { try inner.decode(type) }
    func decode(_ type: Float.Type) throws -> Float { try inner.decode(type) }
    func decode(_ type: Int.Type) throws -> Int { try inner.decode(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try inner.decode(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try inner.decode(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try inner.decode(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try inner.decode(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try inner.decode(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try inner.decode(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try inner.decode(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try inner.decode(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try inner.decode(type) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        if RecordingDecoder.isScalar(type) { return try inner.decode(type) }
        return try T(from: decoder)
    }
}
