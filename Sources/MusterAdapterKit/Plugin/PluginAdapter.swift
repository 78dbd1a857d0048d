import Foundation
import Logging
import MusterWire
import Synchronization

/// Runs a `DepartmentPlugin` as one instance of its agency: pushes go to `deliver` and are
/// acknowledged (RECEIVED) only once the downstream has taken or refused them; the plugin's acts
/// are queued durably (`ActQueue`) and sent until the broker answers — those a restart finds in
/// the queue are sent again first, under the same request ids.
public final class PluginAdapter: ActSink, Sendable {
    /// `retryLater` without a time of its own: a push is offered again after this many seconds.
    public static let defaultRetryAfter = 1.0

    /// How often the plugin's health is read; a change goes to the broker as HEALTH.
    public static let healthEvery = 1.0

    public let client: MusterClient
    public let queue: ActQueue
    private let plugin: any DepartmentPlugin
    private let logger: Logger
    private let updates = Mutex<Task<Void, Never>?>(nil)
    private let healthWatch = Mutex<Task<Void, Never>?>(nil)
    /// The state the broker was last told; nil: tell it (again), as after a new session.
    private let reported = Mutex<HealthReport.State?>(nil)
    private let waiters = AnswerWaiters()
    /// Events come in seq order and are taken in that order (`EventTurns`); the cursor kept is
    /// below every event still being handled, so a restart never skips one.
    private let eventTurns = EventTurns()
    /// QUERYs sent and not yet answered by the broker (a timed-out caller does not end one).
    private let queriesOut = Mutex(0)

    /// The downstream refused a push: the push is acknowledged after this.
    struct RetryLater: Error { var after: Double? }

    public init(_ options: MusterClient.Options, plugin: any DepartmentPlugin, queue: ActQueue, logger: Logger) {
        self.plugin = plugin
        self.queue = queue
        self.logger = logger
        let box = SinkBox()
        client = MusterClient(options, logger: logger, onWelcome: { _ in
            box.adapter?.reported.withLock { $0 = nil }
            box.adapter?.subscribe()
        }, onArrival: { command, body in
            guard command == .event, let seq = PluginAdapter.seq(of: body) else { return }
            box.adapter?.eventTurns.arrived(seq)
        }) { command, body in
            guard let adapter = box.adapter else { return }
            try await adapter.take(command, body)
        }
        box.adapter = self
    }

    public func start() {
        client.start()
        do {
            for p in try queue.pending() { send(id: p.id, command: p.command, body: p.body) }
        } catch {
            logger.error("the act queue cannot be read", metadata: ["path": "\(queue.path)", "error": "\(error)"])
        }
        updates.withLock { task in
            task = Task { [plugin, logger] in
                do { try await plugin.updates(self) } catch {
                    logger.error("the plugin's updates stopped", metadata: ["error": "\(error)"])
                }
            }
        }
        // Only a department's adapter has a downstream whose health the centre watches (HEALTH).
        guard client.options.roles.contains(.agency) else { return }
        healthWatch.withLock { task in
            task = Task {
                while !Task.isCancelled {
                    await self.reportHealth()
                    try? await Task.sleep(nanoseconds: UInt64(Self.healthEvery * 1e9))
                }
            }
        }
    }

    public func stop() {
        updates.withLock { $0?.cancel() }
        healthWatch.withLock { $0?.cancel() }
        eventTurns.stop()
        client.stop()
    }

    /// Stops, once the client has said BYE.
    public func stopAndWait() async {
        updates.withLock { $0?.cancel() }
        healthWatch.withLock { $0?.cancel() }
        eventTurns.stop()
        await client.stopAndWait()
    }

    /// The events' cursor in the act queue: the last event `seq` the plugin has taken.
    static let eventsFeed = "events"

    /// SUBSCRIBE to the plugin's event types after the last one it took (a subscription is the
    /// session's: again after every WELCOME). The first time, from now — and the head is kept, so
    /// that nothing logged between two sessions is missed.
    func subscribe() {
        guard let types = plugin.events else { return }
        let after = (try? queue.cursor(Self.eventsFeed)).flatMap { Int64($0) }
        client.request(.subscribe, { w in
            if let after { w.field("after", after) }
            w.field("types", types)
        }, completion: { [queue, logger] reply in
            if let e = reply.error {
                logger.error("SUBSCRIBE refused", metadata: ["code": "\(e.code.rawValue)", "message": "\(e.message)"]); return
            }
            if after == nil, let head = reply.json()["head"] as? Int { try? queue.advance(Self.eventsFeed, to: Int64(head)) }
        })
    }

    /// Tells the broker how the downstream is when that changed (HEALTH): a change to down is a
    /// NOTICE to the centre. Not queued durably: it is a state, read again every second.
    func reportHealth() async {
        let (state, detail, failures): (HealthReport.State, String?, Int?) = switch await plugin.health() {
        case .ok: (.ok, nil, nil)
        case .degraded(let why): (.degraded, why, nil)
        case .down(let why, let n): (.down, why, n)
        }
        let changed = reported.withLock { last in
            guard last != state else { return false }
            last = state
            return true
        }
        guard changed else { return }
        if state != .ok { logger.warning("the department's system is \(state.rawValue)", metadata: ["detail": "\(detail ?? "")"]) }
        client.request(.health, { w in
            w.field("state", state.rawValue)
            w.field("detail", detail)
            if let failures { w.field("failures", failures) }
        }, completion: { reply in
            if reply.isError { self.reported.withLock { $0 = nil } }  // say it again at the next reading
        })
    }

    /// `ActSink`: durable once this returns; the broker's answer comes later.
    public func send(_ act: Act) async throws {
        guard try queue.enqueue(act) else { return }  // the same update again: one act
        send(id: act.id, command: act.command, body: act.body)
    }

    @discardableResult
    public func send(_ acts: [Act], cursor: (name: String, value: String)?) async throws -> Int {
        let fresh = try queue.enqueue(acts, cursor: cursor)
        for act in fresh { send(id: act.id, command: act.command, body: act.body) }
        return fresh.count
    }

    public func cursor(_ name: String) async throws -> String? { try queue.cursor(name) }
    public func subject(ofRef ref: String) async throws -> String? { try queue.subject(ofRef: ref) }
    public func ref(ofSubject subject: String) async throws -> String? { try queue.ref(ofSubject: subject) }
    public func push(ofSubject subject: String) async throws -> [UInt8]? { try queue.push(ofSubject: subject) }
    /// How long a QUERY waits for the broker before it is answered `unavailable` here.
    public static let queryTimeout = 10.0

    /// At most this many QUERYs out at once: the client asks each until the broker answers, so
    /// while it is away, callers that gave up must not pile more up (Open311's GETs are public).
    public static let maxQueriesOut = 64

    public func query(_ fill: @Sendable (inout JSONWriter) -> Void) async throws -> ActAnswer {
        guard queriesOut.withLock({ n in n < Self.maxQueriesOut ? { n += 1; return true }() : false }) else {
            return ActAnswer(command: .error, body: Array(#"{"code":"unavailable","message":"too many queries waiting for the broker"}"#.utf8))
        }
        // The client asks until the broker answers; the caller (an HTTP request) waits no longer
        // than queryTimeout, whichever comes first resuming it once.
        let done = Mutex(false)
        return await withCheckedContinuation { (c: CheckedContinuation<ActAnswer, Never>) in
            let once: @Sendable (ActAnswer) -> Void = { a in
                if done.withLock({ d in defer { d = true }; return !d }) { c.resume(returning: a) }
            }
            client.request(.query, fill, completion: { reply in
                self.queriesOut.withLock { $0 -= 1 }
                once(ActAnswer(command: reply.command, body: reply.body))
            })
            Task {
                try? await Task.sleep(nanoseconds: UInt64(Self.queryTimeout * 1e9))
                once(ActAnswer(command: .error, body: Array(#"{"code":"unavailable","message":"the broker did not answer the QUERY in time"}"#.utf8)))
            }
        }
    }

    public func status(of id: String, within: Double) async throws -> ActStatus {
        if let a = try queue.answer(id) { return .answered(a) }
        guard try queue.contains(id) else { return .unknown }
        guard within > 0, let a = await waiters.wait(id, within: within, check: { try? self.queue.answer(id) }) else { return .waiting }
        return .answered(a)
    }

    private func send(id: String, command: Command, body: [UInt8]) {
        client.request(command, id: id, body: body) { [queue, logger] reply in
            // The client resends until some answer comes; `unavailable` and `rate_limited` say
            // nothing was applied: the act stays queued and goes again, under its id, after a
            // pause (and at the next start if the adapter dies first). Any other answer is final
            // (an ERROR such as invalid_transition would be the same again).
            if let e = reply.error, e.code == .unavailable || e.code == .rateLimited {
                logger.warning("act not applied yet; sent again shortly", metadata: ["id": "\(id)", "code": "\(e.code.rawValue)"])
                Task {
                    try? await Task.sleep(nanoseconds: UInt64(Self.defaultRetryAfter * 1e9))
                    self.send(id: id, command: command, body: body)
                }
                return
            }
            if let e = reply.error { logger.warning("act refused", metadata: ["id": "\(id)", "code": "\(e.code.rawValue)", "message": "\(e.message)"]) }
            let answer = ActAnswer(command: reply.command, body: reply.body)
            Task {
                await self.plugin.answered(id, answer)
                do { try queue.answered(id, answer) } catch {
                    logger.error("cannot mark an act answered", metadata: ["id": "\(id)", "error": "\(error)"])
                }
                self.waiters.answered(id, answer)
            }
        }
    }

    /// A push: to the plugin if it takes that command. Throwing leaves it unacknowledged; the
    /// client offers it again after a back-off (and the broker redelivers it if we die).
    func take(_ command: Command, _ body: [UInt8]) async throws {
        guard plugin.handles.contains(command) else {
            // An event the plugin does not take still ends its turn: the later ones wait for it.
            if command == .event, let seq = Self.seq(of: body), let through = eventTurns.handled(seq) {
                try queue.advance(Self.eventsFeed, to: through)
            }
            return
        }
        let head = try JSONDecoder().decode(PushHead.self, from: Data(body))
        let push = Push(command: command, delivery: head.delivery, body: body, dispatchID: head.dispatchID)
        if command == .event, let seq = head.seq { try await eventTurns.turn(seq) }
        let outcome = await plugin.deliver(push)
        if command == .event, let seq = head.seq {
            switch outcome {
            case .delivered, .deferred, .refused:
                if let through = eventTurns.handled(seq) { try queue.advance(Self.eventsFeed, to: through) }
            case .retryLater: break
            }
        } else if case .retryLater = outcome {} else if case .refused = outcome {} else if let subject = head.dispatchID ?? head.summonID {
            // Kept before RECEIVED: its own id for the work (its updates may name the work by it),
            // and the push itself, for the plugin's rules to read when the updates come.
            try queue.remember(push: body, subject: subject)
            if case .delivered(let ref?) = outcome { try queue.remember(ref: ref, subject: subject) }
        }
        switch outcome {
        case .delivered, .deferred:
            return
        case .retryLater(let after):
            try await Task.sleep(nanoseconds: UInt64((after ?? Self.defaultRetryAfter) * 1e9))
            throw RetryLater(after: after)
        case .refused(let reason, let note):
            // The return is queued (durable) before the push is acknowledged: a crash between the
            // two redelivers the push, and the same act id makes the second return the first.
            if command == .dispatch, let d = head.dispatchID {
                try await send(.giveBack(id: "refused-\(d)", dispatchID: d, reason: reason, note: note))
            }
        }
    }

    /// An EVENT's `seq`, read without decoding the rest (on the client's thread).
    static func seq(of body: [UInt8]) -> Int64? {
        JSONSpan.value(of: "seq", in: body).flatMap { Int64(String(decoding: $0, as: UTF8.self)) }
    }

    private struct PushHead: Decodable {
        var delivery: String
        var dispatchID: String?
        var summonID: String?
        var seq: Int64?
        enum CodingKeys: String, CodingKey { case delivery, dispatchID = "dispatch_id", summonID = "summon_id", seq }
    }
}

/// Lets the push handler reach the adapter it belongs to (set once, right after creation).
final class SinkBox: @unchecked Sendable {
    private let lock = Mutex<PluginAdapter?>(nil)
    var adapter: PluginAdapter? {
        get { lock.withLock { $0 } }
        set { lock.withLock { $0 = newValue } }
    }
}
