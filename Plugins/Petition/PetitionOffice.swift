import Crypto
import Foundation
import Logging
import MusterAdapterKit
import MusterConfig
import MusterWire

/// `plugin: petition` — the petition office's (信访部门) way onto the bus (README.md). Its system
/// registers petitions (登记), serves the documents of their course on the petitioner (受理告知书,
/// 延期告知书, 答复意见书, 复查意见书, 复核意见书 — kept here with their text, retrievable, and
/// recorded on the bus by number, date and digest), passes on the petitioner's requests for 复查 /
/// 复核, rules on units' objections and on repeats. Every act goes through the kit's durable act
/// queue: once answered 201/202 it reaches the broker, across a kill -9 of either.
public struct PetitionOffice: DepartmentPlugin {
    let settings: PetitionSettings
    let book: PetitionBook
    let logger: Logger

    public static let descriptor = PluginDescriptor(
        name: "petition",
        summary: "The petition office (信访): registration over signed HTTP as SUBMITs, the documents served on petitioners, their requests for 复查/复核.",
        settings: [
            .init("listen", "HOST:PORT the API is served on (127.0.0.1:8730)"),
            .init("clients", "[{name, secret_file | api_key_file}]: who may call it — HMAC-signed requests, or a bearer key"),
            .init("wait", "how long a POST waits for the broker's answer before answering 202 queued (default 5s)"),
            .init("book", "the office's own SQLite file (petitions, documents), beside the config (default ../../data/petition/ADAPTER.db)"),
            .init("public_url", "the API's address as documents' urls give it (default http://LISTEN)"),
            .init("import", "{columns, time_format, yes, no}: how muster import petition reads the office's register (CSV/.xlsx, README.md)"),
        ],
        make: { (settings: PluginSettings, context: PluginDescriptor.Context) throws(ConfigErrors) -> any DepartmentPlugin in
            let s = try PetitionSettings.load(settings, adapter: context.adapter)
            do {
                return PetitionOffice(settings: s, book: try PetitionBook(path: s.bookPath), logger: context.logger)
            } catch {
                throw ConfigErrors(errors: [settings.error(at: ["book"], "cannot open \(s.bookPath): \(error)")])
            }
        })

    /// The office is sent no work: it reads its petitions' course with QUERY.
    public var handles: Set<Command> { [] }
    public func deliver(_ push: Push) async -> Delivery { .delivered(externalID: nil) }

    public func updates(_ acts: ActSink) async throws {
        try await PetitionServer(office: self, acts: acts, logger: logger).run()
    }

    /// The broker's answers: a registration's case, a document served or refused.
    public func answered(_ id: String, _ answer: ActAnswer) async {
        do {
            if id.hasPrefix("xf-"), let p = try book.petition(ofAct: id) {
                let j = answer.json
                if answer.command == .accepted, let caseID = j["case_id"] as? String {
                    try book.accepted(p.petitionNo, caseID: caseID, mergedInto: j["merged_into"] as? String)
                } else {
                    try book.refused(actID: id, "\(j["code"] ?? "error"): \(j["message"] ?? "")")
                }
            } else if id.hasPrefix("xfd-") {
                let j = answer.json
                try book.settle(document: id, served: answer.command == .ok,
                                refusal: answer.command == .ok ? nil : "\(j["code"] ?? "error"): \(j["message"] ?? "")")
            }
        } catch {
            logger.error("the petition office's book cannot be written", metadata: ["error": "\(error)"])
        }
    }

    /// A request id from what makes the act itself: the same POST again is the same act.
    static func actID(_ prefix: String, _ parts: [String], _ body: [UInt8] = []) -> String {
        var h = SHA256()
        for p in parts { h.update(data: Array(p.utf8) + [0]) }
        h.update(data: body)
        return prefix + h.finalize().prefix(16).map { String(format: "%02x", $0) }.joined()
    }

    // MARK: registration

    /// POST of a registration (登记表): (HTTP status, JSON answer).
    func register(_ body: [UInt8], _ acts: ActSink) async -> (Int, [String: Any]) {
        let form: PetitionForm
        do { form = try PetitionForm.parse(body) } catch {
            return (422, ["field": error.field, "error": error.message])
        }
        let submitted = form.submittedCase()
        var fields = JSONWriter()
        fields.raw("case", submitted)
        let act = Act(id: Self.actID("xf-", [form.petitionNo], submitted), command: .submit, fields: fields.finish())
        do {
            try book.take(form.petitionNo, actID: act.id)
            if try book.petition(form.petitionNo)?.actID == act.id {
                try await acts.send(act)
                logger.info("petition registered", metadata: ["petition_no": "\(form.petitionNo)"])
            }
            return try await status(form.petitionNo, acts)
        } catch {
            return (503, ["error": "暂时无法登记，请稍后重发 — the adapter cannot queue the petition now: \(error)"])
        }
    }

    /// Where a petition stands: the broker's answer to its registration (waiting up to `wait`),
    /// then its course read from the broker; 202 while queued, 404 if never registered here.
    func status(_ petitionNo: String, _ acts: ActSink, wait: Double? = nil) async throws -> (Int, [String: Any]) {
        guard let p = try book.petition(petitionNo) else {
            return (404, ["petition_no": petitionNo, "error": "无此信访件 — no petition \(petitionNo) was registered here"])
        }
        switch try await acts.status(of: p.actID, within: wait ?? settings.wait) {
        case .waiting: return (202, ["petition_no": petitionNo, "status": "queued", "check": "/v1/petitions/\(petitionNo)"])
        case .answered(let a) where a.command == .error:
            let j = a.json
            let code = j["code"] as? String ?? "error"
            var out: [String: Any] = ["petition_no": petitionNo, "error": code, "message": j["message"] ?? ""]
            if code == "bad_field" {
                // As the form's own faults answer: {field, error} with the reason, and the broker's code beside.
                out["field"] = PetitionForm.formField((j["detail"] as? [String: Any])?["field"] as? String)
                out["error"] = j["message"] ?? code
                out["code"] = code
            }
            return (code == "bad_field" ? 422 : 409, out)
        case .answered(let a):
            // The registration's own answer first (the repeat's `standing`); then the course now.
            var out = a.json
            out["petition_no"] = petitionNo
            out["re"] = nil
            if let caseID = out["case_id"] as? String, let now = try? await course(caseID, acts) { out["petition"] = now.petition; out["state"] = now.state }
            return (201, out)
        case .unknown:
            guard let caseID = p.caseID else { return (404, ["petition_no": petitionNo, "error": "无此信访件 — no petition \(petitionNo) was registered here"]) }
            var out: [String: Any] = ["petition_no": petitionNo, "case_id": caseID]
            out["merged_into"] = p.mergedInto
            if let now = try? await course(caseID, acts) { out["petition"] = now.petition; out["state"] = now.state }
            return (201, out)
        }
    }

    /// The case's state and petition record as the broker has them now.
    func course(_ caseID: String, _ acts: ActSink) async throws -> (state: Any?, petition: Any?) {
        let a = try await acts.query { q in q.field("what", "case"); q.field("case_id", caseID) }
        let c = a.json["case"] as? [String: Any]
        return (c?["state"], c?["petition"])
    }

    // MARK: acts on a registered petition

    /// The case of a registered, accepted petition, or the answer saying why there is none yet.
    func caseOf(_ petitionNo: String) throws -> Result<String, Refusal> {
        guard let p = try book.petition(petitionNo) else {
            return .failure(Refusal(404, ["petition_no": petitionNo, "error": "无此信访件 — no petition \(petitionNo) was registered here"]))
        }
        guard let caseID = p.caseID else {
            let why = p.refused.map { "登记未被受理 — the registration was refused: \($0)" } ?? "登记尚在排队 — the registration is still queued; try again shortly"
            return .failure(Refusal(409, ["petition_no": petitionNo, "error": why]))
        }
        return .success(caseID)
    }

    struct Refusal: Error { var status: Int; var body: [String: String]; init(_ s: Int, _ b: [String: String]) { status = s; body = b } }

    /// Sends a PETITION act and answers with the broker's answer (waiting up to `wait`).
    func petition(_ act: Act, _ acts: ActSink, petitionNo: String) async throws -> (Int, [String: Any]) {
        try await acts.send(act)
        switch try await acts.status(of: act.id, within: settings.wait) {
        case .answered(let a) where a.command == .ok:
            var out = a.json
            out["re"] = nil
            out["petition_no"] = petitionNo
            return (201, out)
        case .answered(let a):
            let j = a.json
            var out: [String: Any] = ["petition_no": petitionNo, "error": j["code"] ?? "error", "message": j["message"] ?? ""]
            out["state"] = (j["detail"] as? [String: Any])?["state"]
            if let field = (j["detail"] as? [String: Any])?["field"] { out["field"] = field }
            return ((j["code"] as? String) == "bad_field" ? 422 : (j["code"] as? String) == "forbidden" ? 403 : 409, out)
        case .waiting, .unknown:
            return (202, ["petition_no": petitionNo, "status": "queued", "act": act.id])
        }
    }

    static let kinds: [String: PetitionNoticeKind] = Dictionary(uniqueKeysWithValues: PetitionNoticeKind.allCases.flatMap { [($0.rawValue, $0), ($0.chinese, $0)] })

    /// POST of a document served on the petitioner (`{kind, number?, title?, issuer?, text, served_at?}`):
    /// kept here with its text, then a PETITION notify naming it by url and digest.
    func serve(_ petitionNo: String, _ body: [UInt8], _ acts: ActSink) async -> (Int, [String: Any]) {
        guard let o = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            return (422, ["field": "", "error": "须为 JSON 对象 {kind, text, number?, title?, issuer?, served_at?} — the body is not a JSON object"])
        }
        if let k = o.keys.sorted().first(where: { !["kind", "number", "title", "issuer", "text", "served_at"].contains($0) }) {
            return (422, ["field": k, "error": "未知字段 \(k) — unknown member"])
        }
        for k in ["kind", "number", "title", "issuer", "text", "served_at"] where o[k] != nil && !(o[k] is String) {
            return (422, ["field": k, "error": "\(k) 须为字符串 — must be a string"])
        }
        guard let kindText = o["kind"] as? String, let kind = Self.kinds[kindText] else {
            return (422, ["field": "kind", "error": "kind 须为 \(PetitionNoticeKind.allCases.map { "\($0.chinese)/\($0.rawValue)" }.joined(separator: ", "))"])
        }
        guard let text = o["text"] as? String, !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            return (422, ["field": "text", "error": "缺少 text — the document's text (kept here, not sent on the bus)"])
        }
        do {
            let caseID: String
            switch try caseOf(petitionNo) { case .success(let c): caseID = c; case .failure(let r): return (r.status, r.body) }
            let digest = SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
            let id = Self.actID("xfd-", [petitionNo, kind.rawValue, o["number"] as? String ?? "", o["served_at"] as? String ?? ""], Array(text.utf8))
            let doc = PetitionBook.Document(id: id, petitionNo: petitionNo, kind: kind.rawValue, number: o["number"] as? String,
                                            title: o["title"] as? String ?? kind.chinese, issuer: o["issuer"] as? String, text: text,
                                            sha256: digest, servedAt: o["served_at"] as? String, state: .queued)
            try book.keep(doc)
            var w = JSONWriter()
            w.field("case_id", caseID); w.field("act", PetitionActKind.notify.rawValue)
            w.object("document") { d in
                d.field("kind", kind.rawValue); d.field("number", doc.number); d.field("title", doc.title); d.field("issuer", doc.issuer)
                d.field("url", "\(settings.publicURL)/v1/documents/\(id)"); d.field("sha256", digest); d.field("served_at", doc.servedAt)
            }
            var (status, out) = try await petition(Act(id: id, command: .petition, fields: w.finish()), acts, petitionNo: petitionNo)
            out["document_id"] = id
            out["url"] = "\(settings.publicURL)/v1/documents/\(id)"
            return (status, out)
        } catch {
            return (503, ["error": "暂时无法送达，请稍后重发 — the adapter cannot queue the document now: \(error)"])
        }
    }

    /// POST of the petitioner's request (`{kind: 复查|复核|review|recheck, reason?}`), or of the
    /// office's own act (`{act: rule|confirm_repeat|split_repeat, agree?, reason?}`).
    func act(_ petitionNo: String, _ body: [UInt8], request: Bool, _ acts: ActSink) async -> (Int, [String: Any]) {
        guard let o = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            return (422, ["field": "", "error": "须为 JSON 对象 — the body is not a JSON object"])
        }
        let allowed = request ? ["kind", "reason"] : ["act", "agree", "reason"]
        if let k = o.keys.sorted().first(where: { !allowed.contains($0) }) { return (422, ["field": k, "error": "未知字段 \(k) — unknown member"]) }
        if let r = o["reason"], !(r is String) { return (422, ["field": "reason", "error": "reason 须为字符串 — must be a string"]) }
        let what: PetitionActKind
        if request {
            switch o["kind"] as? String {
            case "复查", "review": what = .requestReview
            case "复核", "recheck": what = .requestRecheck
            default: return (422, ["field": "kind", "error": "kind 须为 复查 / 复核 (review / recheck)"])
            }
        } else {
            guard let a = (o["act"] as? String).flatMap(PetitionActKind.init(rawValue:)), [.rule, .confirmRepeat, .splitRepeat].contains(a) else {
                return (422, ["field": "act", "error": "act 须为 rule / confirm_repeat / split_repeat"])
            }
            what = a
            if a == .rule, !(o["agree"] is Bool) { return (422, ["field": "agree", "error": "agree 须为 true（异议成立）或 false（异议不成立）"]) }
        }
        do {
            let caseID: String
            switch try caseOf(petitionNo) { case .success(let c): caseID = c; case .failure(let r): return (r.status, r.body) }
            var w = JSONWriter()
            w.field("case_id", caseID); w.field("act", what.rawValue); w.field("reason", o["reason"] as? String)
            if what == .rule { w.field("agree", o["agree"] as? Bool ?? false) }
            // A request once per document it contests (the reply for 复查, the review for 复核): asked
            // too early and refused, it may be asked again once that document is served. An office
            // act once per wording.
            let contested = request ? try book.documents(of: petitionNo).last {
                $0.kind == (what == .requestReview ? "reply" : "review") && $0.state != .refused
            }?.id ?? "-" : ""
            let id = Self.actID("xfa-", [petitionNo, what.rawValue, contested], request ? [] : body)
            return try await petition(Act(id: id, command: .petition, fields: w.finish()), acts, petitionNo: petitionNo)
        } catch {
            return (503, ["error": "暂时无法提交，请稍后重发 — the adapter cannot queue the act now: \(error)"])
        }
    }
}
