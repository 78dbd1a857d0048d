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

    public let client: MusterClient
    public let queue: ActQueue
    private let plugin: any DepartmentPlugin
    private let logger: Logger
    private let updates = Mutex<Task<Void, Never>?>(nil)

    /// The downstream refused a push: the push is acknowledged after this.
    struct RetryLater: Error { var after: Double? }

    public init(_ options: MusterClient.Options, plugin: any DepartmentPlugin, queue: ActQueue, logger: Logger) {
        self.plugin = plugin
        self.queue = queue
        self.logger = logger
        let box = SinkBox()
        client = MusterClient(options, logger: logger) { command, body in
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
    }

    public func stop() {
        updates.withLock { $0?.cancel() }
        client.stop()
    }

    /// Stops, once the client has said BYE.
    public func stopAndWait() async {
        updates.withLock { $0?.cancel() }
        await client.stopAndWait()
    }

    /// `ActSink`: durable once this returns; the broker's answer comes later.
    public func send(_ act: Act) async throws {
        guard try queue.enqueue(act) else { return }  // the same update again: one act
        send(id: act.id, command: act.command, body: act.body)
    }

    private func send(id: String, command: Command, body: [UInt8]) {
        client.request(command, id: id, body: body) { [queue, logger] reply in
            // The client resends until some answer comes; `unavailable` and `rate_limited` say
            // nothing was applied, so the act stays queued for the next start. Any other answer
            // is final (an ERROR such as invalid_transition would be the same again).
            if let e = reply.error, e.code == .unavailable || e.code == .rateLimited {
                logger.warning("act not applied yet; sent again at the next start", metadata: ["id": "\(id)", "code": "\(e.code.rawValue)"])
                return
            }
            if let e = reply.error { logger.warning("act refused", metadata: ["id": "\(id)", "code": "\(e.code.rawValue)", "message": "\(e.message)"]) }
            do { try queue.answered(id) } catch {
                logger.error("cannot mark an act answered", metadata: ["id": "\(id)", "error": "\(error)"])
            }
        }
    }

    /// A push: to the plugin if it takes that command. Throwing leaves it unacknowledged; the
    /// client offers it again after a back-off (and the broker redelivers it if we die).
    func take(_ command: Command, _ body: [UInt8]) async throws {
        guard plugin.handles.contains(command) else { return }
        let head = try JSONDecoder().decode(PushHead.self, from: Data(body))
        let push = Push(command: command, delivery: head.delivery, body: body, dispatchID: head.dispatchID)
        switch await plugin.deliver(push) {
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

    private struct PushHead: Decodable {
        var delivery: String
        var dispatchID: String?
        enum CodingKeys: String, CodingKey { case delivery, dispatchID = "dispatch_id" }
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
