import Foundation
import GRDB
import Logging
import Synchronization
import Testing
@testable import MusterAdapterKit
import MusterTesting
import MusterWire

/// The kit's plugin runner against the real broker: a push is acknowledged only once the
/// downstream has taken (or refused) it; a refusal is a return with its reason; the plugin's acts
/// are durable before they are sent, and a restart of the adapter loses none.
@Suite(.serialized) struct PluginAdapterTests {
    static func tempQueue() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("muster-acts-\(UUID().uuidString)/acts.db").path
    }

    /// A downstream that answers each push from a script, and records what it was offered.
    final class Scripted: DepartmentPlugin, @unchecked Sendable {
        let answers: Mutex<[Delivery]>
        let offered = Mutex<[String]>([])
        let delivered = AsyncStream<Push>.makeStream()
        init(_ answers: [Delivery]) { self.answers = Mutex(answers) }
        func deliver(_ push: Push) async -> Delivery {
            offered.withLock { $0.append(push.delivery) }
            let answer = answers.withLock { $0.isEmpty ? .delivered(externalID: "WO-1") : $0.removeFirst() }
            if case .retryLater = answer {} else { delivered.continuation.yield(push) }
            return answer
        }
    }

    static func options(_ h: BrokerHarness, agency: String = "reli") -> MusterClient.Options {
        var o = MusterClient.Options(endpoint: h.endpoint, adapter: "\(agency)-plugin-1", roles: [.agency], agency: agency)
        o.retryAfter = 0.3
        o.backoffInitial = 0.05
        return o
    }

    static func submit(_ h: BrokerHarness, _ ref: String) throws -> String {
        let intake = try TestPeer(h.endpoint, name: "in-\(ref)")
        _ = try intake.hello(adapter: "hotline-\(ref)", roles: ["intake"])
        return try intake.request(.submit, ["case": BrokerTests.caseBody(ref)]).1["case_id"] as! String
    }

    static func eventually(_ seconds: Double, _ condition: () throws -> Bool) async throws -> Bool {
        try await AdapterKitTests.eventually(seconds, condition)
    }

    @Test func theQueueKeepsActsUntilAnsweredAcrossAReopenAndDropsRepeats() throws {
        let path = Self.tempQueue()
        let q = try ActQueue(path: path)
        #expect(try q.enqueue(.ack(id: "upd-1", dispatchID: "D1", handler: "李")))
        #expect(try q.enqueue(.resolve(id: "upd-2", dispatchID: "D1", result: "已处理")))
        #expect(try !q.enqueue(.ack(id: "upd-1", dispatchID: "D1", handler: "李")), "the same update again is the same act")
        let reopened = try ActQueue(path: path)
        #expect(try reopened.pending().map(\.id) == ["upd-1", "upd-2"])
        let body = try JSONSerialization.jsonObject(with: Data(reopened.pending()[0].body)) as? [String: Any]
        #expect(body?["id"] as? String == "upd-1" && body?["dispatch_id"] as? String == "D1" && body?["handler"] as? String == "李")
        try reopened.answered("upd-1")
        #expect(try ActQueue(path: path).pending().map(\.id) == ["upd-2"])
        #expect(try !ActQueue(path: path).enqueue(.ack(id: "upd-1", dispatchID: "D1")), "answered, it is still a repeat: dropped")
    }

    /// Another connection reading the queue's file holds a shared lock: marking an act answered
    /// waits for it to end instead of failing (it failed at once, and the act stayed waiting
    /// until the adapter's next restart — seen when a check read the file under load).
    @Test func anActIsMarkedAnsweredWhileAnotherConnectionIsReadingTheFile() throws {
        let path = Self.tempQueue()
        let q = try ActQueue(path: path)
        #expect(try q.enqueue(.ack(id: "upd-1", dispatchID: "D1")))
        let reader = try DatabaseQueue(path: path)
        let holding = DispatchSemaphore(value: 0), done = DispatchSemaphore(value: 0)
        Thread {
            try? reader.read { db in
                _ = try Int.fetchOne(db, sql: "SELECT count(*) FROM acts")
                holding.signal()
                Thread.sleep(forTimeInterval: 0.3)  // the shared lock held, as by a slow reader
            }
            done.signal()
        }.start()
        holding.wait()
        try q.answered("upd-1", ActAnswer(command: .ok, body: Array("{}".utf8)))
        done.wait()
        #expect(try q.pending().isEmpty)
        #expect(try q.answer("upd-1")?.command == .ok)
    }

    @Test func aPushIsAcknowledgedOnlyOnceTheDownstreamTookIt() async throws {
        let h = try BrokerHarness(heartbeat: 5, resend: 60)
        defer { h.stop() }
        let plugin = Scripted([.retryLater(after: 0.05), .retryLater(after: 0.05), .delivered(externalID: "SZCG-2026-0001")])
        let adapter = PluginAdapter(Self.options(h), plugin: plugin, queue: try ActQueue(path: Self.tempQueue()), logger: AdapterKitTests.logger())
        adapter.start()
        defer { adapter.stop() }
        _ = try Self.submit(h, "pl-1")
        // ~2 s alone (two retries, then the receipt's row within a second); the whole suite in
        // parallel on two cores ran this suite ten times slower, past a 10 s bound.
        #expect(try await Self.eventually(30) {
            let count = plugin.offered.withLock { $0.count }
            return try count >= 3 && h.store.pendingPushes().isEmpty
        })
        let offered = plugin.offered.withLock { $0 }
        #expect(offered.count == 3 && Set(offered).count == 1, "the same push offered until the downstream took it: \(offered)")
    }

    @Test func aRefusedDispatchIsReturnedWithItsReasonThenAcknowledged() async throws {
        let h = try BrokerHarness(heartbeat: 5, resend: 60)
        defer { h.stop() }
        let plugin = Scripted([.refused(.notOurJurisdiction, note: "不在本公司供热范围")])
        let adapter = PluginAdapter(Self.options(h), plugin: plugin, queue: try ActQueue(path: Self.tempQueue()), logger: AdapterKitTests.logger())
        adapter.start()
        defer { adapter.stop() }
        let caseID = try Self.submit(h, "pl-2")
        #expect(try await Self.eventually(10) {
            try h.store.facts(after: 0, limit: 100, caseID: caseID).contains { $0.type == "dispatch.returned" }
        })
        #expect(try await Self.eventually(10) {
            let acts = try adapter.queue.pending()
            return try acts.isEmpty && h.store.pendingPushes().isEmpty
        })
        let returned = try h.store.facts(after: 0, limit: 100, caseID: caseID).first { $0.type == "dispatch.returned" }
        guard case .returned(_, let reason, let note) = returned?.fact.change else { Issue.record("no return"); return }
        #expect(reason == .notOurJurisdiction && note == "不在本公司供热范围")
    }

    @Test func anActQueuedWhileTheBrokerIsDownSurvivesARestartOfTheAdapter() async throws {
        let h = try BrokerHarness(heartbeat: 5, resend: 60)
        defer { h.stop() }
        let queuePath = Self.tempQueue()
        let plugin = Scripted([])
        let first = PluginAdapter(Self.options(h), plugin: plugin, queue: try ActQueue(path: queuePath), logger: AdapterKitTests.logger())
        first.start()
        let caseID = try Self.submit(h, "pl-3")
        var pushes = plugin.delivered.stream.makeAsyncIterator()
        let push = try #require(await pushes.next())
        let dispatchID = try #require(push.dispatchID)
        h.stopOnly()  // the broker is down: the act cannot be answered
        try await first.send(.ack(id: "szcg-status-881", dispatchID: dispatchID, handler: "王队长"))
        first.stop()   // and the adapter goes before it could be
        #expect(try ActQueue(path: queuePath).pending().map(\.id) == ["szcg-status-881"], "durable before it was sent")
        try h.startAgain()
        let second = PluginAdapter(Self.options(h), plugin: Scripted([]), queue: try ActQueue(path: queuePath), logger: AdapterKitTests.logger())
        second.start()
        defer { second.stop() }
        #expect(try await Self.eventually(10) { try second.queue.pending().isEmpty })
        let acked = try h.store.facts(after: 0, limit: 100, caseID: caseID).filter { $0.type == "dispatch.acked" }
        #expect(acked.count == 1, "the act queued before the restart, applied once")
    }

    /// A downstream whose health the test sets.
    final class Ailing: DepartmentPlugin, @unchecked Sendable {
        let state = Mutex<Health>(.ok)
        func deliver(_ push: Push) async -> Delivery { .retryLater(after: nil) }
        func health() async -> Health { state.withLock { $0 } }
    }

    @Test func aDeadDownstreamIsANoticeToTheCentreAndItsReturnToo() async throws {
        let h = try BrokerHarness(heartbeat: 5, resend: 60)
        defer { h.stop() }
        let centre = try TestPeer(h.endpoint, name: "centre")
        _ = try centre.hello(adapter: "ops-1", roles: ["ops"])
        let plugin = Ailing()
        let adapter = PluginAdapter(Self.options(h), plugin: plugin, queue: try ActQueue(path: Self.tempQueue()), logger: AdapterKitTests.logger())
        adapter.start()
        defer { adapter.stop() }
        plugin.state.withLock { $0 = .down("HTTP 503", failures: 5) }
        let down = try #require(try centre.push(.notice, timeout: 10))
        #expect(down["kind"] as? String == "downstream_down" && down["agency"] as? String == "reli")
        #expect(down["adapter"] as? String == "reli-plugin-1" && down["detail"] as? String == "HTTP 503" && down["failures"] as? Int == 5)
        try centre.received([down["delivery"] as! String])
        plugin.state.withLock { $0 = .ok }
        let back = try #require(try centre.push(.notice, timeout: 10))
        #expect(back["kind"] as? String == "downstream_restored")
        let logged = try h.store.facts(after: 0, limit: 100).filter { $0.type == "adapter.health" }
        #expect(logged.count == 2, "each change logged once, however often it was read")
    }

    /// A plugin that follows events but forgot `.event` in `handles` (its doc asks for both).
    final class Deaf: DepartmentPlugin, @unchecked Sendable {
        let offered = Mutex<[Command]>([])
        var handles: Set<Command> { [.dispatch] }
        var events: [String]? { ["case.accepted", "case.dispatched"] }
        func deliver(_ push: Push) async -> Delivery {
            offered.withLock { $0.append(push.command) }
            return .delivered(externalID: nil)
        }
    }

    /// Events are taken in turn (`EventTurns`): one the plugin does not take must still end its
    /// turn, or every later event would wait behind it for ever and the cursor never move.
    @Test func eventsThePluginDoesNotTakeEndTheirTurnAndMoveTheCursor() async throws {
        let h = try BrokerHarness(heartbeat: 5, resend: 60)
        defer { h.stop() }
        let plugin = Deaf(), queue = try ActQueue(path: Self.tempQueue())
        let adapter = PluginAdapter(Self.options(h), plugin: plugin, queue: queue, logger: AdapterKitTests.logger())
        adapter.start()
        defer { adapter.stop() }
        #expect(try await Self.eventually(10) { try queue.cursor(PluginAdapter.eventsFeed) != nil }, "subscribed: the head kept")
        let head = Int64(try queue.cursor(PluginAdapter.eventsFeed)!)!
        for n in 1...3 { _ = try Self.submit(h, "deaf-\(n)") }
        // Three cases accepted and dispatched: six events past the head, none of them taken.
        #expect(try await Self.eventually(10) { (Int64(try queue.cursor(PluginAdapter.eventsFeed) ?? "") ?? 0) >= head + 6 })
        #expect(try await Self.eventually(10) { plugin.offered.withLock { $0.count } == 3 }, "the dispatches still reach it")
        #expect(plugin.offered.withLock { $0 } == [.dispatch, .dispatch, .dispatch])
    }

    @Test func theDownstreamsOwnIdIsRememberedForItsUpdates() async throws {
        let h = try BrokerHarness(heartbeat: 5, resend: 60)
        defer { h.stop() }
        let plugin = Scripted([.delivered(externalID: "RL-WO-42")])
        let adapter = PluginAdapter(Self.options(h), plugin: plugin, queue: try ActQueue(path: Self.tempQueue()), logger: AdapterKitTests.logger())
        adapter.start()
        defer { adapter.stop() }
        _ = try Self.submit(h, "pl-4")
        var pushes = plugin.delivered.stream.makeAsyncIterator()
        let dispatchID = try #require(await pushes.next()?.dispatchID)
        #expect(try await Self.eventually(10) { try adapter.queue.subject(ofRef: "RL-WO-42") == dispatchID })
        #expect(try await adapter.ref(ofSubject: dispatchID) == "RL-WO-42")
        // A batch and its cursor go together; repeats are dropped.
        let acts: [Act] = [.ack(id: "u-1", dispatchID: dispatchID), .progress(id: "u-2", dispatchID: dispatchID, note: "到场")]
        #expect(try await adapter.send(acts, cursor: ("feed", "c-2")) == 2)
        #expect(try await adapter.send(acts, cursor: ("feed", "c-3")) == 0)
        #expect(try await adapter.cursor("feed") == "c-3")
    }
}
