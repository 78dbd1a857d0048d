import Foundation
import GRDB

/// An adapter's own SQLite file (its act queue, a console's inbox, the hotline's book): its
/// folder made if need be, every commit on disk before it returns (synchronous=FULL), so that
/// what an adapter has answered survives a kill -9 or a power cut. Another process reading the
/// file (an operator's sqlite3, a monitoring check) holds a shared lock for a moment: a
/// write waits for it rather than failing — an act's answer not written would leave it waiting
/// until the next restart.
public enum LocalDatabase {
    /// How long a write waits for another connection's lock before it fails.
    public static let busyTimeout: TimeInterval = 10

    public static func open(_ path: String) throws -> DatabaseQueue {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        var config = Configuration()
        config.busyMode = .timeout(busyTimeout)
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        return try DatabaseQueue(path: path, configuration: config)
    }
}
