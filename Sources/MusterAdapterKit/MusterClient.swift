import Foundation
import Logging
import MusterWire
import Synchronization
import ZeroMQ

/// A MUSTER/1 peer: connects a DEALER, says HELLO, keeps heartbeats, reconnects with back-off
/// and jitter, retries each request with the same id until it is answered, drops repeated
/// pushes and acknowledges them with RECEIVED. The rules are `ClientSession`'s (a state
/// machine, tested without sockets); this is its shell: the socket lives on the client's own
/// thread, other threads hand it requests through a queue and a wake-up pipe, push handlers
/// run as tasks.
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
    private var session: ClientSession
    private var socket: Socket?
    private var reconnectAt = 0.0
    /// Who waits for each request in flight (the session keeps the request itself).
    private var completions: [String: [@Sendable (Reply) -> Void]] = [:]

    /// Told of each new push on the client's thread, in the order they came, before its handler
    /// runs (handlers run concurrently): where order matters, e.g. an events cursor.
    private let onArrival: (@Sendable (Command, [UInt8]) -> Void)?

    public init(_ options: Options, logger: Logger, onWelcome: (@Sendable (Welcome) -> Void)? = nil,
                onArrival: (@Sendable (Command, [UInt8]) -> Void)? = nil, onPush: @escaping PushHandler) {
        self.options = options
        self.logger = logger
        self.onPush = onPush
        self.onWelcome = onWelcome
        self.onArrival = onArrival
        // Time-based prefix: ids stay unique for this adapter across restarts.
        idPrefix = String(Int64(Date().timeIntervalSince1970 * 1000), radix: 36)
        session = ClientSession(options: options, idPrefix: idPrefix)
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
            // A message may have ended the connection (HELLO refused): its timers wait.
            if self.socket != nil { apply(.tick(now: MusterClient.clock())) }
        }
        apply(.stop)
        // The BYE just queued must leave before the socket goes (sockets linger 0 by default):
        // else the broker keeps sending to this session until it misses three heartbeats.
        try? socket?.setLinger(ms: 500)
        socket?.close()
        socket = nil
        ended.signal()
    }

    /// Feeds the session one event and performs what it decides, in order.
    private func apply(_ event: ClientSession.Event) {
        let actions = session.handle(event)
        welcomedFlag.store(session.isWelcomed, ordering: .releasing)
        for action in actions { perform(action) }
    }

    private func perform(_ action: ClientSession.Action) {
        switch action {
        case .send(let out):
            if !send(out) { _ = session.handle(.notSent(out)) }
        case .handOver(let command, let body, let delivery):
            onArrival?(command, body)
            startHandler(command, body, delivery: delivery)
        case .complete(let id, let reply):
            completions.removeValue(forKey: id)?.forEach { $0(reply) }
        case .welcomed(let w):
            logger.info("welcomed", metadata: ["session": "\(w.session)", "pending": "\(w.pending)"])
            onWelcome?(w)
        case .reconnect(let delay):
            socket?.close()
            socket = nil
            reconnectAt = MusterClient.clock() + delay * 1000
            logger.info("reconnecting", metadata: ["in_s": "\(String(format: "%.2f", delay))"])
        case .log(let note):
            switch note {
            case .malformed(let frames): logger.warning("malformed message from broker", metadata: ["frames": "\(frames)"])
            case .unreadable(let command): logger.warning("unreadable body from broker", metadata: ["command": "\(command.rawValue)"])
            case .unexpected(let command): logger.warning("unexpected command from broker", metadata: ["command": "\(command.rawValue)"])
            case .helloRefused(let code, let message): logger.error("HELLO refused", metadata: ["code": "\(code.rawValue)", "message": "\(message)"])
            case .brokerSilent: logger.warning("broker silent for 3 heartbeats")
            }
        }
    }

    private func connect() {
        do {
            let s = try Socket(.dealer)
            if let c = options.curve { try s.setCurveClient(serverKey: c.serverKey, keys: c.keys) }
            try s.setHighWaterMarks(send: 100_000, receive: 100_000)
            try s.connect(options.endpoint)
            socket = s
            apply(.connected(now: MusterClient.clock()))
        } catch {
            logger.warning("connect failed", metadata: ["endpoint": "\(options.endpoint)", "error": "\(error)"])
            apply(.connectFailed)
        }
    }

    /// False if the message could not be queued on the socket (no socket, queue full, error).
    private func send(_ out: ClientSession.Outgoing) -> Bool {
        guard let socket else { return false }
        do {
            return try socket.send(Envelope(out.command, body: out.body).frames, dontWait: true)
        } catch {
            logger.warning("send failed", metadata: ["error": "\(error)"])
            return false
        }
    }

    private func takeQueued() {
        let items = queue.withLock { q -> [Queued] in let items = q; q.removeAll(keepingCapacity: true); return items }
        guard !items.isEmpty else { return }
        let now = MusterClient.clock()
        for q in items {
            completions[q.id, default: []].append(q.completion)
            apply(.submitted(id: q.id, q.command, q.body, now: now))
        }
    }

    private func takeHandled() {
        let done = handled.withLock { h -> [String] in let done = h; h.removeAll(keepingCapacity: true); return done }
        for d in done { apply(.handled(delivery: d)) }
    }

    private func drainSocket() {
        var count = 0
        while count < 10_000, let socket, let frames = try? socket.receive(dontWait: true) {
            count += 1
            apply(.received(frames, now: MusterClient.clock()))
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
}
