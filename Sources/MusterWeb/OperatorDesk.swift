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
    private let clients = Mutex<[String: MusterClient]>([:])

    public static let cookie = "muster_operator"

    public init(config: WebConfig, base: MusterClient.Options, logger: Logger) {
        self.config = config
        self.base = base
        self.logger = logger
        sessions = LoginSessions(hours: config.sessionHours)
    }

    /// The operator whose password this is, or nil (an unknown login costs the same hashing).
    public func login(_ login: String, _ password: String) -> WebConfig.Operator? {
        let op = config.operatorNamed(login)
        let ok = (op?.password ?? PasswordHash.decoy).matches(password)
        guard let op, ok else {
            logger.notice("screen: login refused", metadata: ["login": "\(login)"])
            return nil
        }
        logger.info("screen: login", metadata: ["login": "\(login)"])
        return op
    }

    public func operatorOf(token: String?) -> WebConfig.Operator? {
        token.flatMap { sessions.login(of: $0) }.flatMap(config.operatorNamed)
    }

    /// The operator's own session (started on first use, kept while the web runs).
    func client(_ op: WebConfig.Operator) -> MusterClient {
        clients.withLock { c in
            if let existing = c[op.login] { return existing }
            var options = base
            options.adapter = "ops-screen-\(op.login)"
            options.roles = [.ops]
            let client = MusterClient(options, logger: logger) { _, _ in }
            client.start()
            c[op.login] = client
            return client
        }
    }

    /// One act as `op`: the broker's reply, or nil if it did not answer in time.
    public func act(_ op: WebConfig.Operator, _ command: Command, _ fill: @escaping (inout JSONWriter) -> Void) async -> MusterClient.Reply? {
        let reply = await client(op).request(command, timeout: 10, fill)
        logger.info("screen: operator act", metadata: ["login": "\(op.login)", "command": "\(command.rawValue)",
                                                        "answer": "\(reply?.command.rawValue ?? "none")"])
        return reply
    }

    /// A QUERY as `op` (what only role ops may ask: cases by the reporter's phone).
    public func query(_ op: WebConfig.Operator, _ what: String, _ fill: @escaping (inout JSONWriter) -> Void) async -> MusterClient.Reply? {
        await client(op).request(.query, timeout: 10) { w in w.field("what", what); fill(&w) }
    }

    public func stop() async {
        for c in clients.withLock({ Array($0.values) }) { await c.stopAndWait() }
    }
}
