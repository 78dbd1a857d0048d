import AsyncHTTPClient
import Crypto
import Foundation
import Logging
import MusterAdapterKit
import MusterConfig
import MusterWire
import NIOCore
import Synchronization

/// Any department's system over plain HTTP, without code (`plugin: webhook`): each push is POSTed
/// as a documented JSON work order (Plugins/Webhook/README.md), signed, to the department's URL.
/// Its answer decides: 2xx taken (its `id` the department's own), 202 taken for later, 409 a
/// repeat it already has, 410/422 refused with a return reason, 429/503 retry after
/// `Retry-After`, anything else (or no answer) retry with back-off — and the push stays
/// unacknowledged until then, so no dispatch is ever lost.
public final class WebhookDepartment: DepartmentPlugin, @unchecked Sendable {
    struct Settings: Decodable {
        var url: String
        /// A file holding the HMAC secret (one line), beside the config or absolute.
        var secret_file: String
        var timeout: String?
        /// Failures in a row before its health is `down`.
        var dead_after: Int?
        /// category code → the department's own code (数字城管 大类/小类 …), sent as `department_code`.
        var category_codes: [String: String]?
        /// The way back: an endpoint to push updates to, and/or the department's API to poll.
        var updates: Updates?
        /// Each act → the department's status codes that mean it; every code its system sends must
        /// be listed (the reverse map is total). Written act-first so the keys are ours to check.
        var statuses: [String: [String]]?
        /// dispatch / summon / notice → the department's own code, sent as `department_status` (forward map: partial).
        var push_statuses: [String: String]?

        struct Updates: Decodable {
            var listen: String?
            var poll: String?
            var poll_every: String?
        }
    }

    public let url: URL
    let secret: SymmetricKey
    let timeout: Double
    let deadAfter: Int
    let categoryCodes: [String: String]
    let statuses: StatusMap
    let listen: (host: String, port: Int)?
    let poll: URL?
    let pollEvery: Double
    let logger: Logger
    private let failures = NSLock()
    private var failuresInARow = 0
    private var lastFailure = ""
    /// Where the plugin's acts go, once `updates` runs (the rules' acts after a delivery).
    let sink = Mutex<(any ActSink)?>(nil)

    /// The department's own rules (a department plugin's); none for the plain webhook.
    private(set) var rules: any DepartmentRules = NoRules()

    /// The same transport with a department's rules (set once, before it runs).
    func with(rules: any DepartmentRules) -> WebhookDepartment {
        self.rules = rules
        return self
    }

    /// An update the adapter cannot take (a status the map does not name): health is degraded until one is taken.
    private var updateProblem: String?

    init(url: URL, secret: [UInt8], timeout: Double, deadAfter: Int, categoryCodes: [String: String],
         statuses: StatusMap = StatusMap(reverse: [:], forward: [:]), listen: (host: String, port: Int)? = nil,
         poll: URL? = nil, pollEvery: Double = 30, logger: Logger = Logger(label: "muster.webhook")) {
        self.url = url; self.secret = SymmetricKey(data: secret); self.timeout = timeout
        self.deadAfter = deadAfter; self.categoryCodes = categoryCodes
        self.statuses = statuses; self.listen = listen; self.poll = poll; self.pollEvery = pollEvery; self.logger = logger
    }

    public static let descriptor = PluginDescriptor(
        name: "webhook",
        summary: "Any department's system over HTTP: each push POSTed as a signed JSON work order (HMAC-SHA256), retried until it answers.",
        settings: [
            .init("url", "the department's work-order endpoint (http or https)"),
            .init("secret_file", "a file with the shared HMAC secret (beside the adapter config, or absolute)"),
            .init("timeout", "per request (default 10s)"),
            .init("dead_after", "failures in a row before its health is down (default 5)"),
            .init("category_codes", "category → the department's own code, sent as department_code"),
            .init("updates.listen", "host:port where the adapter serves POST /updates for the department's status updates"),
            .init("updates.poll", "the department's URL to GET updates from (?since=CURSOR)"),
            .init("updates.poll_every", "how often to poll (default 30s)"),
            .init("statuses", "ack, progress, resolve, return, extend, backlog, en_route, on_site, ignore → the department's codes for it; every code it sends listed"),
            .init("push_statuses", "dispatch / summon / notice → the department's own code, sent as department_status (may be partial)"),
        ],
        make: { (settings: PluginSettings, context: PluginDescriptor.Context) throws(ConfigErrors) -> any DepartmentPlugin in
            try make(settings, context)
        })

    /// The transport from its settings, checked (file, line and key).
    static func make(_ settings: PluginSettings, _ context: PluginDescriptor.Context) throws(ConfigErrors) -> WebhookDepartment {
            let s = try settings.decode(Settings.self)
            var errors: [ConfigError] = []
            let url = URL(string: s.url)
            if url == nil || !["http", "https"].contains(url?.scheme ?? "") || url?.host == nil {
                errors.append(settings.error(at: ["url"], "\"\(s.url)\" is not an http(s) URL"))
            }
            let secretPath = s.secret_file.hasPrefix("/") ? s.secret_file
                : ((settings.path as NSString).deletingLastPathComponent as NSString).appendingPathComponent(s.secret_file)
            let secret = (try? String(contentsOfFile: secretPath, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            if secret?.isEmpty ?? true { errors.append(settings.error(at: ["secret_file"], "cannot read a secret from \(secretPath)")) }
            let timeout = s.timeout.flatMap(AdapterConfig.seconds) ?? 10
            if let t = s.timeout, AdapterConfig.seconds(t) == nil { errors.append(settings.error(at: ["timeout"], "\"\(t)\" is not a duration like 500ms, 10s")) }
            var reverse: [String: StatusMap.Meaning] = [:]
            for (meaning, codes) in (s.statuses ?? [:]).sorted(by: { $0.key < $1.key }) {
                guard let m = StatusMap.Meaning(rawValue: meaning) else {
                    errors.append(settings.error(at: ["statuses", meaning], "\"\(meaning)\" is not an act: one of \(StatusMap.Meaning.allCases.map(\.rawValue).joined(separator: ", "))"))
                    continue
                }
                for code in codes {
                    if let other = reverse[code] {
                        errors.append(settings.error(at: ["statuses", meaning], "status \"\(code)\" is listed under \(other.rawValue) too: one code, one meaning"))
                    }
                    reverse[code] = m
                }
            }
            for key in (s.push_statuses ?? [:]).keys.sorted() where !StatusMap.forwardKeys.contains(key) {
                errors.append(settings.error(at: ["push_statuses", key], "\"\(key)\" is not something Muster sends: one of \(StatusMap.forwardKeys.joined(separator: ", "))"))
            }
            var listen: (host: String, port: Int)?
            if let l = s.updates?.listen {
                let parts = l.split(separator: ":", omittingEmptySubsequences: false)
                if parts.count == 2, !parts[0].isEmpty, let port = Int(parts[1]), (1...65535).contains(port) { listen = (String(parts[0]), port) } else {
                    errors.append(settings.error(at: ["updates", "listen"], "\"\(l)\" is not host:port"))
                }
            }
            var poll: URL?
            if let p = s.updates?.poll {
                poll = URL(string: p)
                if poll == nil || !["http", "https"].contains(poll?.scheme ?? "") || poll?.host == nil {
                    errors.append(settings.error(at: ["updates", "poll"], "\"\(p)\" is not an http(s) URL"))
                }
            }
            let pollEvery = s.updates?.poll_every.flatMap(AdapterConfig.seconds) ?? 30
            if let e = s.updates?.poll_every, AdapterConfig.seconds(e) == nil { errors.append(settings.error(at: ["updates", "poll_every"], "\"\(e)\" is not a duration like 500ms, 30s")) }
            if s.updates != nil, reverse.isEmpty {
                errors.append(settings.error(at: ["statuses"], "updates need statuses: every status code the department sends, and what it means"))
            }
            guard errors.isEmpty, let url, let secret else { throw ConfigErrors(errors: errors) }
            return WebhookDepartment(url: url, secret: Array(secret.utf8), timeout: timeout, deadAfter: s.dead_after ?? 5,
                                     categoryCodes: s.category_codes ?? [:],
                                     statuses: StatusMap(reverse: reverse, forward: s.push_statuses ?? [:]),
                                     listen: listen, poll: poll, pollEvery: pollEvery, logger: context.logger)
    }

    public func deliver(_ push: Push) async -> Delivery {
        let dispatch = push.command == .dispatch ? (try? JSONSerialization.jsonObject(with: Data(push.body))) as? [String: Any] : nil
        if let dispatch, let decided = await rules.screen(dispatch) { return decided }
        let answer = await post(push)
        if let dispatch, case .delivered(let ref) = answer {
            // The department's rules may act at once (110 signs for it): queued before RECEIVED.
            guard let acts = sink.withLock({ $0 }) else { return .retryLater(after: nil) }
            do { try await rules.delivered(dispatch, ref: ref, acts) } catch {
                logger.warning("the department's acts after delivery could not be queued", metadata: ["error": "\(error)"])
                return .retryLater(after: nil)
            }
        }
        return answer
    }

    /// POSTs the work order and reads the department's answer.
    func post(_ push: Push) async -> Delivery {
        let body = await workOrder(push)
        let timestamp = String(Int64(Date().timeIntervalSince1970))
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
        request.headers.add(name: "Idempotency-Key", value: push.delivery)
        request.headers.add(name: "X-Muster-Command", value: push.command.rawValue)
        request.headers.add(name: "X-Muster-Timestamp", value: timestamp)
        request.headers.add(name: "X-Muster-Signature", value: "sha256=" + Self.signature(secret: secret, timestamp: timestamp, body: body))
        request.body = .bytes(body)
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .milliseconds(Int64(timeout * 1000)))
            let answer = try await response.body.collect(upTo: 1 << 20)
            let code = Int(response.status.code)
            let json = (try? JSONSerialization.jsonObject(with: Data(answer.readableBytesView))) as? [String: Any]
            switch code {
            case 202: succeeded(); return .deferred
            case 200..<300, 409: succeeded(); return .delivered(externalID: json?["id"] as? String)
            case 410, 422:
                succeeded()
                let reason = (json?["reason"] as? String).flatMap(ReturnReason.init(rawValue:)) ?? .notOurDuty
                return .refused(reason, note: json?["note"] as? String ?? "refused by \(url.host ?? "the department") (HTTP \(code))")
            case 429, 503:
                failed("HTTP \(code)")
                return .retryLater(after: response.headers.first(name: "Retry-After").flatMap(Double.init))
            default:
                failed("HTTP \(code)")
                return .retryLater(after: nil)
            }
        } catch {
            failed("\(error)")
            return .retryLater(after: nil)
        }
    }

    public func health() async -> Health {
        failures.withLock {
            if failuresInARow >= deadAfter { return .down(lastFailure, failures: failuresInARow) }
            if failuresInARow > 0 { return .degraded(lastFailure) }
            if let updateProblem { return .degraded(updateProblem) }
            return .ok
        }
    }

    private func succeeded() { failures.withLock { failuresInARow = 0 } }
    private func failed(_ why: String) { failures.withLock { failuresInARow += 1; lastFailure = why } }
    func noteUpdateProblem(_ why: String?) { failures.withLock { updateProblem = why } }

    /// `hex(HMAC-SHA256(secret, timestamp + "." + body))`: a receiver recomputes it over the raw
    /// body it got and the `X-Muster-Timestamp` header (README.md has it in ten lines of Python).
    public static func signature(secret: SymmetricKey, timestamp: String, body: [UInt8]) -> String {
        var mac = HMAC<SHA256>(key: secret)
        mac.update(data: Array(timestamp.utf8) + [UInt8(ascii: ".")])
        mac.update(data: body)
        return mac.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// The work order (README.md): a DISPATCH in the department's terms; a SUMMON or NOTICE as
    /// the broker sent it, under its `type`.
    func workOrder(_ push: Push) async -> [UInt8] {
        guard push.command == .dispatch, let d = try? JSONSerialization.jsonObject(with: Data(push.body)) as? [String: Any],
              let c = d["case"] as? [String: Any] else {
            var w = JSONWriter()
            w.field("type", push.command.rawValue.lowercased())
            w.field("delivery", push.delivery)
            w.field("department_status", statuses.forward[push.command.rawValue.lowercased()])
            w.raw("body", push.body)
            return w.finish()
        }
        let location = c["location"] as? [String: Any]
        let category = c["category"] as? String ?? ""
        var w = JSONWriter(capacity: push.body.count + 200)
        w.field("type", "dispatch")
        w.field("delivery", push.delivery)
        w.field("dispatch_id", d["dispatch_id"] as? String)
        w.field("case_id", c["case_id"] as? String)
        w.field("role", d["role"] as? String)
        w.field("round", d["round"] as? Int ?? 1)
        w.field("category", category)
        w.field("department_code", categoryCodes[category])
        w.field("department_status", statuses.forward["dispatch"])
        w.field("title", c["title"] as? String)
        w.field("description", c["description"] as? String)
        w.field("priority", c["priority"] as? String)
        w.field("grid", c["grid"] as? String)
        w.field("address", location?["address"] as? String)
        if let due = d["due"], let bytes = try? JSONSerialization.data(withJSONObject: due) { w.raw("due", Array(bytes)) }
        if let r = c["reporter"], let bytes = try? JSONSerialization.data(withJSONObject: r) { w.raw("reporter", Array(bytes)) }
        let taken: Set<String> = ["type", "delivery", "dispatch_id", "case_id", "role", "round", "category", "department_code",
                                  "department_status", "title", "description", "priority", "grid", "address", "due", "reporter"]
        for (key, value) in await rules.workOrderFields(d).sorted(by: { $0.key < $1.key }) where !taken.contains(key) {
            if let bytes = try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys]) { w.raw(JSONWriter.Key(key), Array(bytes)) }
        }
        return w.finish()
    }
}
