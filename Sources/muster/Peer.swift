import Foundation
import MusterAdapterKit
import MusterCore
import MusterWire
import ZeroMQ

/// A reply to the CLI's one request: `OK`, `ACCEPTED` or `RESULT` (an `ERROR` is thrown).
struct CLIReply: Sendable {
    let command: Command
    let body: [UInt8]
    func json() -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:]
    }
}

/// The CLI is a peer like any other: it connects, says HELLO, sends one request, prints. Unlike
/// an adapter it does not retry in silence: each way this can fail ends the command at once with
/// its own message and exit code (`Failure`):
///
/// 1. before connecting, the request's size (the broker's 1 MiB limit) and the key files;
/// 2. a TCP probe of the endpoint (`ZMTPProbe`): nothing listening, or a broker whose greeting
///    announces the other security mechanism (CURVE vs `--insecure`);
/// 3. the ZeroMQ handshake, watched with a socket monitor: ZAP refused our key
///    (`HANDSHAKE_FAILED_AUTH`), a protocol failure, or a broker that keeps dropping the
///    CURVE handshake (its public key is not the one we hold);
/// 4. HELLO and the request: every ERROR code maps to one exit code per class.
struct Peer {
    let options: PeerOptions
    let roles: [Role]
    let curve: MusterClient.Options.Curve?

    /// Messages over this lose the connection instead of an ERROR (PROTOCOL.md, Transport).
    static let brokerHardLimit = Envelope.hardMessageBytes

    init(_ options: PeerOptions, roles: [Role]) throws {
        self.options = options
        self.roles = roles
        curve = try options.curve()
    }

    func request(_ command: Command, _ fill: @escaping @Sendable (inout JSONWriter) -> Void) async throws -> CLIReply {
        let id = "cli-\(String(Int64(Date().timeIntervalSince1970 * 1000), radix: 36))-\(getpid())"
        var w = JSONWriter()
        w.field("id", id)
        fill(&w)
        let body = w.finish()
        try Peer.checkSize(command, body)
        var exchange = Exchange(peer: self, command: command, requestID: id, body: body)
        return try exchange.run()
    }

    static func checkSize(_ command: Command, _ body: [UInt8]) throws {
        let size = Envelope.versionBytes.count + command.rawValue.utf8.count + body.count
        guard size > Envelope.maxMessageBytes else { return }
        throw CLIFailure(.tooLarge, """
            the \(command.rawValue) request is \(grouped(size)) bytes (\(mib(size))); the broker accepts at most \
            \(grouped(Envelope.maxMessageBytes)) bytes (1 MiB) per message, answers too_large up to \(mib(brokerHardLimit)) \
            and drops the connection beyond. Nothing was sent: shorten the text, or give large content as attachment URLs.
            """)
    }

    var fingerprint: String { curve.map { String($0.keys.publicKey.prefix(8)) } ?? "" }

    /// "data/keys/operator.key (fingerprint rq:rM>}U)", as the broker's log names refused keys.
    var keyDescription: String { "\(options.key) (fingerprint \(fingerprint))" }

    var adapterName: String { "cli-\(ProcessInfo.processInfo.hostName)-\(getpid())" }
}

/// One connection, one HELLO, one request.
private struct Exchange {
    let peer: Peer
    let command: Command
    let requestID: String
    let body: [UInt8]
    var endpoint: String { peer.options.endpoint }

    var helloIDs: [String] = []
    var handshakes = 0
    var droppedHandshakes = 0
    var welcomed = false
    var requestSent = false
    var heartbeatMs = 5000.0
    var lastSent = Date()

    init(peer: Peer, command: Command, requestID: String, body: [UInt8]) {
        self.peer = peer; self.command = command; self.requestID = requestID; self.body = body
    }

    mutating func run() throws -> CLIReply {
        let timeout = peer.options.timeout
        try probe(timeout: min(3, timeout))
        let socket: Socket, monitor: SocketMonitor
        do {
            socket = try Socket(.dealer)
            monitor = try SocketMonitor(socket)
            if let c = peer.curve { try socket.setCurveClient(serverKey: c.serverKey, keys: c.keys) }
            try socket.connect(endpoint)
        } catch {
            throw CLIFailure(.other, "cannot connect a ZeroMQ socket to \(endpoint): \(error)")
        }
        defer {
            if welcomed { _ = try? socket.send(Envelope(.bye, body: Array("{}".utf8)).frames, dontWait: true) }
            try? socket.setLinger(ms: 200)
            monitor.close()
            socket.close()
        }
        try hello(socket)
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let left = Int(max(1, min(100, deadline.timeIntervalSinceNow * 1000)))
            _ = socket.waitReadable(timeoutMs: left, orMonitor: monitor)
            while let event = monitor.next() { try handle(event, socket) }
            while let frames = try? socket.receive(dontWait: true) {
                if let reply = try handle(frames, socket) { return reply }
            }
            if welcomed, Date().timeIntervalSince(lastSent) * 1000 >= heartbeatMs / 2 {
                send(socket, .heartbeat, Array("{}".utf8))
            }
        }
        // Say what we know: did the broker go away, or is it just slow?
        if let (host, port) = ZMTPProbe.tcpAddress(endpoint), case .refused = ZMTPProbe.probe(host: host, port: port, timeout: 1) {
            throw CLIFailure(.unreachable, "the broker at \(endpoint) went away: nothing is listening on \(host):\(port) any more (connection refused)")
        }
        if handshakes == 0 {
            throw CLIFailure(.noAnswer, "connected to \(endpoint), but the ZeroMQ handshake did not complete within \(seconds(timeout)): is that a Muster broker?")
        }
        let what = welcomed ? "the \(command.rawValue) request" : "HELLO"
        throw CLIFailure(.noAnswer, "the broker at \(endpoint) did not answer \(what) within \(seconds(timeout)) (--timeout); it may be overloaded — it may or may not have been applied: check with muster case / muster cases before running it again (a new run is a new request)")
    }

    // MARK: before ZeroMQ

    private func probe(timeout: Double) throws {
        guard let (host, port) = ZMTPProbe.tcpAddress(endpoint) else { return }
        switch ZMTPProbe.probe(host: host, port: port, timeout: timeout) {
        case .refused:
            throw CLIFailure(.unreachable, """
                cannot reach the broker at \(endpoint): nothing is listening on \(host):\(port) (connection refused). \
                Start it (make run, or muster broker --config config/muster.yaml), or give the right --endpoint (MUSTER_ENDPOINT).
                """)
        case .unreachable(let why):
            throw CLIFailure(.unreachable, "cannot reach the broker at \(endpoint): \(why). Check the host and --endpoint (MUSTER_ENDPOINT).")
        case .notZMTP:
            throw CLIFailure(.handshakeMismatch, "something is listening on \(host):\(port), but it does not speak ZeroMQ (no ZMTP 3 greeting): is \(endpoint) the broker's endpoint?")
        case .zmtp(let mechanism):
            if mechanism == "CURVE", peer.curve == nil { throw insecureAgainstCurve() }
            if mechanism == "NULL", peer.curve != nil { throw curveAgainstInsecure() }
            if mechanism != "CURVE", mechanism != "NULL" {
                throw CLIFailure(.handshakeMismatch, "the peer at \(endpoint) uses the ZeroMQ security mechanism \(mechanism); a Muster broker uses CURVE (or none with --insecure)")
            }
        }
    }

    private func insecureAgainstCurve() -> CLIFailure {
        CLIFailure(.handshakeMismatch, """
            security mismatch: the broker at \(endpoint) requires CURVE (it runs with its config's security section), \
            but this command was run with --insecure (plain TCP). Leave out --insecure and use the operator's key files \
            (--server-key data/keys/broker.pub --key data/keys/operator.key, the defaults; or MUSTER_SERVER_KEY/MUSTER_KEY).
            """)
    }

    private func curveAgainstInsecure() -> CLIFailure {
        CLIFailure(.handshakeMismatch, """
            security mismatch: the broker at \(endpoint) runs without CURVE (it was started with --insecure), but this \
            command uses CURVE (key \(peer.keyDescription)). Add --insecure to talk to this broker, or restart the \
            broker without --insecure.
            """)
    }

    // MARK: handshake

    private mutating func handle(_ event: SocketMonitor.Event, _ socket: Socket) throws {
        switch event.kind {
        case .handshakeSucceeded:
            handshakes += 1
            droppedHandshakes = 0
            // A new connection after a lost one: the old session is gone; register again.
            if handshakes > 1 { welcomed = false; requestSent = false; try hello(socket) }
        case .handshakeFailedAuth:
            throw CLIFailure(.keyRefused, """
                the broker at \(endpoint) refused this CLI's key: \(peer.keyDescription) is not admitted \
                (ZAP status \(event.value)). The broker logs it as "refused an unknown CURVE key fingerprint=\(peer.fingerprint)…". \
                Use a key listed in the broker's peers.yaml (the operator's is data/keys/operator.key), or have the \
                administrator add this key's .pub there and run muster keys reload.
                """)
        case .handshakeFailedProtocol where event.isMechanismMismatch:
            throw peer.curve == nil ? insecureAgainstCurve() : curveAgainstInsecure()
        case .handshakeFailedProtocol where event.isCryptographic:
            throw wrongServerKey()
        case .handshakeFailedProtocol:
            throw CLIFailure(.handshakeMismatch, "the ZeroMQ handshake with \(endpoint) failed (ZMTP protocol error 0x\(String(event.value, radix: 16))): is that a Muster broker?")
        case .handshakeFailedNoDetail:
            // The broker hung up mid-handshake. Once can be a restart; twice in a row, with the
            // mechanisms matching (the probe saw to that), is a CURVE box it could not open.
            droppedHandshakes += 1
            if droppedHandshakes >= 2 {
                throw peer.curve != nil ? wrongServerKey()
                    : CLIFailure(.handshakeMismatch, "the broker at \(endpoint) keeps dropping the connection during the handshake")
            }
        default:
            break
        }
    }

    private func wrongServerKey() -> CLIFailure {
        CLIFailure(.handshakeMismatch, """
            the CURVE handshake with \(endpoint) failed: the broker could not read it, so \(peer.options.serverKey) \
            (fingerprint \(peer.curve.map { String($0.serverKey.prefix(8)) } ?? "")) is probably not this broker's \
            public key. Use the broker.pub of the broker you connect to (--server-key, MUSTER_SERVER_KEY).
            """)
    }

    // MARK: MUSTER/1

    private mutating func send(_ socket: Socket, _ command: Command, _ body: [UInt8]) {
        _ = try? socket.send(Envelope(command, body: body).frames, dontWait: true)
        lastSent = Date()
    }

    private mutating func hello(_ socket: Socket) throws {
        let id = "\(requestID)-hello-\(helloIDs.count + 1)"
        helloIDs.append(id)
        var w = JSONWriter()
        w.field("id", id)
        w.field("adapter", peer.adapterName)
        w.field("roles", peer.roles.map(\.rawValue))
        w.field("window", 10)
        w.field("software", "muster-cli/\(MusterClient.version)")
        send(socket, .hello, w.finish())
    }

    /// The reply to our request, nil for anything else; throws for an ERROR that ends the command.
    private mutating func handle(_ frames: [[UInt8]], _ socket: Socket) throws -> CLIReply? {
        guard frames.count == 3, frames[0] == Envelope.versionBytes,
              let command = Command(rawValue: String(decoding: frames[1], as: UTF8.self)) else { return nil }
        let body = frames[2]
        let re = (try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])?["re"] as? String
        switch command {
        case .welcome where re.map(helloIDs.contains) == true:
            welcomed = true
            if let w = try? JSONDecoder().decode(Welcome.self, from: Data(body)) { heartbeatMs = Double(w.heartbeatMs) }
            if !requestSent { send(socket, self.command, self.body); requestSent = true }
            return nil
        case .error:
            guard let e = try? JSONDecoder().decode(ErrorBody.self, from: Data(body)) else {
                throw CLIFailure(.other, "the broker sent an ERROR this CLI cannot read: \(String(decoding: body.prefix(300), as: UTF8.self))")
            }
            if e.code == .notRegistered, helloIDs.count < 4 {
                // The session ended under us (broker restart): say HELLO again, then resend.
                welcomed = false; requestSent = false
                try hello(socket)
                return nil
            }
            if let re, helloIDs.contains(re) {
                throw CLIFailure(Failure.of(e.code), """
                    the broker admitted the connection but refused HELLO (adapter \(peer.adapterName), roles \
                    \(peer.roles.map(\.rawValue).joined(separator: ", "))\(peer.curve == nil ? "" : ", key \(peer.keyDescription)")):
                    \(describe(e))
                    """ + (e.code == .forbidden ? "\nthe key's entry in peers.yaml must allow adapter ids cli-* and these roles (docs/SECURITY.md)" : ""))
            }
            guard re == nil || re == requestID else { return nil }
            throw CLIFailure(Failure.of(e.code), "the broker refused \(self.command.rawValue): " + describe(e))
        case .ok, .accepted, .result:
            return re == requestID ? CLIReply(command: command, body: body) : nil
        default:
            return nil
        }
    }

    private func describe(_ e: ErrorBody) -> String {
        var text = "\(e.code.rawValue): \(e.message)"
        if let f = e.detail?.field { text += "\n  field: \(f)" }
        if let s = e.detail?.state {
            // A whistle's refusal names the whistle's or a department's state, unless it is the case's (事不完、人不撤).
            let whistle = [.whistle, .standDown, .report].contains(command) && !e.message.contains("事不完")
                ? WhistleState(rawValue: s)?.chinese ?? SummonState(rawValue: s)?.chinese : nil
            let zh = whistle ?? CaseState(rawValue: s)?.chinese ?? DispatchState(rawValue: s)?.chinese
                ?? ["overdue": "已超期", "in_time": "未到期"][s]
            text += "\n  state: \(s)" + (zh.map { " (\($0))" } ?? "")
        }
        if let hint = Exchange.hints[e.code] { text += "\n  \(hint)" }
        return text
    }

    static let hints: [ErrorCode: String] = [
        .rateLimited: "nothing was applied; run the same command again in a moment",
        .unavailable: "nothing was applied; run the same command again later",
        .tooLarge: "nothing was applied; the broker accepts at most 1 MiB per message",
    ]
}

private func seconds(_ t: Double) -> String { t == t.rounded() ? "\(Int(t)) s" : String(format: "%.1f s", t) }

private func grouped(_ n: Int) -> String {
    let s = String(n)
    var out = ""
    for (i, ch) in s.enumerated() {
        if i > 0, (s.count - i) % 3 == 0 { out.append(" ") }
        out.append(ch)
    }
    return out
}

private func mib(_ n: Int) -> String { String(format: "%.1f MiB", Double(n) / 1_048_576) }

/// Pretty JSON for `--json`.
func prettyJSON(_ bytes: [UInt8]) -> String {
    guard let obj = try? JSONSerialization.jsonObject(with: Data(bytes)),
          let data = try? JSONSerialization.data(withJSONObject: obj, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]) else {
        return String(decoding: bytes, as: UTF8.self)
    }
    return String(decoding: data, as: UTF8.self)
}
