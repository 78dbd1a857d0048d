import Foundation
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
        router.get("/health") { _, _ -> Response in Self.json(200, ["state": "ok"]) }
        let (host, port, logger) = (intake.settings.host, intake.settings.port, logger)
        let app = Application(router: router, configuration: .init(address: .hostname(host, port: port)),
                              onServerRunning: { _ in logger.info("12345 intake API listening", metadata: ["address": "\(host):\(port)"]) },
                              logger: Logger(label: "muster.hotline.http"))
        try await app.run()
    }

    static func client(_ request: Request, _ body: [UInt8], _ proof: ClientProof) -> String? {
        func header(_ name: String) -> String { request.headers.first { $0.name.canonicalName == name }?.value ?? "" }
        return proof.check(client: header("x-muster-client"), timestamp: header("x-muster-timestamp"),
                           signature: header("x-muster-signature"), authorization: header("authorization"), body: body)
    }

    static var unauthorized: Response {
        json(401, ["error": "身份验证失败 — name your client in X-Muster-Client and sign the request (X-Muster-Timestamp, X-Muster-Signature: sha256=HMAC over timestamp.body) or send Authorization: Bearer KEY"])
    }

    static func json(_ status: Int, _ doc: [String: Any]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: doc, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Response(status: .init(code: status), headers: [.contentType: "application/json; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
