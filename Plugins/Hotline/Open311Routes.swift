import Foundation
import Hummingbird
import NIOCore

/// The Open311 GeoReport v2 routes (README.md, "Open311"), on the intake API's server under
/// /open311/v2/: services, services/{code}, requests (GET and POST), requests/{id}, tokens/{token}
/// and mySociety's servicerequestupdates — each as `.json` or `.xml`. GETs are open (the spec's
/// GETs are public); a POST proves itself with `api_key`.
struct Open311Routes {
    let service: Open311Service
    static let prefix = "/open311/v2"

    func register(on router: Router<BasicRequestContext>) {
        router.get(RouterPath(stringLiteral: Self.prefix + "/:resource")) { request, context -> Response in
            await self.get(context.parameters.get("resource") ?? "", nil, request)
        }
        router.get(RouterPath(stringLiteral: Self.prefix + "/:resource/:file")) { request, context -> Response in
            await self.get(context.parameters.get("resource") ?? "", context.parameters.get("file") ?? "", request)
        }
        router.post(RouterPath(stringLiteral: Self.prefix + "/:resource")) { request, context -> Response in
            let (name, format) = Self.split(context.parameters.get("resource") ?? "")
            guard let format else { return Self.notFormat() }
            guard name == "requests" else { return Self.respond(404, .errors(404, ["无此资源 — POST requests.json or requests.xml"]), format) }
            let contentType = request.headers.first { $0.name.canonicalName == "content-type" }?.value.lowercased() ?? ""
            guard contentType.hasPrefix("application/x-www-form-urlencoded") else {
                return Self.respond(400, .errors(400, ["请以 application/x-www-form-urlencoded 提交 — send the form as application/x-www-form-urlencoded"]), format)
            }
            let body = (try? await request.body.collect(upTo: 1 << 20)).map { String(buffer: $0) }
            guard let body, let pairs = Open311Form.pairs(body) else {
                return Self.respond(400, .errors(400, ["表单无法解析 — the form is not valid percent-encoding (or over 1 MB)"]), format)
            }
            let key = request.headers.first { $0.name.canonicalName == "idempotency-key" }?.value
            let (status, doc) = await service.post(pairs, idempotencyKey: key)
            return Self.respond(status, doc, format)
        }
    }

    /// The GET parameters each resource takes; anything else is refused by name.
    static let getParameters: [String: Set<String>] = [
        "services": ["jurisdiction_id", "api_key"],
        "requests": ["jurisdiction_id", "api_key", "service_request_id", "service_code", "start_date", "end_date", "status"],
        "servicerequestupdates": ["jurisdiction_id", "api_key", "start_date", "end_date"],
    ]

    func get(_ resource: String, _ file: String?, _ request: Request) async -> Response {
        let (name, plainFormat) = Self.split(file ?? resource)
        guard let format = plainFormat else { return Self.notFormat() }
        guard let pairs = Open311Form.pairs(request.uri.query ?? "") else {
            return Self.respond(400, .errors(400, ["查询参数无法解析 — the query string is not valid percent-encoding"]), format)
        }
        let allowed = Self.getParameters[file == nil ? name : resource] ?? ["jurisdiction_id", "api_key"]
        let p: [String: String]
        do { p = try Open311Form.single(pairs, allowed: allowed) } catch { return Self.respond(error.status, error.document, format) }
        if let j = service.jurisdiction(p["jurisdiction_id"]) { return Self.respond(j.0, j.1, format) }
        let answer: Open311Service.Answer
        switch (file == nil ? name : resource, file) {
        case ("services", nil):
            answer = (200, service.settings.catalog.document)
        case ("services", _?):
            guard service.settings.catalog.service(name) != nil else {
                return Self.respond(404, .errors(404, ["无此服务类型 \(name) — service_code \(name) was not found"]), format)
            }
            return Self.reply(200, Open311Document.definition(name, format), format)
        case ("requests", nil): answer = await service.requests(p)
        case ("requests", _?): answer = await service.request(id: name)
        case ("tokens", _?):
            answer = (try? await service.token(name, within: 0)) ?? Open311Service.unavailable("the act queue cannot be read")
        case ("servicerequestupdates", nil): answer = await service.updates(p)
        default:
            answer = (404, .errors(404, ["无此资源 — GET services, services/{code}, requests, requests/{id}, tokens/{token} or servicerequestupdates, as .json or .xml"]))
        }
        return Self.respond(answer.0, answer.1, format)
    }

    /// "services.json" → ("services", .json); no known extension → format nil.
    static func split(_ file: String) -> (String, Open311Document.Format?) {
        guard let dot = file.lastIndex(of: ".") else { return (file, nil) }
        return (String(file[..<dot]), Open311Document.Format(rawValue: String(file[file.index(after: dot)...]).lowercased()))
    }

    /// Without a format the client gets the spec's required one, XML.
    static func notFormat() -> Response {
        respond(404, .errors(404, ["请以 .xml 或 .json 结尾 — name the format: services.xml, requests.json …"]), .xml)
    }

    static func respond(_ status: Int, _ doc: Open311Document, _ format: Open311Document.Format) -> Response {
        reply(status, doc.rendered(format), format)
    }

    static func reply(_ status: Int, _ body: [UInt8], _ format: Open311Document.Format) -> Response {
        Response(status: .init(code: status),
                 headers: [.contentType: format == .json ? "application/json; charset=utf-8" : "text/xml; charset=utf-8"],
                 body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
