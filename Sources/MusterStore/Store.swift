import CSQLiteSetup
import Foundation
import GRDB
import MusterCore
import Synchronization

/// The `CaseStore` on SQLite: one file, WAL, `synchronous=FULL` unless configured otherwise.
/// Writes are named by intent (`commit(_:)`); one transaction each. Owned by the broker's one
/// writer thread; readers (CLI, tests) open their own.
public final class Store: CaseStore, @unchecked Sendable {
    public enum Synchronous: String, Sendable { case full = "FULL", normal = "NORMAL", off = "OFF" }

    public let path: String
    let pool: DatabasePool
    let synchronous: Synchronous
    /// Set by `checkpointInBackground`; nil: SQLite checkpoints inside the commits.
    var checkpointer: WALCheckpointer?
    /// Last event seq and chain hash, kept in step with `meta` by each commit.
    public internal(set) var lastSeq: Int64 = 0
    var head: Data = EventChain.genesis
    /// The ladder rows committed last (touched by the committing thread only).
    var recentLadders = RecentLadders()
    /// The broker's look-ups' own connection, read-only (`lookUps()`).
    let lookUpConnection = Mutex<DatabaseQueue?>(nil)
    /// The statements each of those two connections runs over and over.
    let writerStatements = PreparedStatements()
    let lookUpStatements = PreparedStatements()
    /// Where the commit's values are bound from (used on the writer connection only).
    let bindArena = BindArena()
    /// Last outbox delivery id handed out.
    public internal(set) var lastDelivery: Int64 = 0
    /// How delivery numbers are written on the wire and recognised in RECEIVED.
    public private(set) var deliveryIDs = DeliveryIDs(key: [], plainThrough: 0)

    /// SQLite's memory statistics turned off once, before the process's first connection opens
    /// (`CSQLiteSetup`: they cost every allocation a process-wide mutex). In a process that
    /// opened SQLite before, they stay on (in a test process another thread may be using SQLite
    /// meanwhile, which SQLite does not allow: at worst its memory counters are off).
    private static let memoryStatisticsOff: Void = { _ = muster_sqlite_memstatus_off() }()

    /// Whether SQLite still counts the memory it holds (and takes that mutex to do so).
    public static var sqliteCountsMemory: Bool { muster_sqlite_memory_counted() != 0 }

    /// The pages of a new database. A loaded commit rewrites pages scattered over every B-tree
    /// the cases in flight touch, and each page costs two write calls into the log and two more
    /// at the checkpoint: 8 KB pages are 2.1 a lifecycle against 3.6 of 4 KB, and the kernel's
    /// time falls by a quarter. A commit of a few requests writes as many pages as before, so
    /// twice the bytes: 6–13 % more CPU a message at 300–1,000 a second. Throughput first, as
    /// when 1 and 2 KB pages were tried (docs/PERFORMANCE.md, eighteenth round).
    public static let pageSize = 8192

    public init(path: String, synchronous: Synchronous = .full) throws {
        _ = Store.memoryStatisticsOff
        self.path = path
        self.synchronous = synchronous
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        var config = Configuration()
        config.prepareDatabase { db in
            // Takes effect only in a file with nothing in it yet, before the pool turns WAL on;
            // a database made with other pages keeps them.
            try db.execute(sql: "PRAGMA page_size = \(Store.pageSize)")
            try db.execute(sql: "PRAGMA synchronous = \(synchronous.rawValue)")
        }
        pool = try DatabasePool(path: path, configuration: config)
        // GRDB's pool turns WAL on after `prepareDatabase` and with it sets its writer to
        // synchronous=NORMAL (synced at checkpoints only: a power cut could lose commits already
        // answered). Set again here, on the one connection that writes.
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = \(synchronous.rawValue)") }
        guard try synchronousInEffect() == synchronous else {
            throw StoreError.notDurable("\(path): SQLite did not take synchronous=\(synchronous.rawValue)")
        }
        try Schema.migrator.migrate(pool)

        try pool.read { db in
            if let row = try Row.fetchOne(db, sql: "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1") {
                lastSeq = row["seq"]
                head = row["hash"]
            }
            lastDelivery = try Int64.fetchOne(db, sql: "SELECT max(delivery) FROM outbox") ?? 0
            if let stored = try Int64.fetchOne(db, sql: "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'last_delivery'") {
                lastDelivery = max(lastDelivery, stored)
            }
        }
        deliveryIDs = try pool.write { db in
            if let key = try Data.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'delivery_key'") {
                let plain = try Int64.fetchOne(db, sql: "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'delivery_key_from'") ?? 0
                return DeliveryIDs(key: Array(key), plainThrough: plain)
            }
            // First start, or a database from before tagged ids: deliveries so far stay plain.
            let key = DeliveryIDs.newKey()
            try db.execute(sql: "INSERT INTO meta (key, value) VALUES ('delivery_key', ?), ('delivery_key_from', ?)",
                           arguments: [Data(key), lastDelivery])
            return DeliveryIDs(key: key, plainThrough: lastDelivery)
        }
    }

    deinit { checkpointer?.stop() }

    /// What the writing connection does at a commit, read back from SQLite (not the setting asked
    /// for): FULL syncs the write-ahead log before a commit returns.
    public func synchronousInEffect() throws -> Synchronous {
        let level = try pool.writeWithoutTransaction { try Int.fetchOne($0, sql: "PRAGMA synchronous") } ?? 0
        // 3 is EXTRA, which syncs each commit as FULL does (and the directory too).
        return switch level { case 0: .off; case 1: .normal; default: .full }
    }

    public func nextDelivery() -> Int64 {
        lastDelivery += 1
        return lastDelivery
    }

    /// Runs a read on the pool (any thread).
    public func read<T>(_ body: (Database) throws -> T) throws -> T {
        try pool.read(body)
    }
}
