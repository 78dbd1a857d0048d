import Foundation
import GRDB
import Synchronization

/// Copies the WAL back into the database every second from a connection of its own, so that
/// the broker's commits never pay for a checkpoint. PASSIVE: it never waits for the writer or
/// readers; what it cannot copy now it copies next time. Stops when its store goes away.
final class Checkpointer: Sendable {
    final class Flag: Sendable { let stop = Atomic<Bool>(false) }
    private let flag = Flag()

    init?(path: String) {
        guard let queue = try? DatabaseQueue(path: path) else { return nil }
        let flag = self.flag
        let thread = Thread {
            while !flag.stop.load(ordering: .relaxed) {
                Thread.sleep(forTimeInterval: 1)  // a period, not a synchronisation
                _ = try? queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(PASSIVE)") }
            }
        }
        thread.name = "muster-checkpoint"
        thread.start()
    }

    deinit { flag.stop.store(true, ordering: .relaxed) }
}
