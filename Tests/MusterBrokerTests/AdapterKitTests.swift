import Foundation
import Logging
import MusterTesting
import ServiceLifecycle
import Synchronization
import Testing
@testable import MusterAdapterKit
import MusterWire

/// The SDK against the real broker: requests survive a broker restart (re-HELLO, same id),
/// and a department's handler sees each dispatch once and can take it round the loop.
@Suite(.serialized) struct AdapterKitTests {
    static func logger() -> Logger {
        var l = Logger(label: "test.kit")
        l.logLevel = .critical
        return l
    }

    static func submit(_ client: MusterClient, ref: String, id: String? = nil) async -> MusterClient.Reply {
        let body = BrokerTests.caseBody(ref)
        let data = try! JSONSerialization.data(withJSONObject: body)
        return await client.request(.submit, id: id) { $0.raw("case", Array(data)) }
    }

    @Test func aRequestIsAnsweredAcrossABrokerRestartWithTheSameID() async throws {
        let h = try BrokerHarness()
        defer { h.stop() }
        var o = MusterClient.Options(endpoint: h.endpoint, adapter: "kit-hotline", roles: [.intake])
        o.retryAfter = 0.3
        let client = MusterClient(o, logger: Self.logger()) { _, _ in }
        client.start()
        defer { client.stop() }
        let first = await Self.submit(client, ref: "kit-1", id: "kit-req-1")
        #expect(first.command == .accepted)
        try h.restart()
        // The new broker does not know this session: the kit says HELLO again and resends.
        let again = await Self.submit(client, ref: "kit-1", id: "kit-req-1")
        #expect(again.body == first.body, "same id, same stored reply")
        let second = await Self.submit(client, ref: "kit-2")
        #expect(second.command == .accepted)
        #expect(try h.store.cases(.init()).count == 2)
    }

    /// Counts what the handler saw, and finishes every dispatch.
    final class Counting: AgencyHandler, @unchecked Sendable {
        let seen = Mutex<[String]>([])
        let finished = AsyncStream<String>.makeStream()
        func received(_ d: DispatchMessage, desk: AgencyDesk) async {
            seen.withLock { $0.append(d.dispatchID) }
            let ack = await desk.ack(d.dispatchID, handler: "李师傅")
            guard ack.command == .ok else { return }
            let done = await desk.resolve(d.dispatchID, result: "已处理")
            if done.command == .ok { finished.continuation.yield(d.case.caseID) }
        }
    }

    @Test func aDepartmentHandlerTakesEachDispatchOnceRoundTheLoop() async throws {
        let h = try BrokerHarness(heartbeat: 5, resend: 0.2)
        defer { h.stop() }
        let handler = Counting()
        let adapter = AgencyAdapter(MusterClient.Options(endpoint: h.endpoint, adapter: "kit-reli", roles: [.agency], agency: "reli"),
                                    handler: handler, logger: Self.logger())
        adapter.start()
        defer { adapter.stop() }
        let intake = MusterClient(MusterClient.Options(endpoint: h.endpoint, adapter: "kit-in", roles: [.intake]), logger: Self.logger()) { _, _ in }
        intake.start()
        defer { intake.stop() }
        var cases: Set<String> = []
        for i in 0..<5 {
            let r = await Self.submit(intake, ref: "kit-loop-\(i)")
            cases.insert(r.json()["case_id"] as! String)
        }
        var finished: Set<String> = []
        for await c in handler.finished.stream {
            finished.insert(c)
            if finished.count == 5 { break }
        }
        #expect(finished == cases)
        #expect(handler.seen.withLock { $0.count } == 5, "each dispatch handled once")
        #expect(try h.store.cases(.init(state: "finished")).count == 5)
    }

    /// An adapter run as a swift-service-lifecycle service: a graceful shutdown says BYE, so the
    /// broker forgets its session at once and sends the agency's work to the instance still there
    /// (without it, the dead session would hold dispatches until its heartbeats ran out).
    @Test func aGracefulShutdownSaysByeAndTheSiblingGetsTheWork() async throws {
        let h = try BrokerHarness(heartbeat: 60, resend: 60)
        defer { h.stop() }
        let leaving = AgencyAdapter(MusterClient.Options(endpoint: h.endpoint, adapter: "kit-reli-a", roles: [.agency], agency: "reli"),
                                    handler: Counting(), logger: Self.logger())
        let group = ServiceGroup(configuration: .init(services: [leaving.service], logger: Self.logger()))
        let running = Task { try await group.run() }
        #expect(try await Self.eventually(10) { leaving.client.isWelcomed })
        await group.triggerGracefulShutdown()
        try await running.value
        let staying = try TestPeer(h.endpoint, name: "reli-b")
        _ = try staying.hello(adapter: "kit-reli-b", roles: ["agency"], agency: "reli")
        let intake = try TestPeer(h.endpoint, name: "in-gs")
        _ = try intake.hello(adapter: "hotline-gs", roles: ["intake"])
        for i in 0..<4 { _ = try intake.request(.submit, ["case": BrokerTests.caseBody("gs-\(i)")]) }
        var got = 0
        while got < 4, let d = try staying.push(.dispatch, timeout: 2) {
            got += 1
            try staying.received([d["delivery"] as! String])
        }
        #expect(got == 4, "every dispatch to the instance still connected")
    }

    /// Polls `condition` until it holds or `seconds` pass (a bound on a broken test, not a wait).
    static func eventually(_ seconds: Double, _ condition: () throws -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        return try condition()
    }

    @Test func aSimulatedDepartmentSummonedReportsOnItsWayThenOnSiteAndTheSilentOneNever() async throws {
        let h = try BrokerHarness(heartbeat: 5, resend: 60)
        defer { h.stop() }
        let coming = AgencyAdapter(MusterClient.Options(endpoint: h.endpoint, adapter: "kit-cg", roles: [.agency], agency: "chengguan"),
                                   handler: SimulatedAgency(signAfter: 0, finishAfter: 0, returnProbability: 0, handlerName: "城管值班员", reportAfter: 0.05),
                                   logger: Self.logger())
        let silent = AgencyAdapter(MusterClient.Options(endpoint: h.endpoint, adapter: "kit-sc", roles: [.agency], agency: "shichang"),
                                   handler: SimulatedAgency(signAfter: 0, finishAfter: 0, returnProbability: 0, handlerName: "市场监管值班员", reportAfter: nil),
                                   logger: Self.logger())
        coming.start(); silent.start()
        defer { coming.stop(); silent.stop() }
        let street = MusterClient(MusterClient.Options(endpoint: h.endpoint, adapter: "kit-street", roles: [.grid]), logger: Self.logger()) { _, _ in }
        street.start()
        defer { street.stop() }
        let r = await street.request(.whistle) { w in
            w.field("grid", "zz/erqi/dehuajie"); w.field("reason", "商圈秩序"); w.field("kind", "enforcement"); w.field("summon", ["chengguan", "shichang"])
        }
        let w = try #require(r.json()["whistle_id"] as? String)
        #expect(try await Self.eventually(10) { try h.store.whistles([w]).first?.summon(of: "chengguan")?.state == .onSite })
        let cg = try #require(try h.store.whistles([w]).first?.summon(of: "chengguan"))
        #expect(cg.enRouteAt != nil && cg.onSiteAt != nil && cg.enRouteAt! <= cg.onSiteAt!, "on its way first, then on site")
        // The silent one took its SUMMON (nothing left unreceived) and never reported.
        #expect(try await Self.eventually(10) { try h.store.pendingPushes().isEmpty })
        #expect(try h.store.whistles([w]).first?.summon(of: "shichang")?.state == .summoned)
    }

    /// Fails the first two hand-offs; the third waits for the test to open the gate, then takes
    /// the dispatch. Says when it is asked.
    final class Flaky: AgencyHandler, @unchecked Sendable {
        let attempts = Mutex<Int>(0)
        let calls = AsyncStream<Int>.makeStream()
        let gate = AsyncStream<Void>.makeStream()
        struct Down: Error {}
        func received(_ d: DispatchMessage, desk: AgencyDesk) async throws {
            let n = attempts.withLock { $0 += 1; return $0 }
            calls.continuation.yield(n)
            if n <= 2 { throw Down() }
            for await _ in gate.stream { break }
        }
    }

    @Test func aHandlerThatThrowsIsRetriedAndItsPushStaysUnreceivedUntilItReturns() async throws {
        let h = try BrokerHarness(heartbeat: 5, resend: 60)
        defer { h.stop() }
        let handler = Flaky()
        var o = MusterClient.Options(endpoint: h.endpoint, adapter: "kit-flaky", roles: [.agency], agency: "reli")
        o.backoffInitial = 0.05
        let adapter = AgencyAdapter(o, handler: handler, logger: Self.logger())
        adapter.start()
        defer { adapter.stop() }
        let intake = MusterClient(MusterClient.Options(endpoint: h.endpoint, adapter: "kit-in-flaky", roles: [.intake]), logger: Self.logger()) { _, _ in }
        intake.start()
        defer { intake.stop() }
        #expect(await Self.submit(intake, ref: "kit-flaky-1").command == .accepted)
        /// A SUBMIT for 城管 (nobody connected): its ACCEPTED means every batch before it is durable.
        func barrier(_ ref: String) async -> Bool {
            let data = try! JSONSerialization.data(withJSONObject: BrokerTests.caseBody(ref, category: "street_vending", address: ref))
            return await intake.request(.submit) { $0.raw("case", Array(data)) }.command == .accepted
        }
        func waitingForReli() throws -> Int { try h.store.pendingPushes().filter { $0.target == "agency:reli" }.count }
        var iterator = handler.calls.stream.makeAsyncIterator()
        #expect(await iterator.next() == 1)
        #expect(await iterator.next() == 2)
        #expect(await iterator.next() == 3)
        // Two failed hand-offs and one still running: no RECEIVED was sent, the DISPATCH is still
        // in the outbox.
        #expect(await barrier("kit-flaky-b0"))
        #expect(try waitingForReli() == 1)
        handler.gate.continuation.yield()
        // The third hand-off succeeded: RECEIVED follows, and deletes it.
        var i = 0
        while try waitingForReli() > 0, i < 500 {
            i += 1
            #expect(await barrier("kit-flaky-b\(i)"))
        }
        #expect(try waitingForReli() == 0)
        #expect(handler.attempts.withLock { $0 } == 3, "no further hand-off after success")
    }

    @Test func recentDeliveriesAreRememberedUpToCapacity() {
        var set = RecentSet(capacity: 3)
        let inserted = ["1", "2", "3", "2", "4", "1", "4"].map { set.insert($0) }
        // "2" is a repeat; "4" makes room by forgetting "1"; then "1" is new again.
        #expect(inserted == [true, true, true, false, true, true, false])
    }

    @Test func backOffDoublesWithJitterUpToTheMaximum() {
        var b = Backoff(initial: 0.1, maximum: 2)
        let delays = (0..<10).map { _ in b.next() }
        #expect(delays[0] >= 0.05 && delays[0] <= 0.15)
        #expect(delays[3] >= 0.4 && delays[3] <= 1.2)
        #expect(delays.allSatisfy { $0 <= 3 })
        b.reset()
        #expect(b.next() <= 0.15)
    }
}
