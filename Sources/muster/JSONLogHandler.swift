import ArgumentParser
import Foundation
import Logging
import Synchronization

/// `--log-format`: text lines for people, or one JSON object per line for log shippers
/// (Loki, Elasticsearch, journald's JSON export).
enum LogFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    case text, json
}

/// swift-log's handler for `--log-format json` (swift-log ships only text handlers): one object
/// per line on stderr — `ts` (RFC 3339, UTC, milliseconds), `level`, `logger`, `msg`, `source`,
/// and the metadata's keys beside them (prefixed `meta_` where they would take one of those).
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    /// Lines from several threads do not interleave.
    private static let output = Mutex(())
    static let reserved: Set<String> = ["ts", "level", "logger", "msg", "source"]

    init(label: String) { self.label = label }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?, source: String,
             file: String, function: String, line: UInt) {
        var all = metadata
        if let provided = metadataProvider?.get() { all.merge(provided) { _, new in new } }
        if let explicit { all.merge(explicit) { _, new in new } }
        let line = Data((Self.line(level: level, label: label, message: "\(message)", source: source, metadata: all, at: Date()) + "\n").utf8)
        Self.output.withLock { _ in FileHandle.standardError.write(line) }
    }

    static func line(level: Logger.Level, label: String, message: String, source: String, metadata: Logger.Metadata, at: Date) -> String {
        var doc: [String: Any] = ["ts": Self.timestamp(at), "level": level.rawValue, "logger": label, "msg": message, "source": source]
        for (key, value) in metadata { doc[reserved.contains(key) ? "meta_" + key : key] = Self.json(value) }
        let data = (try? JSONSerialization.data(withJSONObject: doc, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    static func json(_ v: Logger.Metadata.Value) -> Any {
        switch v {
        case .string(let s): s
        case .stringConvertible(let c): "\(c)"
        case .array(let a): a.map(json)
        case .dictionary(let d): d.mapValues(json)
        }
    }

    static func timestamp(_ d: Date) -> String {
        d.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }
}
