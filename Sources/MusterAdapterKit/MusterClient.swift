import Foundation
import Logging
import MusterWire
import Synchronization
import ZeroMQ

/// A MUSTER/1 peer: connects a DEALER, says HELLO, keeps heartbeats, reconnects with back-off
/// and jitter, retries each request with the same id until it is answered, drops repeated
/// pushes and acknowledges them with RECEIVED. The socket lives on the client's own thread;
/// other threads hand it requests through a queue and a wake-up pipe.
public final class MusterClient: @unchecked Sendable {
    public struct Options: Sendable {
        public var endpoint: String
        public var adapter: String
        public var roles: [Role]
        public var agency: String?
        public var jurisdictions: [String]?
        public var window: Int = 1000
        public var software = "MusterAdapterKit/\(MusterClient.version)"
        /// Resend an unanswered request (same id) after this many seconds.
        public var retryAfter: Double = 5
        public var backoffInitial: Double = 0.1
        public var backoffMax: Double = 5
        /// CURVE: the broker's public key and this adapter's key pair; nil: plain TCP.
        public var curve: Curve?

        public struct Curve: Sendable {
            public var serverKey: String
            public var keys: CurveKeyPair
            public init(serverKey: String, keys: CurveKeyPair) { self.serverKey = serverKey; self.keys = keys }
        }

        public init(endpoint: String, adapter: String, roles: [Role], agency: String? = nil, jurisdictions: [String]? = nil, window: Int = 1000) {
            self.endpoint = endpoint; self.adapter = adapter; self.roles = roles; self.agency = agency
            self.jurisdictions = jurisdictions; self.window = window
        }
    }

    /// A reply to a request: `OK`, `ACCEPTED`, `RESULT` or `ERROR`.
    public struct Reply: Sendable {
        public let command: Command
        public let body: [UInt8]
        public var isError: Bool { command == .error }
        public var error: ErrorBody? { isError ? try? JSONDecoder().decode(ErrorBody.self, from: Data(body)) : nil }
        public func json() -> [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:]
        }
        public func decode<T: Decodable>(_ type: T.Type) throws -> T { try JSONDecoder().decode(T.self, from: Data(body)) }
    }

    /// Called for each new push (repeats are dropped), off the client's thread. The push is
    /// acknowledged with RECEIVED only once this has returned: persist it or hand it over first.
    /// If it throws, it is called again after a back-off and the push stays unreceived, so the
    /// broker redelivers it (here after a reconnect, or to a sibling) if this process dies.
    public typealias PushHandler = @Sendable (Command, [UInt8]) async throws -> Void

    public static let version = "0.1.0"
    public let options: Options
    private let logger: Logger
    private let onPush: PushHandler
    private let onWelcome: (@Sendable (Welcome) -> Void)?

    private struct Queued: Sendable {
        var id: String
        var command: Command
        var body: [UInt8]
        var completion: @Sendable (Reply) -> Void
    }
    private let queue = Mutex<[Queued]>([])
    /// Deliveries whose handler has returned, for the client thread to acknowledge.
    private let handled = Mutex<[String]>([])
    private let wake = Wakeup()
    private let stopFlag = Atomic<Bool>(false)
    /// Signalled when the client thread has said BYE and closed its socket.
    private let ended = DispatchSemaphore(value: 0)
    private let welcomedFlag = Atomic<Bool>(false)
    private let counter = Atomic<Int64>(0)
    private let idPrefix: String
    private var thread: Thread?

    // Owned by the client thread.
    private var socket: Socket?
    private var inFlight: [String: (queued: Queued, sentAt: Double)] = [:]
    /// Deliveries handled (acknowledged again if the broker resends them) and being handled
    /// (a resend is ignored: RECEIVED follows when the handler returns).
    private var seen = RecentSet(capacity: 200_000)
    private var handling: Set<String> = []
    private var toAcknowledge: [String] = []
    private var heartbeatMs = 5000.0
    private var lastHeard = 0.0
    private var lastSent = 0.0
    private var helloID = ""
    private var helloSentAt = 0.0
    private var reconnectAt = 0.0
    private var backoff: Backoff

    public init(_ options: Options, logger: Logger, onWelcome: (@Sendable (Welcome) -> Void)? = nil, onPush: @escaping PushHandler) {
        self.options = options
        self.logger = logger
        self.onPush = onPush
        self.onWelcome = onWelcome
        backoff = Backoff(initial: options.backoffInitial, maximum: options.backoffMax)
        // Time-based prefix: ids stay unique for this adapter across restarts.
        idPrefix = String(Int64(Date().timeIntervalSince1970 * 1000), radix: 36)
    }

    public var isWelcomed: Bool { welcomedFlag.load(ordering: .acquiring) }

    public func start() {
        let t = Thread { [self] in run() }
        t.name = "muster-client-\(options.adapter)"
        thread = t
        t.start()
    }

    public func stop() {
        stopFlag.store(true, ordering: .releasing)
        wake.signal()
    }

    /// Stops, and returns once the client thread has said BYE and closed the socket (or after
    /// `timeout` seconds): a graceful shutdown leaves the broker a clean end of session.
    public func stopAndWait(timeout: Double = 2) async {
        stop()
        guard thread != nil else { return }
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async { [ended] in
                _ = ended.wait(timeout: .now() + timeout)
                done.resume()
            }
        }
    }

    /// A fresh request id, unique for this adapter.
    public func nextID() -> String {
        let n = counter.add(1, ordering: .relaxed).newValue
        return "\(idPrefix)-\(n)"
    }

    /// Sends a request (its body built by `fill`, with `id` added) and calls `completion` with
    /// the reply, retrying with the same id until one comes.
    public func request(_ command: Command, id: String? = nil, _ fill: (inout JSONWriter) -> Void, completion: @escaping @Sendable (Reply) -> Void) {
        let id = id ?? nextID()
        var w = JSONWriter()
        w.field("id", id)
        fill(&w)
        enqueue(Queued(id: id, command: command, body: w.finish(), completion: completion))
    }

    /// Sends a request whose body is already encoded (it must carry its own `id`).
    public func request(_ command: Command, id: String, body: [UInt8], completion: @escaping @Sendable (Reply) -> Void) {
        enqueue(Queued(id: id, command: command, body: body, completion: completion))
    }

    public func request(_ command: Command, id: String? = nil, _ fill: (inout JSONWriter) -> Void) async -> Reply {
        var w = JSONWriter()
        let rid = id ?? nextID()
        w.field("id", rid)
        fill(&w)
        let body = w.finish()
        return await withCheckedContinuation { cont in
            enqueue(Queued(id: rid, command: command, body: body) { cont.resume(returning: $0) })
        }
    }

    private func enqueue(_ q: Queued) {
        queue.withLock { $0.append(q) }
        wake.signal()
    }

    // MARK: the client thread

    private static func clock() -> Double { Date().timeIntervalSince1970 * 1000 }

    private func run() {
        connect()
        while !stopFlag.load(ordering: .acquiring) {
            guard let socket else {
                let now = MusterClient.clock()
                if now >= reconnectAt { connect() } else { usleep(UInt32(min(50_000, max(1000, (reconnectAt - now) * 1000)))) }
                continue
            }
            let ready = socket.waitReadable(timeoutMs: 100, orFD: wake.readFD)
            if ready.fd { wake.drain() }
            takeQueued()
            takeHandled()
            if ready.socket { drainSocket() }
            flushReceived()
            timers()
        }
        if let socket, isWelcomed { _ = try? socket.send(Envelope(.bye, body: Array("{}".utf8)).frames, dontWait: true) }
        socket?.close()
        socket = nil
        ended.signal()
    }

    private func connect() {
        do {
            let s = try Socket(.dealer)
            if let c = options.curve { try s.setCurveClient(serverKey: c.serverKey, keys: c.keys) }
            try s.setHighWaterMarks(send: 100_000, receive: 100_000)
            try s.connect(options.endpoint)
            socket = s
            welcomedFlag.store(false, ordering: .releasing)
            sendHello()
            lastHeard = MusterClient.clock()
        } catch {
            logger.warning("connect failed", metadata: ["endpoint": "\(options.endpoint)", "error": "\(error)"])
            scheduleReconnect()
        }
    }

    private func scheduleReconnect() {
        socket?.close()
        socket = nil
        welcomedFlag.store(false, ordering: .releasing)
        let delay = backoff.next()
        reconnectAt = MusterClient.clock() + delay * 1000
        logger.info("reconnecting", metadata: ["in_s": "\(String(format: "%.2f", delay))"])
    }

    private func sendHello() {
        helloID = nextID()
        var w = JSONWriter()
        w.field("id", helloID)
        w.field("adapter", options.adapter)
        w.field("roles", options.roles.map(\.rawValue))
        w.field("agency", options.agency)
        if let j = options.jurisdictions { w.field("jurisdictions", j) }
        w.field("window", options.window)
        w.field("software", options.software)
        raw(.hello, w.finish())
        helloSentAt = MusterClient.clock()
    }

    @discardableResult
    private func raw(_ command: Command, _ body: [UInt8]) -> Bool {
        guard let socket else { return false }
        do {
            let ok = try socket.send(Envelope(command, body: body).frames, dontWait: true)
            if ok { lastSent = MusterClient.clock() }
            return ok
        } catch {
            logger.warning("send failed", metadata: ["error": "\(error)"])
            return false
        }
    }

    private func takeQueued() {
        let items = queue.withLock { q -> [Queued] in let items = q; q.removeAll(keepingCapacity: true); return items }
        let now = MusterClient.clock()
        for q in items {
            let sent = isWelcomed && raw(q.command, q.body)
            // Unsent requests wait in flight with an old timestamp; the retry pass sends them.
            inFlight[q.id] = (q, sent ? now : 0)
        }
    }

    private func drainSocket() {
        guard let socket else { return }
        var handled = 0
        while handled < 10_000, let frames = try? socket.receive(dontWait: true) {
            handled += 1
            lastHeard = MusterClient.clock()
            guard frames.count == 3, frames[0] == Envelope.versionBytes,
                  let command = Command(rawValue: String(decoding: frames[1], as: UTF8.self)) else {
                logger.warning("malformed message from broker", metadata: ["frames": "\(frames.count)"])
                continue
            }
            handle(command, frames[2])
            if self.socket == nil { return }
        }
    }

    private func handle(_ command: Command, _ body: [UInt8]) {
        switch command {
        case .welcome:
            guard let w = try? JSONDecoder().decode(Welcome.self, from: Data(body)) else { return }
            heartbeatMs = Double(w.heartbeatMs)
            welcomedFlag.store(true, ordering: .releasing)
            backoff.reset()
            logger.info("welcomed", metadata: ["session": "\(w.session)", "pending": "\(w.pending)"])
            onWelcome?(w)
            // Whatever was unanswered may have been lost with the old session: send it again.
            let now = MusterClient.clock()
            for (id, entry) in inFlight.sorted(by: { $0.value.sentAt < $1.value.sentAt }) where raw(entry.queued.command, entry.queued.body) {
                inFlight[id]?.sentAt = now
            }
        case .heartbeat:
            break
        case .dispatch, .notice, .summon, .event:
            guard let d = try? JSONDecoder().decode(DeliveryOnly.self, from: Data(body)) else {
                logger.warning("push without delivery id", metadata: ["command": "\(command.rawValue)"])
                return
            }
            if seen.contains(d.delivery) {
                toAcknowledge.append(d.delivery)
            } else if handling.insert(d.delivery).inserted {
                startHandler(command, body, delivery: d.delivery)
            }
        case .ok, .accepted, .result, .error:
            let re = (try? JSONDecoder().decode(ReplyHeader.self, from: Data(body)))?.re
            if command == .error, let e = try? JSONDecoder().decode(ErrorBody.self, from: Data(body)) {
                if e.code == .notRegistered {
                    // The broker lost our session (it restarted): register again, then resend.
                    welcomedFlag.store(false, ordering: .releasing)
                    sendHello()
                    return
                }
                if re == helloID {
                    logger.error("HELLO refused", metadata: ["code": "\(e.code.rawValue)", "message": "\(e.message)"])
                    scheduleReconnect()
                    return
                }
            }
            guard let re, let entry = inFlight.removeValue(forKey: re) else { return }
            entry.queued.completion(Reply(command: command, body: body))
        default:
            logger.warning("unexpected command from broker", metadata: ["command": "\(command.rawValue)"])
        }
    }

    /// Runs the push handler until it succeeds, backing off between failures; then hands the
    /// delivery to the client thread to acknowledge.
    private func startHandler(_ command: Command, _ body: [UInt8], delivery: String) {
        let onPush = onPush, logger = logger, options = options
        logger.debug("push received; handing it over", metadata: ["command": "\(command.rawValue)", "delivery": "\(delivery)"])
        Task { [weak self] in
            var backoff = Backoff(initial: options.backoffInitial, maximum: max(options.backoffMax, 1))
            while true {
                do {
                    try await onPush(command, body)
                    break
                } catch {
                    let delay = backoff.next()
                    logger.warning("push handler failed; the push stays unreceived and is retried", metadata: [
                        "command": "\(command.rawValue)", "delivery": "\(delivery)", "error": "\(error)",
                        "retry_in_s": "\(String(format: "%.2f", delay))"])
                    try? await Task.sleep(nanoseconds: UInt64(delay * 1e9))
                    guard let self, !self.stopFlag.load(ordering: .acquiring) else { return }
                }
            }
            guard let self else { return }
            self.handled.withLock { $0.append(delivery) }
            self.wake.signal()
        }
    }

    private func takeHandled() {
        let done = handled.withLock { h -> [String] in let done = h; h.removeAll(keepingCapacity: true); return done }
        for d in done {
            handling.remove(d)
            seen.insert(d)
            toAcknowledge.append(d)
        }
    }

    private func flushReceived() {
        guard !toAcknowledge.isEmpty, isWelcomed else { return }
        var w = JSONWriter()
        w.field("deliveries", toAcknowledge)
        if raw(.received, w.finish()) { toAcknowledge.removeAll(keepingCapacity: true) }
    }

    private func timers() {
        let now = MusterClient.clock()
        if !isWelcomed {
            if now - helloSentAt > max(2000, heartbeatMs) { scheduleReconnect() }
            return
        }
        if now - lastHeard > 3 * heartbeatMs {
            logger.warning("broker silent for 3 heartbeats")
            scheduleReconnect()
            return
        }
        if now - lastSent >= heartbeatMs { raw(.heartbeat, Array("{}".utf8)) }
        let retryMs = options.retryAfter * 1000
        for (id, entry) in inFlight where now - entry.sentAt >= retryMs {
            if raw(entry.queued.command, entry.queued.body) { inFlight[id]?.sentAt = now }
        }
    }
}
