import Foundation
import MusterWire
import Synchronization

/// The live feed: the last `capacity` events of the log as the screen shows them (`FeedLine`),
/// in log order, and the pages listening. A page that reconnects names the last seq it showed
/// (`Last-Event-ID`) and gets what it missed from here — or, when that is older than what is
/// kept, a `gap` telling it to reload its counts (which come from QUERY, not from the feed).
public final class EventFeed: Sendable {
    public let capacity: Int
    let names: Names?
    private let state = Mutex(State())

    struct State {
        var lines: [FeedLine] = []
        var seen: Int64?
        /// Each listening page, and the last seq it had: it is sent only what is newer.
        var pages: [UUID: (continuation: AsyncStream<FeedLine>.Continuation, after: Int64)] = [:]
        var closed = false
    }

    public init(capacity: Int = 2000, names: Names? = nil) { self.capacity = capacity; self.names = names }

    /// The last event of the log seen (shown or not): where a new subscription resumes.
    public var lastSeq: Int64? { state.withLock { $0.seen } }

    /// An EVENT's body. Events come in log order except at a start, when the backlog replayed
    /// may follow the first live ones: each is put in its place, once; only one newer than all
    /// goes to the pages listening.
    public func append(_ body: [UInt8]) {
        guard let e = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any],
              let seq = (e["seq"] as? NSNumber)?.int64Value else { return }
        state.withLock { s in s.seen = max(s.seen ?? 0, seq) }
        guard let line = FeedLine(event: e, names: names) else { return }
        state.withLock { s in
            if let last = s.lines.last, line.seq <= last.seq {
                let at = s.lines.partitioningIndex { $0.seq >= line.seq }
                if at < s.lines.count, s.lines[at].seq == line.seq { return }
                s.lines.insert(line, at: at)
            } else {
                s.lines.append(line)
                for page in s.pages.values where line.seq > page.after { page.continuation.yield(line) }
            }
            if s.lines.count > capacity { s.lines.removeFirst(s.lines.count - capacity) }
        }
    }

    /// What a page missed since `after` (nil: the last `recent`), whether that reaches back to
    /// `after` (false: some were dropped from memory), and its stream of what comes next —
    /// taken together, so that nothing falls between the two.
    public func listen(after: Int64?, recent: Int = 30) -> Listening {
        let (stream, continuation) = AsyncStream<FeedLine>.makeStream(bufferingPolicy: .bufferingNewest(512))
        let id = UUID()
        let (missed, complete): ([FeedLine], Bool) = state.withLock { s in
            let shown = Array(s.lines.suffix(recent))
            let missed = after.map { a in s.lines.filter { $0.seq > a } } ?? shown
            let newest = missed.last?.seq ?? after ?? s.lines.last?.seq ?? 0
            if s.closed { continuation.finish() } else { s.pages[id] = (continuation, newest) }
            guard let after else { return (shown, true) }
            // Complete only if what is held reaches back to it: not before the first events came
            // (a restarted web), nor when older ones have been dropped.
            return (missed, s.seen != nil && after >= (s.lines.first?.seq ?? (s.seen ?? 0) + 1) - 1)
        }
        let stop: @Sendable () -> Void = { [weak self] in
            _ = self?.state.withLock { $0.pages.removeValue(forKey: id) }
            continuation.finish()
        }
        return Listening(missed: missed, complete: complete, stream: stream, stop: stop,
                         beat: { continuation.yield(FeedLine(seq: -1, at: "", type: "", subject: "", text: "")) })
    }

    /// One page's listening: what it missed, its stream, how to end it, and its keep-alive
    /// (a line with seq −1 in its own stream, written as a comment).
    public struct Listening: Sendable {
        public var missed: [FeedLine]
        public var complete: Bool
        public var stream: AsyncStream<FeedLine>
        public var stop: @Sendable () -> Void
        public var beat: @Sendable () -> Void
    }

    /// The most recent lines, newest last.
    public func recent(_ n: Int) -> [FeedLine] { state.withLock { Array($0.lines.suffix(n)) } }

    public func close() {
        state.withLock { s in
            s.closed = true
            for page in s.pages.values { page.continuation.finish() }
            s.pages = [:]
        }
    }
}
