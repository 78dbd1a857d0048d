import Foundation
import Testing
import MusterCore
@testable import MusterStore

/// A push's body may be made when its batch is committed (`Batch.bodiesToMake`): the broker's
/// writer makes DISPATCH bodies off the deciding thread. Each is made in its own push's place,
/// once, and a batch committed straight to the store has its bodies made there: never an empty
/// body stored for a push that has one to make.
@Suite struct BodiesMadeAtCommitTests {
    static func push(_ delivery: Int64, _ body: String) -> Batch.Push {
        Batch.Push(delivery: delivery, target: "agency:reli", command: "DISPATCH", body: Array(body.utf8), dispatchID: "D\(delivery)",
                   createdAt: Date(ms: 1))
    }

    @Test func eachBodyIsMadeInItsOwnPushsPlaceOnce() {
        var batch = Batch()
        let made = Counter()
        batch.bodiesToMake.append((0, { made.add(); return Array("first".utf8) }))
        batch.pushes.append(Self.push(1, ""))
        batch.pushes.append(Self.push(2, "kept as it was"))
        batch.bodiesToMake.append((2, { made.add(); return Array("third".utf8) }))
        batch.pushes.append(Self.push(3, ""))
        batch.makeBodies()
        batch.makeBodies()
        #expect(batch.pushes.map { String(decoding: $0.body, as: UTF8.self) } == ["first", "kept as it was", "third"])
        #expect(batch.bodiesToMake.isEmpty)
        #expect(made.value == 2, "each made once")
    }

    @Test func aBatchCommittedStraightToTheStoreHasItsBodiesMadeThere() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bodies-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try Store(path: dir.appendingPathComponent("m.db").path)
        var batch = Batch()
        batch.bodiesToMake.append((0, { Array(#"{"made":"at the commit"}"#.utf8) }))
        batch.pushes.append(Self.push(1, ""))
        batch.pushes.append(Self.push(2, "{}"))
        batch.lastDelivery = 2
        try store.commit(batch)
        #expect(try store.pendingPushes().map { String(decoding: $0.body, as: UTF8.self) } == [#"{"made":"at the commit"}"#, "{}"])
    }
}

/// Counts calls from a `@Sendable` closure.
private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func add() { lock.lock(); n += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return n }
}
