import Foundation
import GRDB
import GRDBSQLite
import Synchronization

extension Store {
    /// Moves the bulk of the write-ahead log's checkpoints off the committing thread. SQLite's
    /// automatic checkpoint runs inside the commit that takes the log past 1,000 pages: that
    /// commit then copies some 8 MB (4 MB in a database of 4 KB pages) into the database file
    /// and fsyncs it, and every reply waiting on it waits too (the tail of the latency at a
    /// steady rate). Here a commit past the mark asks a thread of its own, on a connection of
    /// its own, for a PASSIVE checkpoint, which never blocks a writer or a reader. That copy
    /// never quite catches up while commits go on, and the log starts over only once all of it
    /// is copied; so when the thread is within `tail` pages of the end, the writer connection
    /// copies those last few itself. Not inside the commit that finds them due (that copy and
    /// its two fsyncs took the best part of a millisecond, while its replies waited): the broker
    /// calls `finishCheckpoint` once they are out and nothing is in flight, and otherwise the
    /// next commit does it first (under load, its replies wait instead). Call once, before the
    /// first commit.
    public func checkpointInBackground(afterPages pages: Int32 = 1_000, tail: Int32 = 64) throws {
        guard checkpointer == nil else { return }
        var config = Configuration()
        let sync = synchronous.rawValue
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = \(sync)") }
        let own = try DatabaseQueue(path: path, configuration: config)
        let c = WALCheckpointer(connection: own, afterPages: pages, tail: tail)
        checkpointer = c
        try pool.writeWithoutTransaction { db in
            // Replaces SQLite's automatic checkpoint, which is itself a WAL hook.
            sqlite3_wal_hook(db.sqliteConnection, { context, _, _, pages in
                let c = Unmanaged<WALCheckpointer>.fromOpaque(context!).takeUnretainedValue()
                if c.commitShouldFinish(logPages: pages) { c.finishDue.store(true, ordering: .releasing) }
                return SQLITE_OK
            }, Unmanaged.passUnretained(c).toOpaque())
        }
    }

    /// Copies the log's last pages if a commit left them due (`checkpointInBackground`); true
    /// if it did. On the writer connection, so it waits for a commit under way: the broker calls
    /// it with nothing in flight.
    @discardableResult
    public func finishCheckpoint() -> Bool {
        guard let c = checkpointer, c.finishDue.load(ordering: .acquiring) else { return false }
        return (try? pool.writeWithoutTransaction { db in finishCheckpoint(db) }) ?? false
    }

    /// On the writer connection, in its turn: another thread may have finished it meanwhile.
    func finishCheckpoint(_ db: Database) -> Bool {
        guard let c = checkpointer, c.finishDue.load(ordering: .relaxed),
              c.finishDue.exchange(false, ordering: .acquiringAndReleasing) else { return false }
        // PASSIVE, as the thread's: it copies what no reader still needs (a reader holding the
        // log's end leaves the rest for a later commit to find due). Busy — the thread is
        // checkpointing — or failing, it is due again: the next turn or commit tries once more.
        guard sqlite3_wal_checkpoint_v2(db.sqliteConnection, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil) == SQLITE_OK else {
            c.finishDue.store(true, ordering: .releasing)
            return false
        }
        return true
    }

    /// Waits until the background thread has finished a checkpoint asked for since the last
    /// such wait; false after `timeout` seconds (tests).
    public func awaitBackgroundCheckpoint(timeout: Double) -> Bool {
        checkpointer?.finished.wait(timeout: .now() + timeout) == .success
    }
}

/// The thread that checkpoints the log when the writer's commits say it has grown.
final class WALCheckpointer: @unchecked Sendable {
    private let connection: DatabaseQueue
    private let afterPages: Int32
    private let tail: Int32
    /// The log's pages the thread's last checkpoint had copied (0 once the log starts over).
    private let copied = Atomic<Int32>(0)
    /// The log's size at the last commit: smaller now means it started over (the writer
    /// connection's hook only).
    private var lastPages: Int32 = 0
    /// A commit left the log's last pages for the writer connection to copy (`finishCheckpoint`).
    let finishDue = Atomic<Bool>(false)
    private let due = DispatchSemaphore(value: 0)
    private let asked = Atomic<Bool>(false)
    private let stopping = Atomic<Bool>(false)
    /// Signalled after each checkpoint.
    let finished = DispatchSemaphore(value: 0)

    init(connection: DatabaseQueue, afterPages: Int32, tail: Int32) {
        self.connection = connection
        self.afterPages = afterPages
        self.tail = tail
        let t = Thread { [self] in run() }
        t.name = "muster-checkpt"
        t.start()
    }

    /// Called by each commit (SQLite's WAL hook) with the log's size in pages: true when the
    /// writer connection should copy the last few pages itself (`finishCheckpoint`); past the
    /// mark, asks the thread otherwise.
    func commitShouldFinish(logPages pages: Int32) -> Bool {
        if pages < lastPages { copied.store(0, ordering: .relaxed) }
        lastPages = pages
        switch Self.next(logPages: pages, copied: copied.load(ordering: .acquiring), afterPages: afterPages, tail: tail) {
        case .finish: return true
        case .ask: if !asked.exchange(true, ordering: .acquiringAndReleasing) { due.signal() }
        case .wait: break
        }
        return false
    }

    enum Step: Equatable { case wait, ask, finish }

    /// What a commit does about the log: past the mark, it leaves the rest due for the writer
    /// connection to copy (`finish`) when the thread has copied all but `tail` pages for each
    /// mark the log holds; it asks the thread when half a mark's worth is not yet copied (so that
    /// each of the thread's checkpoints, and its fsync, copies that much); in between it waits.
    /// The tail grows with the log because what the thread leaves is what commits added while it
    /// copied: when that is more than `tail`, the log grows until the rest is taken. A copied
    /// count larger than the log is from before the log started over: nothing of this one is
    /// copied.
    static func next(logPages pages: Int32, copied: Int32, afterPages: Int32, tail: Int32) -> Step {
        guard pages >= afterPages else { return .wait }
        let uncopied = copied <= pages ? pages - copied : pages
        if uncopied <= tail * (pages / afterPages) { return .finish }
        return uncopied >= afterPages / 2 ? .ask : .wait
    }

    func stop() {
        stopping.store(true, ordering: .releasing)
        due.signal()
    }

    private func run() {
        nameThisThread("muster-checkpt")
        while true {
            due.wait()
            if stopping.load(ordering: .acquiring) { return }
            asked.store(false, ordering: .releasing)
            // PASSIVE: copies what no reader still needs and gives way to everyone; if it could not
            // copy all, the next commit past the mark asks again.
            if let r = try? connection.writeWithoutTransaction({ db in try db.checkpoint(.passive) }) {
                copied.store(Int32(clamping: r.checkpointedFrameCount), ordering: .releasing)
            }
            finished.signal()
        }
    }
}
