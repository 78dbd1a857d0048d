import Foundation
import GRDB
import Testing
@testable import MusterStore

/// The broker's look-ups run on a connection of their own, in one read transaction each: each
/// sees every commit before it, and one that fails leaves no transaction (and no old snapshot)
/// behind.
struct LookUpConnectionTests {
    /// On either connection: the writer's (the writer idle) or the look-up connection.
    @Test(arguments: [true, false])
    func eachLookUpSeesTheCommitsBeforeIt(writerIdle: Bool) throws {
        let store = try Store(path: StoreFixtures.tempDB())
        let keys = (1...3).map { RequestKey(adapter: "hotline-1", requestID: "r\($0)") }
        for (i, key) in keys.enumerated() {
            var batch = Batch()
            batch.replies = [Batch.StoredReply(adapter: key.adapter, requestID: key.requestID, command: .ok,
                                               body: Array(#"{"re":"\#(key.requestID)"}"#.utf8), at: Date(ms: 1_795_000_000_000))]
            try store.commit(batch)
            let found = try store.lookUp(replies: keys, cases: .init(), writerIdle: writerIdle)
            #expect(Set(found.replies.keys) == Set(keys[...i]))
            #expect(found.replies[key]?.body == Array(#"{"re":"\#(key.requestID)"}"#.utf8))
        }
    }

    @Test func aLookUpThatFailsLeavesNoTransactionOpen() throws {
        struct Refused: Error {}
        let queue = try DatabaseQueue()
        try queue.inDatabase { db throws in
            #expect(throws: Refused.self) { try Store.inReadTransaction(db, PreparedStatements()) { throw Refused() } }
            #expect(!db.isInsideTransaction)
            #expect(try Store.inReadTransaction(db, nil) { db.isInsideTransaction })
            #expect(!db.isInsideTransaction)
        }
    }
}
