import Crypto
import Foundation
import WebhookDepartment
import MusterAdapterKit
import MusterCore
import MusterWire

/// The Open311 API's work against the bus (README.md, "Open311"): a POST is a SUBMIT through the
/// kit's durable act queue, exactly as a 12345 work order; the GETs are QUERYs to the broker.
/// Each answer is (HTTP status, document); the routes write it as JSON or XML.
struct Open311Service: Sendable {
    let settings: Open311Settings
    let clients: [HotlineSettings.Client]
    let wait: Double
    let acts: ActSink

    typealias Answer = (Int, Open311Document)

    /// The most requests a list answers (the spec's default volume).
    static let listLimit = 1000
    /// The most cases whose timelines one GET servicerequestupdates reads.
    static let updatesLimit = 500
    static let window: TimeInterval = 90 * 86_400

    /// `api_key` is a bearer key of the hotline's key clients (`clients: [{name, api_key_file}]`).
    func client(apiKey: String?) -> String? {
        guard let apiKey, !apiKey.isEmpty else { return nil }
        for c in clients { if case .apiKey(let k) = c.proof, ClientProof.same(k, apiKey) { return c.name } }
        return nil
    }

    func jurisdiction(_ given: String?) -> Answer? {
        guard let given, !given.isEmpty, given != settings.jurisdiction else { return nil }
        return (404, .errors(404, ["无此辖区 \(given) — jurisdiction_id \(given) was not found" + (settings.jurisdiction.map { " (this endpoint serves \($0))" } ?? "")]))
    }

    /// The act id (and the case's external_ref, and the token) of a POST: from the client's
    /// Idempotency-Key, so the same POST sent again is the same case; without one, fresh.
    static func ref(client: String, idempotencyKey: String?) -> String {
        guard let key = idempotencyKey else { return "o311-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased() }
        return "o311-" + SHA256.hash(data: Array((client + "\n" + key).utf8)).prefix(16).map { String(format: "%02x", $0) }.joined()
    }

    func post(_ pairs: [(String, String)], idempotencyKey: String?) async -> Answer {
        let p = Dictionary(pairs, uniquingKeysWith: { a, _ in a })
        guard let client = client(apiKey: p["api_key"]) else {
            return (403, .errors(403, [p["api_key"] == nil ? "缺少 api_key — api_key is required to create a request" : "api_key 无效 — invalid api_key"]))
        }
        if let j = jurisdiction(p["jurisdiction_id"]) { return j }
        if let k = idempotencyKey, k.isEmpty || k.utf8.count > 200 || !k.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) {
            return (400, .errors(400, ["Idempotency-Key 须为 1–200 个可见 ASCII 字符 — Idempotency-Key must be 1–200 visible ASCII characters"]))
        }
        let form: Open311Form
        do { form = try Open311Form.parse(pairs, catalog: settings.catalog) } catch { return (error.status, error.document) }
        let ref = Self.ref(client: client, idempotencyKey: idempotencyKey)
        var fields = JSONWriter()
        fields.raw("case", form.submittedCase(source: settings.source, ref: ref, catalog: settings.catalog))
        do {
            try await acts.send(Act(id: ref, command: .submit, fields: fields.finish()))
            return try await token(ref, within: wait, posted: true)
        } catch {
            // The spec's "general service error": nothing was queued, the client sends it again.
            return (400, .errors(400, ["暂时无法受理，请稍后重发 — the request could not be queued now, send it again: \(error)"]))
        }
    }

    /// Where a POST stands (POST's answer, and GET tokens/{token}): the case id once the broker
    /// accepted it; the token while it is queued (the broker is down or slow; it is sent until
    /// answered, also after a restart of the adapter).
    func token(_ ref: String, within: Double, posted: Bool = false) async throws -> Answer {
        guard ref.hasPrefix("o311-") else { return (404, .errors(404, ["无此 token — token \(ref) was not found"])) }
        switch try await acts.status(of: ref, within: within) {
        case .answered(let a) where a.command == .accepted:
            let j = a.json
            let id = j["case_id"] as? String ?? ""
            return (200, Open311Document(root: "service_requests", item: "request", records: [
                posted ? [("service_request_id", .text(id)), ("service_notice", .text(Open311Mapping.notice(j)))]
                       : [("service_request_id", .text(id)), ("token", .text(ref))],
            ]))
        case .answered(let a):
            let j = a.json
            let message = j["message"] as? String ?? "refused"
            if j["code"] as? String == ErrorCode.badField.rawValue || j["code"] as? String == ErrorCode.tooLarge.rawValue {
                let field = Open311Form.parameter((j["detail"] as? [String: Any])?["field"] as? String)
                return (400, .errors(400, ["参数 \(field) 不符合要求 — \(field): \(message)"]))
            }
            return (400, .errors(400, ["总线拒绝了该请求 — the bus refused it (\(j["code"] as? String ?? "")): \(message)"]))
        case .waiting:
            return (202, Open311Document(root: "service_requests", item: "request", records: [
                [("token", .text(ref)), ("service_notice", .text("已收到，正在受理；凭 token 查询受理编号"))],
            ]))
        case .unknown:
            return (404, .errors(404, ["无此 token — token \(ref) was not found"]))
        }
    }

    // MARK: reads

    enum Failure: Error { case answer(Answer) }

    /// QUERY case: (case, timeline, dispatches), or nil if there is no such case or it is not
    /// one this API shows (another source's).
    func fetch(_ id: String) async throws(Failure) -> (c: [String: Any], timeline: [[String: Any]], dispatches: [[String: Any]])? {
        let a: ActAnswer
        do { a = try await acts.query { q in q.field("what", "case"); q.field("case_id", id) } } catch { throw .answer(Self.unavailable("\(error)")) }
        let j = a.json
        if a.command == .error {
            if j["code"] as? String == ErrorCode.unknownCase.rawValue { return nil }
            throw .answer(Self.unavailable(j["message"] as? String ?? ""))
        }
        guard let c = j["case"] as? [String: Any] else { throw .answer(Self.unavailable("no case in the answer")) }
        return (c, j["timeline"] as? [[String: Any]] ?? [], j["dispatches"] as? [[String: Any]] ?? [])
    }

    static func unavailable(_ why: String) -> Answer {
        (400, .errors(400, ["暂时无法查询，请稍后再试 — the bus did not answer: \(why)"]))
    }

    func shown(_ c: [String: Any]) -> Bool { c["source"] as? String == settings.source.rawValue }

    /// GET requests/{id} and GET requests?service_request_id=a,b: each case with its notes.
    func requests(ids: [String]) async -> Answer {
        var records: [Open311Document.Record] = []
        do {
            for id in ids {
                guard id.first == "C", id.count <= 20, id.dropFirst().allSatisfy(\.isNumber), let f = try await fetch(id), shown(f.c) else { continue }
                var joined: [String: Any]?
                if f.c["state"] as? String == "merged", let into = f.c["merged_into"] as? String { joined = try await fetch(into)?.c }
                records.append(Open311Mapping.request(f.c, joined: joined, timeline: f.timeline, dispatches: f.dispatches, catalog: settings.catalog))
            }
        } catch { if case .answer(let a) = error { return a } }
        return (200, Open311Document(root: "service_requests", item: "request", records: records))
    }

    func request(id: String) async -> Answer {
        let (status, doc) = await requests(ids: [id])
        guard status == 200 else { return (status, doc) }
        return doc.records.isEmpty ? (404, .errors(404, ["无此服务请求 \(id) — service_request_id \(id) was not found"])) : (200, doc)
    }

    /// This source's cases (changed since `updatedSince`, if given), page by page.
    func allCases(updatedSince: Date? = nil) async throws(Failure) -> [[String: Any]] {
        var out: [[String: Any]] = [], after: String?
        let source = settings.source.rawValue, since = updatedSince.map(Timestamp.format)
        repeat {
            let a: ActAnswer
            let from = after
            do {
                a = try await acts.query { q in
                    q.field("what", "cases"); q.field("limit", 1000); q.field("after", from); q.field("source", source); q.field("updated_since", since)
                }
            } catch { throw .answer(Self.unavailable("\(error)")) }
            guard a.command == .result else { throw .answer(Self.unavailable(a.json["message"] as? String ?? "")) }
            out += a.json["cases"] as? [[String: Any]] ?? []
            after = a.json["next"] as? String
        } while after != nil
        return out
    }

    /// start_date / end_date: w3 datetimes, end after start, at most 90 days apart.
    static func range(_ p: [String: String], defaultSpan: TimeInterval, now: Date = Date()) -> Result<(Date, Date), Open311Form.Refusal> {
        var bounds: [Date?] = []
        for k in ["start_date", "end_date"] {
            guard let t = p[k] else { bounds.append(nil); continue }
            guard let d = Open311Form.date(t) else { return .failure(.bad("\(k) 须为 W3 时间 — \(k) \"\(t)\" is not a w3 datetime (2010-01-01T00:00:00Z)")) }
            bounds.append(d)
        }
        let end = bounds[1] ?? (bounds[0].map { min(now, $0.addingTimeInterval(defaultSpan)) } ?? now)
        let start = bounds[0] ?? end.addingTimeInterval(-defaultSpan)
        guard start <= end else { return .failure(.bad("start_date 晚于 end_date — start_date is after end_date")) }
        guard end.timeIntervalSince(start) <= window else { return .failure(.bad("时间范围不得超过 90 天 — start_date and end_date may not span more than 90 days")) }
        return .success((start, end))
    }

    /// GET requests: service_request_id (which overrides the rest), or this source's cases
    /// requested in [start_date, end_date] (default the last 90 days), of the service_codes and
    /// statuses asked for, newest first, at most 1000.
    func requests(_ p: [String: String]) async -> Answer {
        if let j = jurisdiction(p["jurisdiction_id"]) { return j }
        if let ids = p["service_request_id"] {
            let list = ids.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            guard list.count <= 100 else { return (400, .errors(400, ["至多 100 个 service_request_id — at most 100 ids at once"])) }
            return await requests(ids: list)
        }
        let codes = p["service_code"].map { Set($0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }) }
        let statuses = p["status"].map { Set($0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }) }
        if let bad = statuses?.first(where: { !["open", "closed"].contains($0) }) {
            return (400, .errors(400, ["status 须为 open 或 closed — unknown status \(bad)"]))
        }
        let start: Date, end: Date
        switch Self.range(p, defaultSpan: Self.window) {
        case .success(let r): (start, end) = r
        case .failure(let e): return (e.status, e.document)
        }
        let cases: [[String: Any]]
        do { cases = try await allCases() } catch { if case .answer(let a) = error { return a }; return Self.unavailable("") }
        let byID = Dictionary(cases.compactMap { c in (c["case_id"] as? String).map { ($0, c) } }, uniquingKeysWith: { a, _ in a })
        var records: [(Date, Open311Document.Record)] = []
        for c in cases where shown(c) {
            guard let at = (c["accepted_at"] as? String).flatMap(Open311Form.date), at >= start, at <= end else { continue }
            if let codes, !codes.contains(c["category"] as? String ?? "") { continue }
            var joined = c["state"] as? String == "merged" ? (c["merged_into"] as? String).flatMap { byID[$0] } : nil
            if joined == nil, c["state"] as? String == "merged", let into = c["merged_into"] as? String {
                joined = (try? await fetch(into))??.c  // joined a case of another source
            }
            let r = Open311Mapping.request(c, joined: joined, catalog: settings.catalog)
            if let statuses, case .text(let s)? = r.first(where: { $0.0 == "status" })?.1, !statuses.contains(s) { continue }
            records.append((at, r))
        }
        records.sort { $0.0 > $1.0 }
        return (200, Open311Document(root: "service_requests", item: "request", records: records.prefix(Self.listLimit).map(\.1)))
    }

    /// mySociety's GET servicerequestupdates: the updates, in [start_date, end_date] (default the
    /// last 24 hours), of this source's cases, oldest first.
    func updates(_ p: [String: String]) async -> Answer {
        if let j = jurisdiction(p["jurisdiction_id"]) { return j }
        let start: Date, end: Date
        switch Self.range(p, defaultSpan: 86_400) {
        case .success(let r): (start, end) = r
        case .failure(let e): return (e.status, e.document)
        }
        var found: [Open311Mapping.Update] = []
        do {
            // A case last updated before start_date has no update in the range.
            let touched = try await allCases(updatedSince: start).filter { c in
                shown(c) && ((c["updated_at"] as? String).flatMap(Open311Form.date).map { $0 >= start } ?? false)
                    && ((c["accepted_at"] as? String).flatMap(Open311Form.date).map { $0 <= end } ?? false)
            }
            guard touched.count <= Self.updatesLimit else {
                return (400, .errors(400, ["范围内更新过多，请缩小时间范围 — more than \(Self.updatesLimit) requests changed in this range: narrow start_date/end_date"]))
            }
            for c in touched {
                guard let id = c["case_id"] as? String, let f = try await fetch(id) else { continue }
                found += Open311Mapping.updates(f.c, timeline: f.timeline, dispatches: f.dispatches, catalog: settings.catalog).filter { u in
                    Open311Form.date(u.at).map { $0 >= start && $0 <= end } ?? false
                }
            }
        } catch { if case .answer(let a) = error { return a } }
        found.sort { $0.seq < $1.seq }  // the log's order is the order of time
        return (200, Open311Document(root: "service_request_updates", item: "request_update", records: found.map(\.record)))
    }
}
