import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import MusterAdapterKit
import MusterWire
import NIOCore

/// The way back (Plugins/Webhook/README.md): the department's status updates, pushed to an
/// endpoint the adapter serves (hummingbird) and/or polled from the department's API with a
/// `since` cursor. Either way an update is answered or read past only once its act is durable in
/// the adapter's queue, and a request is taken whole or not at all.
extension WebhookDepartment {
    /// The feed name the poll cursor is kept under.
    static let pollFeed = "webhook.poll"

    public func updates(_ acts: ActSink) async throws {
        sink.withLock { $0 = acts }
        try await withThrowingTaskGroup(of: Void.self) { group in
            if let listen { group.addTask { try await self.serve(listen, acts) } }
            if let poll { group.addTask { try await self.poll(poll, acts) } }
            group.addTask { try await self.rules.run(acts) }
            try await group.waitForAll()
        }
    }

    /// Takes one request's updates (one object, or `{"updates": [...]}`): every one checked,
    /// then all queued together. Answers (HTTP status, JSON body).
    func take(_ body: [UInt8], _ acts: ActSink) async -> (Int, [String: Any]) {
        guard let doc = try? JSONSerialization.jsonObject(with: Data(body)) else {
            return (422, ["error": "the body is not JSON", "field": ""])
        }
        let list: [Any]
        let batch: Bool
        if let d = doc as? [String: Any], let u = d["updates"] {
            guard let a = u as? [Any] else { return (422, ["error": "updates must be an array", "field": "updates"]) }
            list = a; batch = true
        } else {
            list = [doc]; batch = false
        }
        do {
            let made = try await parse(list, batch: batch, acts)
            let queued = try await acts.send(made, cursor: nil)
            return (200, ["queued": queued, "repeats": made.count - queued, "ignored": list.count - made.count])
        } catch let r as StatusMap.Refusal {
            return (r.status, ["error": r.message, "field": r.field])
        } catch {
            return (503, ["error": "the adapter cannot queue updates now: \(error)"])
        }
    }

    func parse(_ list: [Any], batch: Bool, _ acts: ActSink) async throws -> [Act] {
        var made: [Act] = []
        for (i, doc) in list.enumerated() {
            // The lookups are small SQLite reads; asked before the map runs, so it stays pure.
            let u = doc as? [String: Any]
            let workOrder = u?["work_order"] as? String
            let known = try await workOrder.asyncMap { try await acts.subject(ofRef: $0) } ?? nil
            let subject = (u?["dispatch_id"] as? String) ?? (u?["summon_id"] as? String) ?? known
            let ref = try await subject.asyncMap { try await acts.ref(ofSubject: $0) } ?? nil
            let at = batch ? "updates[\(i)]" : ""
            var doc = doc
            // The department's own rules first: is it done (check), and in the bus's words (amend)?
            if let u, let subject, let code = (u["status"] as? String) ?? (u["status"] as? NSNumber)?.stringValue,
               let meaning = statuses.reverse[code] {
                let pushed = try await acts.push(ofSubject: subject)
                let dispatch = pushed.flatMap { (try? JSONSerialization.jsonObject(with: Data($0))) as? [String: Any] }
                do {
                    try rules.check(u, meaning: meaning, subject: subject, dispatch: dispatch)
                } catch {
                    throw StatusMap.Refusal(status: error.status, field: at.isEmpty ? error.field : "\(at).\(error.field)", message: error.message)
                }
                doc = rules.amend(u, meaning: meaning, dispatch: dispatch)
            }
            guard let act = try statuses.act(doc, at: at, lookUp: { _ in known }, refOf: { _ in ref }) else { continue }
            made.append(act)
        }
        return made
    }

    // MARK: push: POST /updates

    func serve(_ address: (host: String, port: Int), _ acts: ActSink) async throws {
        let router = Router()
        router.post("/updates") { request, _ -> Response in
            let body = Array((try await request.body.collect(upTo: 4 << 20)).readableBytesView)
            func header(_ name: String) -> String { request.headers.first { $0.name.canonicalName == name }?.value ?? "" }
            let ts = header("x-muster-timestamp"), sig = header("x-muster-signature")
            guard self.verify(timestamp: ts, signature: sig, body: body) else {
                return Self.json(401, ["error": "missing, wrong or stale signature (X-Muster-Timestamp, X-Muster-Signature: sha256=HMAC over timestamp.body)"])
            }
            let (status, answer) = await self.take(body, acts)
            return Self.json(status, answer)
        }
        router.get("/health") { _, _ -> Response in
            let answer: [String: Any] = switch await self.health() {
            case .ok: ["state": "ok"]
            case .degraded(let why): ["state": "degraded", "detail": why]
            case .down(let why, let n): ["state": "down", "detail": why, "failures": n]
            }
            return Self.json(200, answer)
        }
        let logger = self.logger
        let app = Application(router: router, configuration: .init(address: .hostname(address.host, port: address.port)),
                              onServerRunning: { _ in logger.info("updates endpoint listening", metadata: ["address": "\(address.host):\(address.port)"]) },
                              logger: Logger(label: "muster.webhook.http"))
        try await app.run()
    }

    static func json(_ status: Int, _ doc: [String: Any]) -> Response { JSONResponse.make(status, doc) }

    /// The same scheme as the work orders: `sha256=` hex HMAC over `timestamp.body`, within 5 minutes.
    func verify(timestamp: String, signature: String, body: [UInt8], now: Date = Date()) -> Bool {
        guard let t = Int64(timestamp), abs(Int64(now.timeIntervalSince1970) - t) <= 300 else { return false }
        let want = "sha256=" + Self.signature(secret: secret, timestamp: timestamp, body: body)
        return ClientProof.same(want, signature)
    }

    // MARK: poll: GET url?since=CURSOR

    func poll(_ url: URL, _ acts: ActSink) async throws {
        while !Task.isCancelled {
            do {
                try await pollOnce(url, acts)
            } catch let r as StatusMap.Refusal {
                // Not read past: the same page comes again once the map names the status.
                noteUpdateProblem("\(r.field): \(r.message)")
                logger.error("a polled update cannot be taken; polling stays at it", metadata: ["field": "\(r.field)", "error": "\(r.message)"])
            } catch is CancellationError {
                return
            } catch {
                logger.warning("polling the department failed", metadata: ["url": "\(url)", "error": "\(error)"])
            }
            try? await Task.sleep(nanoseconds: UInt64(pollEvery * 1e9))
        }
    }

    /// One page: its acts and the next cursor are queued in one transaction.
    func pollOnce(_ url: URL, _ acts: ActSink) async throws {
        var components = URLComponents(url: url, resolvingAgainstBaseURL: false)!
        if let since = try await acts.cursor(Self.pollFeed) {
            components.queryItems = (components.queryItems ?? []) + [URLQueryItem(name: "since", value: since)]
        }
        let (list, page): ([Any], [String: Any])
        do {
            (list, page) = try await SignedList.read(components.url!, key: "updates", secret: secret, timeout: timeout)
        } catch {
            throw PollFailed(reason: error.description)
        }
        let cursor = page["cursor"] as? String
        let made = try await parse(list, batch: true, acts)
        guard !made.isEmpty || cursor != nil else { return }
        let queued = try await acts.send(made, cursor: cursor.map { (Self.pollFeed, $0) })
        noteUpdateProblem(nil)
        if !made.isEmpty { logger.info("polled updates", metadata: ["acts": "\(made.count)", "new": "\(queued)"]) }
    }

    struct PollFailed: Error, CustomStringConvertible {
        var reason: String
        var description: String { reason }
    }
}

extension Optional {
    func asyncMap<T>(_ f: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let w = self else { return nil }
        return try await f(w)
    }
}
