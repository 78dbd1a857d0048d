import Foundation
import WebhookDepartment
import Hummingbird
import Logging
import MusterAdapterKit
import NIOCore

/// The intake API (README.md; hummingbird): `POST /v1/workorders`, `GET /v1/workorders/{工单编号}`,
/// `GET /health`. Every call but /health proves its client (`ClientProof`).
struct HotlineServer {
    let intake: HotlineIntake
    let acts: ActSink
    let logger: Logger

    func run() async throws {
        let proof = ClientProof(clients: intake.settings.clients)
        let router = Router()
        router.post("/v1/workorders") { request, _ -> Response in
            let body = Array((try await request.body.collect(upTo: 1 << 20)).readableBytesView)
            guard Self.client(request, body, proof) != nil else { return Self.unauthorized }
            let (status, answer) = await intake.take(body, acts)
            return Self.json(status, answer)
        }
        router.get("/v1/workorders/:no") { request, context -> Response in
            guard Self.client(request, [], proof) != nil else { return Self.unauthorized }
            let no = context.parameters.get("no") ?? ""
            do {
                let (status, answer) = try await intake.answer(no, acts, wait: 0)
                return Self.json(status, answer)
            } catch {
                return Self.json(503, ["error": "the adapter cannot read its queue now: \(error)"])
            }
        }
        // The platform's status changes, after its cursor (polling, like the departments' updates).
        router.get("/v1/updates") { request, _ -> Response in
            guard Self.client(request, [], proof) != nil else { return Self.unauthorized }
            let given = request.uri.queryParameters.get("since").map { String($0) }
            guard let since = given.map({ Int64($0) }) ?? 0 else {
                return Self.json(422, ["field": "since", "error": "since 须为上次答复的 cursor — since is the cursor of the last answer (a number)"])
            }
            do {
                let list = try intake.book.updates(after: since, limit: 500)
                return Self.json(200, ["updates": list.map(Self.update), "cursor": String(list.last?.id ?? since)])
            } catch {
                return Self.json(503, ["error": "the adapter cannot read its book now: \(error)"])
            }
        }
        // 回访: the calls to make, and what each one heard.
        router.get("/v1/followups") { request, _ -> Response in
            guard Self.client(request, [], proof) != nil else { return Self.unauthorized }
            let state = request.uri.queryParameters.get("state").map { String($0) } ?? "waiting"
            guard let s = HotlineBook.CallState(rawValue: state) else {
                return Self.json(422, ["field": "state", "error": "state 须为 waiting / answered / unreached"])
            }
            do { return Self.json(200, ["calls": try intake.book.calls(s).map(Self.call)]) } catch {
                return Self.json(503, ["error": "the adapter cannot read its book now: \(error)"])
            }
        }
        router.post("/v1/followups/:case") { request, context -> Response in
            let body = Array((try await request.body.collect(upTo: 64 << 10)).readableBytesView)
            guard Self.client(request, body, proof) != nil else { return Self.unauthorized }
            let (status, answer) = await intake.record(caseID: context.parameters.get("case") ?? "", body, acts)
            return Self.json(status, answer)
        }
        if let o311 = intake.settings.open311 {
            Open311Routes(service: Open311Service(settings: o311, clients: intake.settings.clients, wait: intake.settings.wait, acts: acts)).register(on: router)
        }
        router.get("/health") { _, _ -> Response in Self.json(200, ["state": "ok"]) }
        let (host, port, logger) = (intake.settings.host, intake.settings.port, logger)
        let app = Application(router: router, configuration: .init(address: .hostname(host, port: port)),
                              onServerRunning: { _ in logger.info("12345 intake API listening", metadata: ["address": "\(host):\(port)"]) },
                              logger: Logger(label: "muster.hotline.http"))
        try await app.run()
    }

    static func client(_ request: Request, _ body: [UInt8], _ proof: ClientProof) -> String? { proof.check(request, body: body) }

    static func update(_ u: HotlineBook.Update) -> [String: Any] {
        var o: [String: Any] = ["update_id": "\(u.seq)-\(u.orderNo)", "order_no": u.orderNo, "case_id": u.caseID, "status": u.status,
                                "status_zh": Self.statusZh[u.status] ?? u.status, "at": u.at]
        o["note"] = u.note
        return o
    }

    static let statusZh = ["dispatched": "已派单", "signed": "已签收", "in_progress": "处置中", "resolved": "已办结", "rework": "返工",
                           "evaluated": "已回访", "closed": "已结案", "rejected": "不予受理"]

    static func call(_ c: HotlineBook.Call) -> [String: Any] {
        var o: [String: Any] = ["case_id": c.caseID, "round": c.finishSeq, "order_no": c.orderNo, "due_at": c.dueAt,
                                "state": c.state.rawValue, "attempts": c.attempts]
        o["name"] = c.name; o["phone"] = c.phone; o["satisfaction"] = c.satisfaction; o["note"] = c.note
        return o
    }

    static var unauthorized: Response { JSONResponse.unauthorized }
    static func json(_ status: Int, _ doc: [String: Any]) -> Response { JSONResponse.make(status, doc) }
}
