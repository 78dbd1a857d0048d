import Foundation
import Synchronization
import WebLogin

/// What the pages and the plugin share for the adapter's life: the inbox (opened on first use,
/// so that `muster check-config` making the plugin creates no file), the seats' sessions and
/// the live feed of changes.
final class Desk: Sendable {
    let settings: ConsoleSettings
    let department: String
    let sessions: LoginSessions
    let live = LiveFeed()
    private let opened = Mutex<Inbox?>(nil)

    init(settings: ConsoleSettings, department: String) {
        self.settings = settings
        self.department = department
        sessions = LoginSessions(hours: settings.sessionHours)
    }

    func inbox() throws -> Inbox {
        try opened.withLock { box in
            if let box { return box }
            let i = try Inbox(path: settings.inboxPath)
            box = i
            return i
        }
    }

    func seat(_ login: String) -> ConsoleSettings.Seat? { settings.seats.first { $0.login == login } }
}

/// Server-sent events to every open page: one line of JSON per change (`{"seq":…,"change":"new"}`).
final class LiveFeed: Sendable {
    private struct State {
        var closed = false
        var pages: [UUID: AsyncStream<String>.Continuation] = [:]
    }
    private let state = Mutex(State())

    /// A page's stream, and its continuation (for the page's own keep-alive comments).
    func subscribe() -> (AsyncStream<String>, AsyncStream<String>.Continuation) {
        let (stream, continuation) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingNewest(64))
        let id = UUID()
        let closed = state.withLock { s in
            if !s.closed { s.pages[id] = continuation }
            return s.closed
        }
        if closed { continuation.finish() }
        continuation.onTermination = { [weak self] _ in _ = self?.state.withLock { $0.pages.removeValue(forKey: id) } }
        return (stream, continuation)
    }

    func publish(seq: Int64, change: String) {
        let line = "{\"seq\":\(seq),\"change\":\"\(change)\"}"
        for c in state.withLock({ Array($0.pages.values) }) { c.yield(line) }
    }

    var pages: Int { state.withLock { $0.pages.count } }

    /// The adapter stops: every stream ends, so the server's shutdown waits for none.
    func close() {
        let all = state.withLock { s in
            s.closed = true
            defer { s.pages = [:] }
            return Array(s.pages.values)
        }
        for c in all { c.finish() }
    }
}
