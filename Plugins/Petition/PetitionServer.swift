import Foundation
import Hummingbird
import Logging
import MusterAdapterKit
import NIOCore
import WebhookDepartment

/// The petition office's API (README.md; hummingbird). Every call but /health proves its client
/// (`ClientProof`): registration, a petition's course, its documents, the petitioner's requests
/// and the office's rulings.
struct PetitionServer {
    let office: PetitionOffice
    let acts: ActSink
    let logger: Logger

    func run() async throws {
        let proof = ClientProof(clients: office.settings.clients)
        let router = Router()
        let (office, acts) = (office, acts)
        router.post("/v1/petitions") { request, _ -> Response in
            let b = try await Self.body(request)
            guard proof.check(request, body: b) != nil else { return Self.unauthorized }
            let (status, answer) = await office.register(b, acts)
            return Self.json(status, answer)
        }
        router.get("/v1/petitions/:no") { request, context -> Response in
            guard proof.check(request, body: []) != nil else { return Self.unauthorized }
            do {
                let (status, answer) = try await office.status(context.parameters.get("no") ?? "", acts, wait: 0)
                return Self.json(status, answer)
            } catch {
                return Self.json(503, ["error": "the adapter cannot read its queue now: \(error)"])
            }
        }
        router.post("/v1/petitions/:no/documents") { request, context -> Response in
            let b = try await Self.body(request)
            guard proof.check(request, body: b) != nil else { return Self.unauthorized }
            let (status, answer) = await office.serve(context.parameters.get("no") ?? "", b, acts)
            return Self.json(status, answer)
        }
        router.get("/v1/petitions/:no/documents") { request, context -> Response in
            guard proof.check(request, body: []) != nil else { return Self.unauthorized }
            do {
                return Self.json(200, ["documents": try office.book.documents(of: context.parameters.get("no") ?? "").map { Self.document($0, text: false) }])
            } catch {
                return Self.json(503, ["error": "the adapter cannot read its book now: \(error)"])
            }
        }
        router.get("/v1/documents/:id") { request, context -> Response in
            guard proof.check(request, body: []) != nil else { return Self.unauthorized }
            do {
                guard let d = try office.book.document(context.parameters.get("id") ?? "") else { return Self.json(404, ["error": "无此文书 — no such document"]) }
                return Self.json(200, Self.document(d, text: true))
            } catch {
                return Self.json(503, ["error": "the adapter cannot read its book now: \(error)"])
            }
        }
        router.post("/v1/petitions/:no/requests") { request, context -> Response in
            let b = try await Self.body(request)
            guard proof.check(request, body: b) != nil else { return Self.unauthorized }
            let (status, answer) = await office.act(context.parameters.get("no") ?? "", b, request: true, acts)
            return Self.json(status, answer)
        }
        router.post("/v1/petitions/:no/acts") { request, context -> Response in
            let b = try await Self.body(request)
            guard proof.check(request, body: b) != nil else { return Self.unauthorized }
            let (status, answer) = await office.act(context.parameters.get("no") ?? "", b, request: false, acts)
            return Self.json(status, answer)
        }
        router.get("/health") { _, _ -> Response in Self.json(200, ["state": "ok"]) }
        let (host, port, logger) = (office.settings.host, office.settings.port, logger)
        let app = Application(router: router, configuration: .init(address: .hostname(host, port: port)),
                              onServerRunning: { _ in logger.info("petition office API listening", metadata: ["address": "\(host):\(port)"]) },
                              logger: Logger(label: "muster.petition.http"))
        try await app.run()
    }

    static func body(_ request: Request) async throws -> [UInt8] { Array((try await request.body.collect(upTo: 1 << 20)).readableBytesView) }

    static func document(_ d: PetitionBook.Document, text: Bool) -> [String: Any] {
        var o: [String: Any] = ["document_id": d.id, "petition_no": d.petitionNo, "kind": d.kind, "sha256": d.sha256, "state": d.state.rawValue]
        o["kind_zh"] = PetitionOffice.kinds[d.kind]?.chinese
        o["number"] = d.number; o["title"] = d.title; o["issuer"] = d.issuer; o["served_at"] = d.servedAt; o["refusal"] = d.refusal
        if text { o["text"] = d.text }
        return o
    }

    static var unauthorized: Response { JSONResponse.unauthorized }
    static func json(_ status: Int, _ doc: [String: Any]) -> Response { JSONResponse.make(status, doc) }
}
