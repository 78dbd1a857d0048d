import Foundation

/// What an import has done with a file, kept beside it (FILE.import-state.json) so that a rerun
/// skips those rows: each row the intake API took (201, or 202 queued), by row number with its
/// key (工单编号, 信访件编号) — a row whose key changed since (the file was edited) is sent again. Rejected rows
/// are not kept: corrected, they go on the next run. Written whole to a temporary file, synced,
/// renamed over the old one: a crash leaves the old state or the new one, never half of one.
public struct ImportState: Sendable, Equatable {
    /// Row number → the row's key.
    public var done: [Int: String] = [:]

    public init(done: [Int: String] = [:]) { self.done = done }

    public struct Unreadable: Error, CustomStringConvertible, Equatable {
        public var message: String
        public var description: String { message }
    }

    struct File: Codable {
        var version: Int
        var file: String
        var updated_at: String
        var rows: [String: String]
    }

    public static func path(for file: String) -> String { file + ".import-state.json" }

    public func isDone(_ row: Int, key: String) -> Bool { done[row] == key }

    /// The state at `path`; none yet is an empty one.
    public static func load(_ path: String) throws(Unreadable) -> ImportState {
        guard let data = FileManager.default.contents(atPath: path) else {
            if FileManager.default.fileExists(atPath: path) { throw Unreadable(message: "cannot read \(path)") }
            return ImportState()
        }
        guard let f = try? JSONDecoder().decode(File.self, from: data), f.version == 1 else {
            throw Unreadable(message: "\(path) is not an import state (version 1); move it away, or give --restart to start over")
        }
        var done: [Int: String] = [:]
        for (row, no) in f.rows {
            guard let n = Int(row), n > 0 else { throw Unreadable(message: "\(path): row \"\(row)\" is not a row number; give --restart to start over") }
            done[n] = no
        }
        return ImportState(done: done)
    }

    public func save(_ path: String, now: Date = Date()) throws {
        let f = File(version: 1, file: (path as NSString).lastPathComponent.replacingOccurrences(of: ".import-state.json", with: ""),
                     updated_at: ImportMapping.rfc3339(now), rows: Dictionary(uniqueKeysWithValues: done.map { (String($0.key), $0.value) }))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try Self.replace(path, with: try encoder.encode(f))
    }

    /// `data` at `path` atomically and durably: a synced temporary file renamed over it.
    static func replace(_ path: String, with data: Data) throws {
        let tmp = path + ".tmp"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw Unreadable(message: "cannot write \(tmp): \(String(cString: strerror(errno)))") }
        let written = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd)
        close(fd)
        guard written == data.count, synced == 0, rename(tmp, path) == 0 else {
            unlink(tmp)
            throw Unreadable(message: "cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }
}
