import Foundation
import Logging
import MusterAdapterKit
import MusterConfig
import MusterWire
import Synchronization
import WebLogin

/// The operators of config/web.yaml acting from the screen. Each logged-in operator acts through
/// a MUSTER/1 session of their own — adapter `ops-screen-LOGIN`, role `ops`, the screen's key —
/// so every act is an ordinary request, logged by the broker under that operator's name and
/// checked by it like any other; the screen adds only who may try what (`may`).
public final class OperatorDesk: Sendable {
    public let config: WebConfig
    public let sessions: LoginSessions
    let base: MusterClient.Options
    let logger: Logger

    public static let cookie = "muster_operator"

    public init(config: WebConfig, base: MusterClient.Options, logger: Logger) {
        self.config = config
        self.base = base
        self.logger = logger
        sessions = LoginSessions(hours: config.sessionHours)
    }

    public enum LoginOutcome: Sendable { case welcome(WebConfig.Operator), refused, tooMany }

    /// Wrong passwords kept per login for `lockout`: past `maxFailures`, no hash is even tried.
    private let failures = Mutex<[String: [Date]]>([:])
    static let maxFailures = 5
    static let lockout: TimeInterval = 600

    /// The operator whose password this is. An unknown login costs the same hashing; the
    /// hashing (PBKDF2, ~0.2 s) runs on a thread of its own, not on the server's few; five wrong
    /// passwords for a login in ten minutes refuse it until they age out.
    public func login(_ login: String, _ password: String, now: Date = Date()) async -> LoginOutcome {
        let recent = failures.withLock { f -> Int in
            f[login] = (f[login] ?? []).filter { now.timeIntervalSince($0) < Self.lockout }
            return f[login]!.count
        }
        if recent >= Self.maxFailures {
            logger.warning("screen: login locked out", metadata: ["login": "\(login)"])
            return .tooMany
        }
        let op = config.operatorNamed(login)
        let hash = op?.password ?? PasswordHash.decoy
        let ok = await withCheckedContinuation { (done: CheckedContinuation<Bool, Never>) in
            DispatchQueue.global().async { done.resume(returning: hash.matches(password)) }
        }
        guard let op, ok else {
            failures.withLock { $0[login, default: []].append(now) }
            logger.notice("screen: login refused", metadata: ["login": "\(login)"])
            return .refused
        }
        failures.withLock { $0[login] = nil }
        logger.info("screen: login", metadata: ["login": "\(login)"])
        return .welcome(op)
    }

    public func operatorOf(token: String?) -> WebConfig.Operator? {
        token.flatMap { sessions.login(of: $0) }.flatMap(config.operatorNamed)
    }

    /// A session of the operator's own for one request: started, used, ended (BYE). It takes
    /// no push: one sent to it (a NOTICE for role ops) is never acknowledged, so the broker gives
    /// it back to the queue when the session ends, for the centre's consoles.
    func session<T: Sendable>(_ op: WebConfig.Operator, _ body: (MusterClient) async -> T) async -> T {
        var options = base
        options.adapter = "ops-screen-\(op.login)"
        options.roles = [.ops]
        options.window = 1
        let client = MusterClient(options, logger: logger) { _, _ in throw NotForThisSession() }
        client.start()
        let result = await body(client)
        await client.stopAndWait()
        return result
    }

    struct NotForThisSession: Error {}

    /// One act as `op`, under `id` (the form's own: sent again, it is answered the same and
    /// applied once); the broker's reply, or nil if it did not answer in time.
    public func act(_ op: WebConfig.Operator, id: String, _ command: Command, _ fill: @escaping (inout JSONWriter) -> Void) async -> MusterClient.Reply? {
        let reply = await session(op) { await $0.request(command, id: id, timeout: 10, fill) }
        logger.info("screen: operator act", metadata: ["login": "\(op.login)", "command": "\(command.rawValue)", "id": "\(id)",
                                                        "answer": "\(reply?.command.rawValue ?? "none")"])
        return reply
    }

    /// A QUERY as `op` (what only role ops may ask: cases by the reporter's phone).
    public func query(_ op: WebConfig.Operator, _ what: String, _ fill: @escaping (inout JSONWriter) -> Void) async -> MusterClient.Reply? {
        await session(op) { await $0.request(.query, timeout: 10) { w in w.field("what", what); fill(&w) } }
    }

}
