import Foundation
import Synchronization

/// What the pages and the plugin share for the adapter's life: the inbox (opened on first use,
/// so that `muster check-config` making the plugin creates no file), the seats' sessions and
/// the live feed of changes.
final class Desk: Sendable {
    let settings: ConsoleSettings
    let department: String
    let sessions: Sessions
    let live = LiveFeed()
    private let opened = Mutex<Inbox?>(nil)

    init(settings: ConsoleSettings, department: String) {
        self.settings = settings
        self.department = department
        sessions = Sessions(hours: settings.sessionHours)
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

/// Logged-in seats by a random token (the HttpOnly cookie). Kept in memory: a restart of the
/// adapter means logging in again.
final class Sessions: Sendable {
    private let hours: Double
    private let tokens = Mutex<[String: (login: String, expires: Date)]>([:])

    init(hours: Double) { self.hours = hours }

    func open(_ login: String, now: Date = Date()) -> String {
        var rng = SystemRandomNumberGenerator()  // getrandom(2): a CSPRNG
        let token = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &rng)) }.joined()
        tokens.withLock { t in
            t = t.filter { $0.value.expires > now }
            t[token] = (login, now.addingTimeInterval(hours * 3600))
        }
        return token
    }

    func login(of token: String, now: Date = Date()) -> String? {
        tokens.withLock { t in
            guard let s = t[token] else { return nil }
            guard s.expires > now else { t[token] = nil; return nil }
            return s.login
        }
    }

    func close(_ token: String) { _ = tokens.withLock { $0.removeValue(forKey: token) } }

    var maxAge: Int { Int(hours * 3600) }
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
