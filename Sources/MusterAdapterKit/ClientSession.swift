import Foundation
import MusterWire

/// The MUSTER/1 session of a peer as a state machine: events in, actions out. It holds no
/// socket, no thread and no clock — `now` is milliseconds, given by the caller — so every rule
/// of the session is tested by feeding it events (Tests/MusterAdapterKitTests). `MusterClient`
/// is the shell: it owns the socket and the thread, feeds the events and performs the actions.
///
/// | event                    | phase        | actions                                                  |
/// |--------------------------|--------------|----------------------------------------------------------|
/// | connected                | any          | send HELLO                                               |
/// | connectFailed            | any          | reconnect after back-off                                 |
/// | WELCOME                  | connected    | welcomed, resend every request in flight, back-off reset |
/// | ERROR not_registered     | connected    | send HELLO again (the broker lost the session)           |
/// | ERROR re the HELLO       | connected    | reconnect after back-off                                 |
/// | OK/ACCEPTED/RESULT/ERROR | connected    | complete the request it answers (once)                   |
/// | DISPATCH/SUMMON/…        | connected    | hand over (new) · nothing (being handled) · acknowledge (handled) |
/// | submitted                | welcomed     | send it · (else held until the WELCOME)                  |
/// | handled                  | any          | acknowledge it with the next RECEIVED batch              |
/// | tick                     | greeting     | reconnect if the HELLO went unanswered                   |
/// | tick                     | welcomed     | reconnect if silent 3 heartbeats · else RECEIVED, retries, HEARTBEAT |
/// | stop                     | welcomed     | send BYE                                                 |
///
/// Phases: disconnected → greeting (HELLO sent) → welcomed; "connected" is either of the last
/// two. While disconnected, messages and ticks do nothing: the shell is waiting to reconnect.
public struct ClientSession: Sendable {
    public enum Event: Sendable {
        /// A socket is connected: say HELLO.
        case connected(now: Double)
        /// No socket could be made: try again after a back-off.
        case connectFailed
        /// One message from the broker, as its frames (checked here, so junk is tested too).
        case received([[UInt8]], now: Double)
        /// A request to send and retry, with the same id, until it is answered.
        case submitted(id: String, Command, [UInt8], now: Double)
        /// The push handler has returned for this delivery: acknowledge it.
        case handled(delivery: String)
        /// The shell could not send this (the socket's queue is full): undo what was assumed.
        case notSent(Outgoing)
        /// Time passes: timeouts, the RECEIVED batch, retries, heartbeats.
        case tick(now: Double)
        /// The client is stopping.
        case stop
    }

    public enum Action: Sendable {
        /// Send this message. Assumed sent; if it was not, the shell gives it back as `notSent`.
        case send(Outgoing)
        /// Run the push handler for this delivery; `handled` comes back when it has returned.
        case handOver(Command, [UInt8], delivery: String)
        /// The request `id` is answered.
        case complete(id: String, MusterClient.Reply)
        case welcomed(Welcome)
        /// Close the socket and connect again after this delay.
        case reconnect(afterSeconds: Double)
        case log(Note)
    }

    /// A message to send, with what it carries, so that an unsent one can be undone.
    public struct Outgoing: Sendable {
        public let command: Command
        public let body: [UInt8]
        /// The request it sends (retried at the next tick if unsent).
        public let request: String?
        /// The deliveries it acknowledges (acknowledged again if unsent).
        public let deliveries: [String]
    }

    /// What the shell should log.
    public enum Note: Sendable, Equatable {
        case malformed(frames: Int)
        case unreadable(Command)
        case unexpected(Command)
        case helloRefused(ErrorCode, String)
        case brokerSilent
    }

    enum Phase: Sendable { case disconnected, greeting, welcomed }

    /// A request in flight. `sentAt` -∞: not sent yet (held before the WELCOME, or unsent), so
    /// the next chance sends it. `order`: submission order, kept when resending (an ACK before
    /// the RESOLVE of the same dispatch).
    struct Pending: Sendable {
        var command: Command
        var body: [UInt8]
        var sentAt: Double
        var order: Int
    }

    public let options: MusterClient.Options
    private let idPrefix: String
    private(set) var phase = Phase.disconnected
    /// The id of the last HELLO: an ERROR with this `re` is the HELLO refused.
    public private(set) var helloID = ""
    private var hellos = 0
    private var helloSentAt = 0.0
    /// From the last WELCOME; 5 s (the sample broker's) until then.
    private(set) var heartbeatMs = 5000.0
    private var lastHeard = 0.0
    private var lastSent = 0.0
    private var backoff: Backoff
    private var inFlight: [String: Pending] = [:]
    private var submissions = 0
    /// Deliveries handled (acknowledged again if the broker resends them) and being handled
    /// (a resend is ignored: RECEIVED follows when the handler returns).
    private var seen = RecentSet(capacity: 200_000)
    private var handling: Set<String> = []
    private var toAcknowledge: [String] = []

    /// `idPrefix` makes the HELLO ids (`<prefix>-hello-<n>`), distinct from request ids.
    public init(options: MusterClient.Options, idPrefix: String) {
        self.options = options
        self.idPrefix = idPrefix
        backoff = Backoff(initial: options.backoffInitial, maximum: options.backoffMax)
    }

    public var isWelcomed: Bool { phase == .welcomed }
    /// Requests sent or held, not yet answered.
    public var inFlightCount: Int { inFlight.count }

    public mutating func handle(_ event: Event) -> [Action] {
        switch event {
        case .connected(let now):
            lastHeard = now
            return [hello(now)]
        case .connectFailed:
            return [reconnect()]
        case .received(let frames, let now):
            return received(frames, now)
        case .submitted(let id, let command, let body, let now):
            submissions += 1
            let welcomed = phase == .welcomed
            inFlight[id] = Pending(command: command, body: body, sentAt: welcomed ? now : -.infinity, order: submissions)
            // Before the WELCOME it is held: the WELCOME sends everything in flight.
            return welcomed ? [send(command, body, now, request: id)] : []
        case .handled(let delivery):
            handling.remove(delivery)
            seen.insert(delivery)
            toAcknowledge.append(delivery)
            return []
        case .notSent(let o):
            if let id = o.request { inFlight[id]?.sentAt = -.infinity }
            toAcknowledge.append(contentsOf: o.deliveries)
            return []
        case .tick(let now):
            return tick(now)
        case .stop:
            defer { phase = .disconnected }
            let bye = Outgoing(command: .bye, body: Array("{}".utf8), request: nil, deliveries: [])
            return phase == .welcomed ? [.send(bye)] : []
        }
    }

    // MARK: the rules

    private mutating func received(_ frames: [[UInt8]], _ now: Double) -> [Action] {
        guard phase != .disconnected else { return [] }
        lastHeard = now  // any message counts as a sign of life
        guard frames.count == 3, frames[0] == Envelope.versionBytes,
              let command = Command(rawValue: String(decoding: frames[1], as: UTF8.self)) else {
            return [.log(.malformed(frames: frames.count))]
        }
        let body = frames[2]
        switch command {
        case .welcome:
            guard let w = try? JSONDecoder().decode(Welcome.self, from: Data(body)) else { return [.log(.unreadable(command))] }
            phase = .welcomed
            heartbeatMs = Double(w.heartbeatMs)
            backoff.reset()
            // Whatever was unanswered may have been lost with the old session: send it again.
            var actions: [Action] = [.welcomed(w)]
            for (id, p) in inFlight.sorted(by: { $0.value.order < $1.value.order }) {
                inFlight[id]?.sentAt = now
                actions.append(send(p.command, p.body, now, request: id))
            }
            return actions
        case .heartbeat:
            return []
        case .dispatch, .notice, .summon, .event:
            guard let d = try? JSONDecoder().decode(DeliveryOnly.self, from: Data(body)) else { return [.log(.unreadable(command))] }
            if seen.contains(d.delivery) {
                toAcknowledge.append(d.delivery)  // RECEIVED was lost: say it again
                return []
            }
            // Being handled already: RECEIVED follows when the handler returns.
            guard handling.insert(d.delivery).inserted else { return [] }
            return [.handOver(command, body, delivery: d.delivery)]
        case .ok, .accepted, .result, .error:
            let re = (try? JSONDecoder().decode(ReplyHeader.self, from: Data(body)))?.re
            if command == .error, let e = try? JSONDecoder().decode(ErrorBody.self, from: Data(body)) {
                // The broker lost our session (it restarted): register again; the WELCOME resends.
                if e.code == .notRegistered { return [hello(now)] }
                if re == helloID { return [.log(.helloRefused(e.code, e.message)), reconnect()] }
            }
            guard let re, inFlight.removeValue(forKey: re) != nil else { return [] }  // a late repeat
            return [.complete(id: re, MusterClient.Reply(command: command, body: body))]
        default:
            return [.log(.unexpected(command))]
        }
    }

    private mutating func tick(_ now: Double) -> [Action] {
        switch phase {
        case .disconnected:
            return []
        case .greeting:
            return now - helloSentAt > max(2000, heartbeatMs) ? [reconnect()] : []
        case .welcomed:
            if now - lastHeard > 3 * heartbeatMs { return [.log(.brokerSilent), reconnect()] }
            var actions: [Action] = []
            if !toAcknowledge.isEmpty {
                var w = JSONWriter()
                w.field("deliveries", toAcknowledge)
                actions.append(send(.received, w.finish(), now, deliveries: toAcknowledge))
                toAcknowledge.removeAll(keepingCapacity: true)
            }
            let retryMs = options.retryAfter * 1000
            var due: [(id: String, order: Int)] = []
            for (id, p) in inFlight where now - p.sentAt >= retryMs { due.append((id, p.order)) }
            for (id, _) in due.sorted(by: { $0.order < $1.order }) {
                guard let p = inFlight[id] else { continue }
                inFlight[id]?.sentAt = now
                actions.append(send(p.command, p.body, now, request: id))
            }
            if now - lastSent >= heartbeatMs { actions.append(send(.heartbeat, Array("{}".utf8), now)) }
            return actions
        }
    }

    // MARK: helpers

    private mutating func hello(_ now: Double) -> Action {
        hellos += 1
        helloID = "\(idPrefix)-hello-\(hellos)"
        var w = JSONWriter()
        w.field("id", helloID)
        w.field("adapter", options.adapter)
        w.field("roles", options.roles.map(\.rawValue))
        w.field("agency", options.agency)
        if let j = options.jurisdictions { w.field("jurisdictions", j) }
        w.field("window", options.window)
        w.field("software", options.software)
        phase = .greeting
        helloSentAt = now
        return send(.hello, w.finish(), now)
    }

    private mutating func reconnect() -> Action {
        phase = .disconnected
        return .reconnect(afterSeconds: backoff.next())
    }

    private mutating func send(_ command: Command, _ body: [UInt8], _ now: Double, request: String? = nil, deliveries: [String] = []) -> Action {
        lastSent = now
        return .send(Outgoing(command: command, body: body, request: request, deliveries: deliveries))
    }
}
