import Foundation
import GRDB

/// An adapter's own SQLite file (its act queue, a console's inbox, the hotline's book): its
/// folder made if need be, every commit on disk before it returns (synchronous=FULL), so that
/// what an adapter has answered survives a kill -9 or a power cut.
public enum LocalDatabase {
    public static func open(_ path: String) throws -> DatabaseQueue {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        var config = Configuration()
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        return try DatabaseQueue(path: path, configuration: config)
    }
}
