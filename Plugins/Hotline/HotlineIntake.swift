import Crypto
import Foundation
import Synchronization
import Logging
import MusterAdapterKit
import MusterConfig
import MusterWire

/// `plugin: hotline12345` — the 12345 hotline's way in (README.md). The platform POSTs each work
/// order (工单); it becomes a SUBMIT through the kit's durable act queue, so once the adapter has
/// answered, the order is on disk and reaches the broker even across a kill -9. The answer is the
/// case id once the broker ACCEPTED it, or 202 (queued) when that takes longer than `wait`. The
/// work-order number is the request's key: the same order POSTed again is the same case.
public struct HotlineIntake: DepartmentPlugin {
    let settings: HotlineSettings
    let book: HotlineBook
    let logger: Logger
    /// The adapter's sink, once `updates` runs: an accepted order's case is read back through it.
    let acts = SinkSlot()

    public static let descriptor = PluginDescriptor(
        name: "hotline12345",
        summary: "The 12345 hotline's intake: its platform POSTs work orders (工单) over signed HTTP; each is a SUBMIT, answered with the case id.",
        settings: [
            .init("listen", "HOST:PORT the intake API is served on (127.0.0.1:8720)"),
            .init("clients", "[{name, secret_file | api_key_file}]: who may call it — HMAC-signed requests, or a bearer key"),
            .init("wait", "how long a POST waits for the broker's ACCEPTED before answering 202 queued (default 5s)"),
            .init("source", "the cases' source (default hotline_12345)"),
            .init("followup", "{attempts: N}: 回访 calls answered 未接通 this many times are given up (default 3)"),
            .init("book", "the hotline's own SQLite file (orders, status changes, follow-up calls), beside the config (default ../../data/hotline/ADAPTER.db)"),
            .init("open311", "{config, source?, jurisdiction_id?}: also serve Open311 GeoReport v2 under /open311/v2/ (README.md)"),
            .init("import", "{columns, time_format, yes, no}: how muster import hotline reads the platform's CSV/.xlsx export (README.md)"),
        ],
        make: { (settings: PluginSettings, context: PluginDescriptor.Context) throws(ConfigErrors) -> any DepartmentPlugin in
            let s = try HotlineSettings.load(settings, adapter: context.adapter)
            do {
                return HotlineIntake(settings: s, book: try HotlineBook(path: s.bookPath), logger: context.logger)
            } catch {
                throw ConfigErrors(errors: [settings.error(at: ["book"], "cannot open \(s.bookPath): \(error)")])
            }
        })

    /// An intake peer is sent no work; it follows its orders' cases by their events.
    public var handles: Set<Command> { [.event] }
    public var events: [String]? { CaseEvents.types }

    /// An event of one of the platform's orders: its status change, and the follow-up calls a
    /// finish calls for; or the merge of one of its orders into a case, which says from which
    /// event on the order follows that case. An event of an unknown case (a merge naming an
    /// unknown order) while an order's answer is still out may be that order's: it waits for
    /// the answer (offered again shortly; the events after it wait their turn). The book is
    /// read again once no answer is out: one may have been recorded since the first read.
    public func deliver(_ push: Push) async -> Delivery {
        guard push.command == .event, let e = CaseEvents.parse(push.body) else { return .delivered(externalID: nil) }
        do {
            if let mergedCase = CaseEvents.mergedReport(e) {
                if try book.joined(mergedCase, at: e.seq) { return .delivered(externalID: nil) }
                if try await anAnswerIsOut() { return .retryLater(after: 0.2) }
                _ = try book.joined(mergedCase, at: e.seq)
                return .delivered(externalID: nil)
            }
            var orders = try book.orders(of: e.caseID)
            if orders.isEmpty {
                if try await anAnswerIsOut() { return .retryLater(after: 0.2) }
                orders = try book.orders(of: e.caseID)
            }
            try take(e, orders)
            return .delivered(externalID: nil)
        } catch {
            logger.error("the hotline's book cannot be written", metadata: ["error": "\(error)"])
            return .retryLater(after: nil)
        }
    }

    /// Whether a SUBMIT's answer is still out. Only one still waiting in the act queue can be an
    /// unknown case's order; one that never got there (a crash before it was queued) holds
    /// nothing up. The answer is recorded in the book before the queue marks it answered, so
    /// once this says no, the book has every answer in. Before the adapter's act queue is
    /// reachable (its first moments), an order waiting for its answer is taken to be out.
    func anAnswerIsOut() async throws -> Bool {
        let waiting = try book.unaccepted(since: Date().addingTimeInterval(-600))
        guard !waiting.isEmpty else { return false }
        guard let sink = acts.value.withLock({ $0 }) else { return true }
        for id in waiting where try await sink.status(of: id, within: 0) == .waiting {
            return true
        }
        return false
    }

    /// One event of a case into the book, for the orders it concerns. Idempotent: the same event
    /// from the subscription and from a case's timeline is recorded once. A merged order follows
    /// its case from its merge on, its status changes and its call-backs alike (a finish before
    /// its report is not its caller's to rate).
    func take(_ e: CaseEvents.Event, _ orders: [HotlineBook.Order]) throws {
        let concerned = orders.filter { e.seq >= $0.followsFrom ?? .min }
        if let (status, note) = CaseEvents.status(e) {
            for o in concerned {
                try book.record(.init(seq: e.seq, orderNo: o.orderNo, caseID: e.caseID, status: status, at: e.at, note: note))
            }
        }
        if let due = CaseEvents.followUpDue(e), !concerned.isEmpty {
            try book.scheduleCalls(caseID: e.caseID, finishSeq: e.seq, dueAt: due, orders: concerned)
        }
    }

    /// An order's case, once accepted: its timeline so far read back and taken like events —
    /// what happened before the adapter's subscription reached it (its first start subscribes
    /// from then on) is not missed. A merged order's is the case it joined, from the merge on:
    /// the merge's own event in that timeline says where, whatever became of the subscription's.
    func backfill(_ order: HotlineBook.Order) async {
        guard let acts = acts.value.withLock({ $0 }), let ownCase = order.caseID else { return }
        let followed = order.mergedInto ?? ownCase
        do {
            let a = try await acts.query { q in q.field("what", "case"); q.field("case_id", followed) }
            guard a.command == .result else { return }
            let timeline = (a.json["timeline"] as? [[String: Any]] ?? []).compactMap { entry -> CaseEvents.Event? in
                guard let seq = (entry["seq"] as? NSNumber)?.int64Value, let type = entry["type"] as? String else { return nil }
                return .init(seq: seq, type: type, caseID: followed, at: entry["at"] as? String ?? "", data: entry["data"] as? [String: Any] ?? [:])
            }
            var order = order
            if order.mergedInto != nil {
                guard let merge = timeline.first(where: { CaseEvents.mergedReport($0) == ownCase }) else { return }
                _ = try book.joined(ownCase, at: merge.seq)
                order.followsFrom = merge.seq
            }
            for e in timeline { try take(e, [order]) }
        } catch {
            logger.warning("an order's case could not be read back", metadata: ["case_id": "\(followed)", "error": "\(error)"])
        }
    }

    /// The broker's answer to a SUBMIT: the order's case (or that nothing waits for it any more).
    public func answered(_ id: String, _ answer: ActAnswer) async {
        guard id.hasPrefix("hl-") else { return }
        do {
            guard let order = try book.order(ofAct: id) else { return }
            let j = answer.json
            if answer.command == .accepted, let caseID = j["case_id"] as? String {
                let merged = j["merged_into"] as? String
                try book.accepted(order.orderNo, caseID: caseID, mergedInto: merged)
                if let accepted = try book.order(order.orderNo) {
                    Task { await backfill(accepted) }
                }
            } else {
                try book.refused(actID: id)
            }
        } catch {
            logger.error("the hotline's book cannot be written", metadata: ["error": "\(error)"])
        }
    }

    public func updates(_ acts: ActSink) async throws {
        self.acts.value.withLock { $0 = acts }
        try await requeueEvaluations(acts)
        try await HotlineServer(intake: self, acts: acts, logger: logger).run()
    }

    /// The EVALUATE of every finish settled in the last week, queued again: the act queue drops
    /// those it has (same id), so only one lost to a crash after its last call was recorded goes.
    func requeueEvaluations(_ acts: ActSink, now: Date = Date()) async throws {
        for calls in try book.settledFinishes(since: now.addingTimeInterval(-7 * 86_400)) {
            guard let (s, note) = FollowUp.evaluation(calls), let first = calls.first else { continue }
            try await acts.send(FollowUp.evaluate(caseID: first.caseID, finishSeq: first.finishSeq, s, note: note))
        }
    }

    /// The act id of a work order: from its number and what it says, so a repeat is the same
    /// request and a corrected resend of a refused order a new one (the broker keeps one case
    /// per 工单编号 either way).
    static func actID(_ orderNo: String, _ submitted: [UInt8]) -> String {
        "hl-" + SHA256.hash(data: Array(orderNo.utf8) + [0] + submitted).prefix(16).map { String(format: "%02x", $0) }.joined()
    }

    /// POST of one work order: (HTTP status, JSON answer).
    func take(_ body: [UInt8], _ acts: ActSink) async -> (Int, [String: Any]) {
        let order: WorkOrder
        do { order = try WorkOrder.parse(body) } catch {
            return (422, ["field": error.field, "error": error.message])
        }
        let submitted = order.submittedCase(source: settings.source)
        var fields = JSONWriter()
        fields.raw("case", submitted)
        let act = Act(id: Self.actID(order.orderNo, submitted), command: .submit, fields: fields.finish())
        do {
            try book.take(.init(orderNo: order.orderNo, actID: act.id, callback: order.callback,
                                name: order.anonymous ? nil : order.contactName, phone: order.contactPhone))
            guard try book.order(order.orderNo)?.actID == act.id else {
                // Accepted before under another wording: that case is the answer.
                return try await answer(order.orderNo, acts)
            }
            try await acts.send(act)
            logger.info("work order queued", metadata: ["order_no": "\(order.orderNo)"])
            return try await answer(order.orderNo, acts)
        } catch {
            return (503, ["error": "暂时无法受理，请稍后重发 — the adapter cannot queue work orders now: \(error)"])
        }
    }

    /// Where a work order stands: the broker's answer (waiting up to `wait` for it), 202 while it
    /// is queued, 404 if this adapter never took it.
    func answer(_ orderNo: String, _ acts: ActSink, wait: Double? = nil) async throws -> (Int, [String: Any]) {
        guard let actID = try book.order(orderNo)?.actID else {
            return (404, ["order_no": orderNo, "error": "无此工单 — no work order \(orderNo) was taken here"])
        }
        switch try await acts.status(of: actID, within: wait ?? settings.wait) {
        case .answered(let a): return Self.reply(a, orderNo: orderNo)
        case .waiting: return (202, ["order_no": orderNo, "status": "queued", "check": "/v1/workorders/\(orderNo)"])
        case .unknown:
            // Its act is no longer kept (answered acts go after 30 days); the book still knows its case.
            if let o = try book.order(orderNo), let caseID = o.caseID {
                var out: [String: Any] = ["order_no": orderNo, "case_id": caseID]
                out["merged_into"] = o.mergedInto
                return (201, out)
            }
            return (404, ["order_no": orderNo, "error": "无此工单 — no work order \(orderNo) was taken here"])
        }
    }

    /// One follow-up call's outcome (`{order_no, outcome: 满意|基本满意|不满意|未接通, note?}`); when
    /// it settles the last call of that finish, the case's EVALUATE is queued with it.
    func record(caseID: String, _ body: [UInt8], _ acts: ActSink) async -> (Int, [String: Any]) {
        guard let o = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            return (422, ["field": "", "error": "须为 JSON 对象 {order_no, outcome, note?} — the body is not a JSON object"])
        }
        if let k = o.keys.sorted().first(where: { !["order_no", "outcome", "note"].contains($0) }) {
            return (422, ["field": k, "error": "未知字段 \(k) — unknown member"])
        }
        guard let orderNo = o["order_no"] as? String, !orderNo.isEmpty else { return (422, ["field": "order_no", "error": "缺少 order_no — which caller"]) }
        guard let text = o["outcome"] as? String, let outcome = FollowUp.Outcome(rawValue: text) else {
            return (422, ["field": "outcome", "error": "outcome 须为 \(FollowUp.Outcome.allCases.map(\.rawValue).joined(separator: "/"))"])
        }
        let note = o["note"] as? String
        if o["note"] != nil, note == nil { return (422, ["field": "note", "error": "note 须为字符串 — must be a string"]) }
        do {
            let attempts = settings.followupAttempts
            let calls = try book.settle(caseID: caseID, orderNo: orderNo) { call in
                do { try FollowUp.apply(outcome, note: note, maxAttempts: attempts, to: &call) } catch { throw error }
            }
            var answer: [String: Any] = ["case_id": caseID, "calls": calls.map(HotlineServer.call)]
            if let (s, text) = FollowUp.evaluation(calls), let round = calls.first?.finishSeq {
                try await acts.send(FollowUp.evaluate(caseID: caseID, finishSeq: round, s, note: text))
                answer["evaluated"] = s.rawValue
            }
            return (200, answer)
        } catch let r as FollowUp.Refusal {
            return (r.status, ["field": r.field, "error": r.message])
        } catch {
            return (503, ["error": "the adapter cannot write its book now: \(error)"])
        }
    }

    /// The broker's answer in the platform's terms.
    static func reply(_ a: ActAnswer, orderNo: String) -> (Int, [String: Any]) {
        let j = a.json
        switch a.command {
        case .accepted:
            var out: [String: Any] = ["order_no": orderNo]
            for k in ["case_id", "state", "merged_into", "due"] { out[k] = j[k] }
            if let i = j["incident"] as? [String: Any] { out["incident"] = ["message": i["message"], "expected_end": i["expected_end"]] }
            return (201, out)
        case .error:
            let code = j["code"] as? String ?? ""
            let message = j["message"] as? String ?? ""
            if code == ErrorCode.badField.rawValue || code == ErrorCode.tooLarge.rawValue {
                let field = (j["detail"] as? [String: Any])?["field"] as? String
                return (422, ["field": WorkOrder.platformField(field), "error": message, "code": code])
            }
            return (502, ["error": "总线拒绝了该工单 — the bus refused it: \(message)", "code": code])
        default:
            return (502, ["error": "unexpected answer \(a.command.rawValue)"])
        }
    }
}

/// Where the plugin keeps the adapter's sink (the plugin is a value; the sink comes later).
final class SinkSlot: Sendable {
    let value = Mutex<(any ActSink)?>(nil)
}
