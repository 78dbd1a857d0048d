import Foundation
import Logging
import MusterAdapterKit
import MusterWire
import Synchronization

/// `muster web`'s one MUSTER/1 session: a peer with the monitor role that QUERYs for what the
/// screen shows and SUBSCRIBEs to the event log for its live feed. The broker gains no HTTP
/// code: the web is a peer like any other, and shows only what a monitor may see.
public final class BrokerLink: Sendable {
    public let client: MusterClient
    let feed: EventFeed
    let logger: Logger
    /// How many events before the head a fresh start shows in its feed.
    let backlog: Int64
    /// Set by each WELCOME, cleared by a QUERY that timed out: what /readyz and the screen's health show.
    private let state = Mutex(LinkState())

    struct LinkState {
        var lastAnswerAt: Date?
        var lastRoundTrip: Double?
        var failing = false
    }

    public init(options: MusterClient.Options, feed: EventFeed, logger: Logger, backlog: Int64 = 500) {
        self.feed = feed
        self.logger = logger
        self.backlog = backlog
        let box = Mutex<BrokerLink?>(nil)
        client = MusterClient(options, logger: logger, onWelcome: { _ in
            box.withLock { $0 }?.welcomed()
        }, onArrival: { command, body in
            // In arrival order, on the client's thread: the feed keeps the log's order.
            if command == .event { feed.append(body) }
        }, onPush: { _, _ in })
        box.withLock { $0 = self }
    }

    public func start() { client.start() }
    public func stop() async { await client.stopAndWait() }

    /// After each WELCOME: subscribe again from the last event the feed holds; the first time,
    /// from `backlog` events before the head (a SUBSCRIBE from now tells the head).
    func welcomed() {
        state.withLock { $0.failing = false }
        let link = self
        Task {
            var after = link.feed.lastSeq
            if after == nil {
                let now = await link.client.request(.subscribe) { _ in }
                let head = (now.json()["head"] as? NSNumber)?.int64Value ?? 0
                after = max(0, head - link.backlog)
            }
            let reply = await link.client.request(.subscribe) { w in w.field("after", after ?? 0) }
            link.logger.info("subscribed to the event log", metadata: ["after": "\(after ?? 0)", "head": "\(reply.json()["head"] ?? "-")"])
        }
    }

    /// The reply to a QUERY, or nil when the broker did not answer within `timeout` seconds (it
    /// is down, or the session is not welcomed): the screen then says so instead of hanging.
    public func query(_ what: String, timeout: Double = 5, _ fill: @escaping (inout JSONWriter) -> Void = { _ in }) async -> MusterClient.Reply? {
        // Not welcomed (the broker is down): say so now rather than leave a query queued in the
        // client, to be resent with every other page's when the broker is back.
        guard client.isWelcomed else {
            state.withLock { $0.failing = true }
            return nil
        }
        let started = Date()
        let reply = await client.request(.query, timeout: timeout) { w in w.field("what", what); fill(&w) }
        state.withLock { s in
            if reply != nil { s.lastAnswerAt = Date(); s.lastRoundTrip = Date().timeIntervalSince(started); s.failing = false } else { s.failing = true }
        }
        return reply
    }

    /// The session as /readyz and the screen show it.
    public struct Health: Sendable {
        public var connected: Bool
        public var answering: Bool
        public var roundTripMs: Double?
        public var eventSeq: Int64?
    }

    public var health: Health {
        let s = state.withLock { $0 }
        return Health(connected: client.isWelcomed, answering: !s.failing && s.lastAnswerAt != nil,
                      roundTripMs: s.lastRoundTrip.map { $0 * 1000 }, eventSeq: feed.lastSeq)
    }
}
