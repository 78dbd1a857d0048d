import Foundation
import Testing
import MusterCore
import MusterTesting
@testable import MusterBroker
@testable import MusterStore

/// The writer hands a durable batch's logged facts back only when the broker asked to keep
/// them (someone subscribes); otherwise it lets them go on its own thread and sends back the
/// last seq alone, which is all the broker then needs.
@Suite struct CommitWriterTests {
    static func batch(_ cases: ClosedRange<Int>) -> Batch {
        var b = Batch()
        b.facts = cases.map { Fact(caseID: "C\($0)", at: Date(ms: 1_795_000_000_000 + Int64($0)), actor: "broker", change: .closed) }
        return b
    }

    /// Blocks on the writer's wake-up pipe (no sleep) until the completion of job `id` is in.
    static func completion(_ writer: CommitWriter, _ id: Int64) throws -> CommitWriter.Completion {
        var got: [CommitWriter.Completion] = []
        while !got.contains(where: { $0.id == id }) {
            var fd = pollfd(fd: writer.wakeup.readFD, events: Int16(POLLIN), revents: 0)
            guard poll(&fd, 1, 30_000) == 1 else { throw TestError("no completion of job \(id) within 30 s") }
            got += writer.takeCompleted()
        }
        return got.first { $0.id == id }!
    }

    @Test func factsComeBackOnlyWhenKeptAndTheLastSeqAlways() throws {
        let store = try Store(path: NSTemporaryDirectory() + "commit-writer-\(UUID().uuidString)/m.db")
        let writer = CommitWriter(store: store)
        defer { writer.finish() }
        // On the broker's thread (the low-latency path) and on the writer's own.
        let here = [writer.commitHere(.init(id: 1, epoch: 0, batch: Self.batch(1...2), keepFacts: true)),
                    writer.commitHere(.init(id: 2, epoch: 0, batch: Self.batch(3...5), keepFacts: false))]
        writer.submit(.init(id: 3, epoch: 0, batch: Self.batch(6...6), keepFacts: true))
        let third = try Self.completion(writer, 3)
        writer.submit(.init(id: 4, epoch: 0, batch: Self.batch(7...9), keepFacts: false))
        let fourth = try Self.completion(writer, 4)
        writer.submit(.init(id: 5, epoch: 0, batch: Batch(), keepFacts: true))
        let fifth = try Self.completion(writer, 5)
        let committed = try (here + [third, fourth, fifth]).map { try $0.result.get() }
        #expect(committed.map(\.lastSeq) == [2, 5, 6, 9, nil])
        #expect(committed.map { $0.facts?.map(\.seq) } == [[1, 2], nil, [6], nil, []])
        #expect(committed[0].facts?.map(\.fact.caseID) == ["C1", "C2"])
        #expect(try store.facts(after: 0, limit: 100).map(\.seq) == Array(1...9), "every fact logged, kept or not")
    }
}
