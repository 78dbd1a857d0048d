import Foundation
import GRDB
import Testing
@testable import MusterCore
@testable import MusterStore

/// The write-ahead log checkpointed by a thread of its own (`Store.checkpointInBackground`):
/// no commit copies the log into the database, and what the thread copied is whole.
struct BackgroundCheckpointTests {
    /// Frames in the log, and frames copied into the database by a PASSIVE checkpoint that
    /// another connection runs now.
    static func log(_ path: String) throws -> (frames: Int, copied: Int) {
        let r = try DatabaseQueue(path: path).writeWithoutTransaction { try $0.checkpoint(.passive) }
        return (r.walFrameCount, r.checkpointedFrameCount)
    }

    static func fill(_ store: Store, cases: Int) throws -> Ledger {
        var h = try Harness(store)
        for n in 1...cases { try h.fullCase(n) }
        return h.ledger
    }

    /// With the thread's mark out of reach the log grows past SQLite's own 1,000 pages: the
    /// automatic checkpoint, which would have run inside a commit and restarted the log, is gone.
    @Test func noCommitCheckpointsTheLog() throws {
        let store = try Store(path: StoreFixtures.tempDB(), synchronous: .off)
        try store.checkpointInBackground(afterPages: 1_000_000)
        _ = try Self.fill(store, cases: 300)
        let log = try Self.log(store.path)
        #expect(log.frames > 1_000, "the log holds every commit since the start: \(log.frames) frames")
        #expect(log.copied == log.frames)
        #expect(!store.awaitBackgroundCheckpoint(timeout: 0.05), "nothing asked the thread")
    }

    /// Past its mark, a commit asks the thread, which copies the log; the database then reads
    /// back as the ledger that wrote it, after a reopen too.
    @Test func theThreadCheckpointsOnceTheLogPassesItsMark() throws {
        let path = StoreFixtures.tempDB()
        var store: Store? = try Store(path: path, synchronous: .off)
        try store!.checkpointInBackground(afterPages: 64, tail: 8)
        let written = try Self.fill(store!, cases: 60)
        #expect(store!.awaitBackgroundCheckpoint(timeout: 10), "a commit past 64 pages asked the thread, and it ran")
        store = nil
        let reopened = try Store(path: path)
        #expect(try reopened.loadLedger().cases == written.cases)
    }

    /// Commits that never pause still let the log start over: the thread copies the bulk, a
    /// commit the last few pages, so the file stays near the mark instead of holding every
    /// commit since the start (some 1,500 commits of several pages each here).
    @Test func theLogStartsOverWhileCommitsGoOn() throws {
        let store = try Store(path: StoreFixtures.tempDB(), synchronous: .off)
        try store.checkpointInBackground(afterPages: 64, tail: 32)
        _ = try Self.fill(store, cases: 300)
        let wal = try FileManager.default.attributesOfItem(atPath: store.path + "-wal")[.size] as? Int ?? 0
        let written = try Self.log(store.path).frames
        #expect(wal < 2_000_000, "the log file grew to \(wal) bytes")
        #expect(written < 500, "\(written) frames since the last start")
    }

    /// The log's frames and those copied into the database, as the WAL index holds them
    /// (sqlite.org/walformat.html: `mxFrame` at byte 16 of its header, `nBackfill` at byte 96),
    /// read without checkpointing.
    static func walIndex(_ path: String) throws -> (frames: UInt32, copied: UInt32) {
        let shm = try Data(contentsOf: URL(fileURLWithPath: path + "-shm"))
        func word(_ at: Int) -> UInt32 { shm.subdata(in: at..<at + 4).withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) } }
        return (word(16), word(96))
    }

    static func submit(_ h: inout Harness, _ n: Int) throws {
        _ = try h.run(.submit(StoreFixtures.make(["id": "s\(n)", "case": StoreFixtures.submitJSON(n)])), by: Actor(adapter: "hotline", roles: [.intake]))
    }

    /// A store whose every commit past 64 pages leaves the log's last pages due, filled by
    /// single SUBMITs until one has; the harness and the SUBMITs made.
    static func untilTheLastPagesAreDue() throws -> (Store, Harness, Int) {
        let store = try Store(path: StoreFixtures.tempDB(), synchronous: .off)
        try store.checkpointInBackground(afterPages: 64, tail: 1_000_000)
        var h = try Harness(store)
        var n = 0
        while !store.checkpointer!.finishDue.load(ordering: .acquiring) && n < 1_000 {
            n += 1
            try submit(&h, n)
        }
        return (store, h, n)
    }

    /// Past the mark, the commit that finds the log's last pages due leaves them: its replies
    /// do not wait on their copy and two fsyncs. `finishCheckpoint` copies them, once, and the
    /// commit after it starts the log over.
    @Test func theLastPagesAreCopiedAfterTheCommitNotInIt() throws {
        let (store, filled, n) = try Self.untilTheLastPagesAreDue()
        var h = filled
        let due = try Self.walIndex(store.path)
        #expect(due.frames >= 64)
        #expect(due.copied < due.frames, "the commit copied nothing itself: \(due)")
        #expect(store.finishCheckpoint())
        let finished = try Self.walIndex(store.path)
        #expect(finished.frames == due.frames && finished.copied == finished.frames, "\(finished)")
        #expect(!store.finishCheckpoint(), "nothing is left due")
        try Self.submit(&h, n + 1)
        #expect(try Self.walIndex(store.path).frames < 64, "the next commit started the log over")
    }

    /// Left due with nobody to call for it, the copy is the next commit's first step: the log
    /// never grows for want of it.
    @Test func aCommitFirstCopiesWhatTheOneBeforeLeft() throws {
        let (store, filled, n) = try Self.untilTheLastPagesAreDue()
        var h = filled
        let due = try Self.walIndex(store.path)
        #expect(due.copied < due.frames)
        try Self.submit(&h, n + 1)
        let stillDue = store.checkpointer!.finishDue.load(ordering: .acquiring)
        #expect(!stillDue)
        #expect(try Self.walIndex(store.path).frames < 64, "copied first, then started over")
    }

    /// Past the mark a commit leaves the rest due for the writer connection to copy only when the
    /// thread is within `tail` pages for each mark of the log's end, asks the thread only when half
    /// a mark is uncopied, and otherwise leaves the log be; a copied count from before the log
    /// started over never counts.
    @Test func aCommitFinishesOnlyTheLastFewPages() {
        let table: [(pages: Int32, copied: Int32, step: WALCheckpointer.Step)] = [
            (999, 0, .wait),        // below the mark
            (1_000, 0, .ask),       // the thread has not run: asked, the commit goes on
            (1_000, 500, .ask),     // half uncopied: asked again
            (1_000, 700, .wait),    // 300 uncopied: neither worth the thread's fsync nor the commit's time
            (1_000, 936, .finish),  // 64 left: due to be copied, and the log can start over
            (1_000, 1_000, .finish),
            (1_000, 1_100, .ask),   // the count is from the log before this one
            (2_000, 1_850, .wait),  // 150 left of a log of two marks: more than 2 × 64
            (4_000, 3_800, .finish),  // the thread keeps leaving ~200: by four marks they are taken
            (4_000, 3_500, .ask),
        ]
        for row in table {
            #expect(WALCheckpointer.next(logPages: row.pages, copied: row.copied, afterPages: 1_000, tail: 64) == row.step, "\(row)")
        }
    }
}
