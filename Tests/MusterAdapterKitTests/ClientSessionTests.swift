import Foundation
import Testing
@testable import MusterAdapterKit
import MusterWire

/// The kit's MUSTER/1 session without sockets: events in, actions out, time a number.
@Suite struct ClientSessionTests {
    typealias Action = ClientSession.Action

    static func options() -> MusterClient.Options {
        var o = MusterClient.Options(endpoint: "tcp://127.0.0.1:1", adapter: "reli-erqi-1", roles: [.agency], agency: "reli",
                                     jurisdictions: ["zz/erqi"], window: 50)
        o.retryAfter = 5
        o.backoffInitial = 1
        o.backoffMax = 100
        return o
    }

    /// One message from the broker, its body written field by field.
    static func message(_ command: Command, _ fill: (inout JSONWriter) -> Void = { _ in }) -> [[UInt8]] {
        var w = JSONWriter()
        fill(&w)
        return Envelope(command, body: w.finish()).frames
    }

    static func welcome(re: String, heartbeatMs: Int) -> [[UInt8]] {
        message(.welcome) {
            $0.field("re", re)
            $0.field("session", "S1-1")
            $0.field("heartbeat_ms", heartbeatMs)
            $0.object("broker") { $0.field("name", "muster-test"); $0.field("version", "0.1.0") }
            $0.field("pending", 0)
        }
    }

    static func reply(_ command: Command, re: String) -> [[UInt8]] {
        message(command) { $0.field("re", re) }
    }

    static func error(re: String?, _ code: ErrorCode) -> [[UInt8]] {
        message(.error) { $0.field("re", re); $0.field("code", code.rawValue); $0.field("message", "refused") }
    }

    static func dispatch(_ delivery: String) -> [[UInt8]] {
        message(.dispatch) { $0.field("delivery", delivery); $0.field("dispatch_id", "D1") }
    }

    /// A session that said HELLO and was welcomed at `now`.
    static func welcomed(heartbeatMs: Int = 60_000, at now: Double = 0) -> ClientSession {
        var s = ClientSession(options: options(), idPrefix: "t")
        _ = s.handle(.connected(now: now))
        _ = s.handle(.received(welcome(re: s.helloID, heartbeatMs: heartbeatMs), now: now))
        return s
    }

    static func json(_ body: [UInt8]) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:]
    }

    @Test func connectingSaysHelloWithAdapterRolesAgencyAndWindow() throws {
        var s = ClientSession(options: Self.options(), idPrefix: "t")
        let actions = s.handle(.connected(now: 1000))
        #expect(actions.count == 1)
        let hello = try #require(actions.first?.sent)
        #expect(hello.command == .hello)
        let body = Self.json(hello.body)
        #expect(body["id"] as? String == "t-hello-1")
        #expect(body["id"] as? String == s.helloID)
        #expect(body["adapter"] as? String == "reli-erqi-1")
        #expect(body["roles"] as? [String] == ["agency"])
        #expect(body["agency"] as? String == "reli")
        #expect(body["jurisdictions"] as? [String] == ["zz/erqi"])
        #expect(body["window"] as? Int == 50)
        #expect((body["software"] as? String)?.hasPrefix("MusterAdapterKit/") == true)
        #expect(!s.isWelcomed)
    }

    @Test func requestsBeforeTheWelcomeAreHeldAndSentAfterIt() {
        var s = ClientSession(options: Self.options(), idPrefix: "t")
        _ = s.handle(.connected(now: 0))
        #expect(s.handle(.submitted(id: "r1", .submit, Array(#"{"id":"r1"}"#.utf8), now: 10)).isEmpty)
        #expect(s.handle(.submitted(id: "r2", .ack, Array(#"{"id":"r2"}"#.utf8), now: 11)).isEmpty)
        let actions = s.handle(.received(Self.welcome(re: s.helloID, heartbeatMs: 5000), now: 20))
        #expect(s.isWelcomed)
        guard case .welcomed(let w)? = actions.first else { Issue.record("no welcomed action: \(actions)"); return }
        #expect(w.heartbeatMs == 5000)
        #expect(actions.compactMap(\.sent).map(\.request) == ["r1", "r2"], "in the order submitted")
        #expect(actions.compactMap(\.sent).map(\.command) == [.submit, .ack])
        // Once welcomed, a request goes at once.
        #expect(s.handle(.submitted(id: "r3", .progress, [], now: 30)).compactMap(\.sent).map(\.request) == ["r3"])
    }

    @Test func anUnansweredRequestIsResentWithTheSameIDAndCompletedOnce() throws {
        var s = Self.welcomed()
        let body = Array(#"{"id":"r1","dispatch_id":"D1"}"#.utf8)
        #expect(s.handle(.submitted(id: "r1", .ack, body, now: 1000)).compactMap(\.sent).map(\.request) == ["r1"])
        #expect(s.handle(.tick(now: 5999)).isEmpty, "retryAfter (5 s) has not passed")
        let resent = s.handle(.tick(now: 6000)).compactMap(\.sent)
        #expect(resent.map(\.request) == ["r1"])
        #expect(resent.first?.body == body, "the same request, the same id")
        #expect(s.handle(.tick(now: 10_999)).isEmpty, "retried every retryAfter from the last send")
        #expect(s.handle(.tick(now: 11_000)).compactMap(\.sent).map(\.request) == ["r1"])

        let answered = s.handle(.received(Self.reply(.ok, re: "r1"), now: 11_100))
        #expect(answered.count == 1)
        let (id, reply) = try #require(answered.first?.completed)
        #expect(id == "r1")
        #expect(reply.command == .ok)
        #expect(s.handle(.received(Self.reply(.ok, re: "r1"), now: 11_200)).isEmpty, "the answer to the resend is ignored")
        #expect(s.handle(.tick(now: 30_000)).compactMap(\.sent).allSatisfy { $0.request == nil }, "no more retries")
        #expect(s.inFlightCount == 0)
    }

    @Test func anErrorReplyCompletesTheRequestWithoutReconnecting() throws {
        var s = Self.welcomed()
        _ = s.handle(.submitted(id: "r1", .resolve, [], now: 0))
        let actions = s.handle(.received(Self.error(re: "r1", .invalidTransition), now: 1))
        let (id, reply) = try #require(actions.first?.completed)
        #expect(actions.count == 1)
        #expect(id == "r1" && reply.isError && reply.error?.code == .invalidTransition)
        #expect(s.isWelcomed)
    }

    @Test func aPushIsHandedOverOnceAndAcknowledgedOnlyAfterItIsHandled() {
        var s = Self.welcomed()
        let first = s.handle(.received(Self.dispatch("7-ab"), now: 100))
        #expect(first.compactMap(\.handedOver) == ["7-ab"])
        guard case .handOver(let command, let body, _)? = first.first else { Issue.record("no hand-over"); return }
        #expect(command == .dispatch)
        #expect(Self.json(body)["dispatch_id"] as? String == "D1")

        // The broker resends it while the handler runs: not handed over again, not acknowledged.
        #expect(s.handle(.received(Self.dispatch("7-ab"), now: 200)).isEmpty)
        #expect(s.handle(.tick(now: 300)).compactMap(\.sent).filter { $0.command == .received }.isEmpty)

        // The handler returns: RECEIVED with the next tick.
        #expect(s.handle(.handled(delivery: "7-ab")).isEmpty)
        let ack = s.handle(.tick(now: 400)).compactMap(\.sent).filter { $0.command == .received }
        #expect(ack.map(\.deliveries) == [["7-ab"]])
        #expect(Self.json(ack[0].body)["deliveries"] as? [String] == ["7-ab"])
        #expect(s.handle(.tick(now: 500)).compactMap(\.sent).filter { $0.command == .received }.isEmpty, "said once")

        // A repeat after that (our RECEIVED was lost): acknowledged again, not handed over.
        #expect(s.handle(.received(Self.dispatch("7-ab"), now: 600)).isEmpty)
        let again = s.handle(.tick(now: 700)).compactMap(\.sent).filter { $0.command == .received }
        #expect(again.map(\.deliveries) == [["7-ab"]])
    }

    @Test func receivedIsBatched() {
        var s = Self.welcomed()
        for d in ["1-a", "2-b", "E3"] {
            let command: Command = d.hasPrefix("E") ? .event : .dispatch
            let push = Self.message(command) { $0.field("delivery", d) }
            #expect(s.handle(.received(push, now: 10)).compactMap(\.handedOver) == [d])
            _ = s.handle(.handled(delivery: d))
        }
        let acks = s.handle(.tick(now: 20)).compactMap(\.sent).filter { $0.command == .received }
        #expect(acks.map(\.deliveries) == [["1-a", "2-b", "E3"]])
    }

    @Test func aHeartbeatIsSentWhenIdleForHeartbeatMs() {
        var s = Self.welcomed(heartbeatMs: 1000, at: 0)
        #expect(s.handle(.tick(now: 999)).isEmpty)
        _ = s.handle(.received(Self.message(.heartbeat), now: 900))
        #expect(s.handle(.tick(now: 1000)).compactMap(\.sent).map(\.command) == [.heartbeat])
        #expect(s.handle(.tick(now: 1999)).isEmpty, "idle since the heartbeat only")
        // Anything sent counts: a request at 2500 puts the next heartbeat at 3500.
        _ = s.handle(.received(Self.message(.heartbeat), now: 2400))
        _ = s.handle(.submitted(id: "r1", .progress, [], now: 2500))
        #expect(s.handle(.tick(now: 3499)).isEmpty)
        #expect(s.handle(.tick(now: 3500)).compactMap(\.sent).map(\.command) == [.heartbeat])
    }

    @Test func aBrokerSilentForThreeHeartbeatsMeansReconnect() {
        var s = Self.welcomed(heartbeatMs: 1000, at: 0)
        _ = s.handle(.received(Self.message(.heartbeat), now: 2000))
        #expect(s.handle(.tick(now: 5000)).compactMap(\.reconnectDelay).isEmpty, "3 heartbeats since 2000, not more")
        let actions = s.handle(.tick(now: 5001))
        guard case .log(.brokerSilent)? = actions.first else { Issue.record("no note: \(actions)"); return }
        #expect(actions.compactMap(\.reconnectDelay).count == 1)
        #expect(!s.isWelcomed)
        // Disconnected: no timers, no messages, until the shell connects again.
        #expect(s.handle(.tick(now: 20_000)).isEmpty)
        #expect(s.handle(.received(Self.dispatch("9-x"), now: 20_001)).isEmpty)
    }

    @Test func theReconnectBackOffGrowsAndAWelcomeResetsIt() throws {
        var s = ClientSession(options: Self.options(), idPrefix: "t")
        // Doubling from 1 s, each ±50 %: [0.5, 1.5], [1, 3], [2, 6], [4, 12].
        var delays: [Double] = []
        for _ in 0..<2 { delays += s.handle(.connectFailed).compactMap(\.reconnectDelay) }
        var now = 0.0
        for _ in 0..<2 {  // a HELLO unanswered for max(2 s, heartbeat) also backs off
            _ = s.handle(.connected(now: now))
            #expect(s.handle(.tick(now: now + 5000)).isEmpty)
            delays += s.handle(.tick(now: now + 5001)).compactMap(\.reconnectDelay)
            now += 10_000
        }
        #expect(delays.count == 4)
        for (delay, base) in zip(delays, [1.0, 2, 4, 8]) { #expect(delay >= base / 2 && delay <= base * 1.5, "\(delays)") }

        // WELCOME, then silence: back to the first step.
        _ = s.handle(.connected(now: now))
        _ = s.handle(.received(Self.welcome(re: s.helloID, heartbeatMs: 1000), now: now))
        let delay = try #require(s.handle(.tick(now: now + 3001)).compactMap(\.reconnectDelay).first)
        #expect(delay >= 0.5 && delay <= 1.5)
    }

    @Test func aWelcomeResendsWhatWasInFlight() {
        var s = Self.welcomed(heartbeatMs: 1000, at: 0)
        let b1 = Array(#"{"id":"r1"}"#.utf8), b2 = Array(#"{"id":"r2"}"#.utf8)
        _ = s.handle(.submitted(id: "r1", .submit, b1, now: 10))
        _ = s.handle(.submitted(id: "r2", .submit, b2, now: 20))
        _ = s.handle(.received(Self.reply(.accepted, re: "r1"), now: 30))
        #expect(s.handle(.tick(now: 3031)).compactMap(\.reconnectDelay).count == 1)
        // Submitted while away: held, then sent after the two older ones.
        #expect(s.handle(.submitted(id: "r3", .submit, [], now: 3100)).isEmpty)

        _ = s.handle(.connected(now: 4000))
        let actions = s.handle(.received(Self.welcome(re: s.helloID, heartbeatMs: 1000), now: 4010))
        #expect(actions.compactMap(\.sent).map(\.request) == ["r2", "r3"], "r1 was answered")
        #expect(actions.compactMap(\.sent).first?.body == b2)
        #expect(s.handle(.tick(now: 4020)).compactMap(\.sent).isEmpty, "just sent: no retry, no heartbeat")
    }

    @Test func notRegisteredMeansHelloAgainThenTheRequestIsResent() throws {
        var s = Self.welcomed()
        _ = s.handle(.submitted(id: "r1", .ack, [], now: 0))
        // The broker restarted and does not know this session.
        let actions = s.handle(.received(Self.error(re: "r1", .notRegistered), now: 10))
        #expect(actions.compactMap(\.sent).map(\.command) == [.hello])
        #expect(actions.compactMap(\.completed).isEmpty, "the request is not answered by that")
        let hello = try #require(actions.first?.sent)
        #expect(Self.json(hello.body)["id"] as? String == "t-hello-2")
        #expect(s.helloID == "t-hello-2")
        #expect(!s.isWelcomed)

        let welcome = s.handle(.received(Self.welcome(re: s.helloID, heartbeatMs: 60_000), now: 20))
        #expect(welcome.compactMap(\.sent).map(\.request) == ["r1"])
        #expect(s.handle(.received(Self.reply(.ok, re: "r1"), now: 30)).compactMap(\.completed).map { $0.0 } == ["r1"])
    }

    @Test func anErrorToTheHelloMeansReconnect() {
        var s = ClientSession(options: Self.options(), idPrefix: "t")
        _ = s.handle(.connected(now: 0))
        let actions = s.handle(.received(Self.error(re: s.helloID, .forbidden), now: 10))
        guard case .log(.helloRefused(.forbidden, _))? = actions.first else { Issue.record("no note: \(actions)"); return }
        #expect(actions.compactMap(\.reconnectDelay).count == 1)
        #expect(!s.isWelcomed)
        #expect(s.handle(.tick(now: 100_000)).isEmpty, "no second reconnect from the HELLO timeout")
    }

    @Test func stopSaysByeOnlyWhenWelcomed() {
        var s = Self.welcomed()
        let actions = s.handle(.stop)
        #expect(actions.compactMap(\.sent).map(\.command) == [.bye])
        #expect(actions.compactMap(\.sent).first?.body == Array("{}".utf8))
        #expect(!s.isWelcomed)

        var greeting = ClientSession(options: Self.options(), idPrefix: "t")
        _ = greeting.handle(.connected(now: 0))
        #expect(greeting.handle(.stop).isEmpty)
    }

    @Test func malformedMessagesAreIgnored() {
        var s = Self.welcomed()
        _ = s.handle(.submitted(id: "r1", .ack, [], now: 0))
        let junk: [[[UInt8]]] = [
            [Envelope.versionBytes, Array("OK".utf8)],                                  // two frames
            [Array("MUSTER/2".utf8), Array("OK".utf8), Array(#"{"re":"r1"}"#.utf8)],     // wrong version
            [Envelope.versionBytes, Array("NOPE".utf8), Array("{}".utf8)],              // unknown command
            [Envelope.versionBytes, Array("OK".utf8), Array("not json".utf8)],          // no re
            Self.message(.dispatch) { $0.field("dispatch_id", "D1") },                  // push without delivery
            Self.message(.welcome) { $0.field("re", "x") },                             // WELCOME without its fields
            Self.message(.submit) { $0.field("id", "x") },                              // a request, from the broker
        ]
        for frames in junk {
            let actions = s.handle(.received(frames, now: 10))
            #expect(actions.allSatisfy { if case .log = $0 { true } else { false } }, "\(actions)")
        }
        #expect(s.isWelcomed)
        #expect(s.inFlightCount == 1)
        #expect(s.handle(.received(Self.reply(.ok, re: "r1"), now: 20)).compactMap(\.completed).map { $0.0 } == ["r1"])
    }

    @Test func whatCouldNotBeSentIsTriedAgainAtTheNextTick() {
        var s = Self.welcomed()
        let request = s.handle(.submitted(id: "r1", .ack, [], now: 1000)).compactMap(\.sent)
        _ = s.handle(.notSent(request[0]))
        #expect(s.handle(.tick(now: 1001)).compactMap(\.sent).map(\.request) == ["r1"], "not after retryAfter: now")

        _ = s.handle(.received(Self.dispatch("5-q"), now: 1002))
        _ = s.handle(.handled(delivery: "5-q"))
        let ack = s.handle(.tick(now: 1003)).compactMap(\.sent).filter { $0.command == .received }
        _ = s.handle(.notSent(ack[0]))
        #expect(s.handle(.tick(now: 1004)).compactMap(\.sent).filter { $0.command == .received }.map(\.deliveries) == [["5-q"]])
    }

    @Test func aPushHandledWhileDisconnectedIsAcknowledgedAfterTheNextWelcome() {
        var s = Self.welcomed(heartbeatMs: 1000, at: 0)
        _ = s.handle(.received(Self.dispatch("8-z"), now: 10))
        _ = s.handle(.tick(now: 3011))  // silent: reconnect
        _ = s.handle(.handled(delivery: "8-z"))
        _ = s.handle(.connected(now: 4000))
        #expect(s.handle(.tick(now: 4001)).isEmpty, "not before the WELCOME")
        _ = s.handle(.received(Self.welcome(re: s.helloID, heartbeatMs: 1000), now: 4002))
        #expect(s.handle(.tick(now: 4003)).compactMap(\.sent).map(\.deliveries) == [["8-z"]])
    }
}

extension ClientSession.Action {
    var sent: ClientSession.Outgoing? { if case .send(let o) = self { o } else { nil } }
    var handedOver: String? { if case .handOver(_, _, let d) = self { d } else { nil } }
    var completed: (String, MusterClient.Reply)? { if case .complete(let id, let r) = self { (id, r) } else { nil } }
    var reconnectDelay: Double? { if case .reconnect(let d) = self { d } else { nil } }
}

/// The events cursor of a plugin that follows events (`EventCursor`): handled out of order, it
/// never passes an event still being handled.
@Suite struct EventCursorTests {
    @Test func theCursorStaysBelowEveryEventStillBeingHandled() {
        var c = EventCursor()
        for seq in [101, 102, 105] as [Int64] { c.arrived(seq) }
        #expect(c.handled(102) == 100, "101 (waiting for its order's answer) is still out: a restart must get it again")
        #expect(c.handled(105) == 100)
        #expect(c.handled(101) == 105, "all handled: up to the highest")
        c.arrived(106)
        #expect(c.handled(106) == 106)
    }
}

/// `EventTurns`: each push runs on a task of its own, yet a plugin takes its events in seq order —
/// the hotline's platform must never see 办理中 before 签收.
@Suite struct EventTurnsTests {
    @Test func eventsAreTakenInTheOrderTheyCameWhateverOrderTheirTasksRun() async throws {
        let turns = EventTurns()
        let seqs: [Int64] = Array(101...140)
        for seq in seqs { turns.arrived(seq) }
        let taken = Taken()
        // Started latest first: without turns the last would mostly be taken first.
        await withThrowingTaskGroup(of: Void.self) { group in
            for seq in seqs.reversed() {
                group.addTask {
                    try await turns.turn(seq)
                    await taken.append(seq)
                    _ = turns.handled(seq)
                }
            }
        }
        #expect(await taken.seqs == seqs)
    }

    actor Taken {
        var seqs: [Int64] = []
        func append(_ seq: Int64) { seqs.append(seq) }
    }

    @Test func aPutOffEventHoldsTheLaterOnesBackAndTheCursorBelowIt() async throws {
        var c = EventCursor()
        for seq in [7, 8] as [Int64] { c.arrived(seq) }
        #expect(c.isNext(7) && !c.isNext(8), "8 waits while 7 (put off) is still out")
        #expect(c.handled(7) == 7 && c.isNext(8))
    }

    @Test func stoppingReleasesTheWaitingWithAnError() async throws {
        let turns = EventTurns()
        turns.arrived(1); turns.arrived(2)
        let second = Task { try await turns.turn(2) }
        turns.stop()
        await #expect(throws: CancellationError.self) { try await second.value }
    }
}
