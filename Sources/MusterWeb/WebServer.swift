import Foundation
import Hummingbird
import Logging
import NIOCore

/// `muster web`'s HTTP side (hummingbird): the screen, its panels and live feed, a case's page,
/// search, and the health checks. Read-only: every page is answered from QUERY and the event
/// subscription of the one monitor session (`BrokerLink`).
public struct WebServer: Sendable {
    public let link: BrokerLink
    public let feed: EventFeed
    public let names: Names
    public let host: String
    public let port: Int
    public let logger: Logger

    public init(link: BrokerLink, feed: EventFeed, names: Names, host: String, port: Int, logger: Logger) {
        self.link = link; self.feed = feed; self.names = names; self.host = host; self.port = port; self.logger = logger
    }

    /// The HTTP server as a swift-service-lifecycle service, for `muster web`'s service group.
    public func application() -> Application<RouterResponder<BasicRequestContext>> {
        let router = Router()
        let (link, feed, names) = (link, feed, names)
        router.get("/") { _, _ in
            Self.html(200, ScreenPage(names: names).page(await ScreenData.read(link), feed: feed.recent(40)))
        }
        router.get("/screen/panels") { _, _ in Self.html(200, ScreenPage(names: names).panels(await ScreenData.read(link))) }
        router.get("/events") { request, _ in
            // The browser's EventSource resends the last id it saw; ?after= for other clients.
            let last = request.headers.first { $0.name.canonicalName == "last-event-id" }?.value
            let after = (last ?? request.uri.queryParameters.get("after")).flatMap { Int64($0) }
            let listening = feed.listen(after: after)
            return Response(status: .ok, headers: [.contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-cache"],
                            body: ResponseBody { writer in
                                defer { listening.stop() }
                                var head = "retry: 2000\n"
                                if !listening.complete { head += "event: gap\ndata: {}\n\n" }
                                try await writer.write(ByteBuffer(string: head + listening.missed.map(\.sse).joined() + ": live\n\n"))
                                // A comment every 15 s finds a closed page (the write fails) and keeps proxies open.
                                let beat = Task {
                                    while !Task.isCancelled {
                                        try await Task.sleep(nanoseconds: 15_000_000_000)
                                        listening.beat()
                                    }
                                }
                                defer { beat.cancel() }
                                for await line in listening.stream { try await writer.write(ByteBuffer(string: line.seq < 0 ? ": beat\n\n" : line.sse)) }
                                try await writer.finish(nil)
                            })
        }
        router.get("/case/:id") { _, context in
            let id = context.parameters.get("id") ?? ""
            guard let r = await link.query("case", { w in w.field("case_id", id) }) else {
                return Self.html(503, CasePage.frame("案件 \(id)", "<p class=\"alarm\">总线未应答，请稍后再试。</p>"))
            }
            guard r.command == .result else {
                return Self.html(404, CasePage.frame("案件 \(id)", "<p>没有案件 \(Html.escape(id))。</p>"))
            }
            return Self.html(200, CasePage(names: names).page(r.json()))
        }
        router.get("/search") { request, _ in
            let q = (request.uri.queryParameters.get("q") ?? "").trimmingCharacters(in: .whitespaces)
            if q.range(of: #"^C\d{10}$"#, options: .regularExpression) != nil { return Response(status: .seeOther, headers: [.location: "/case/\(q)"]) }
            return Self.html(200, await Search(names: names).page(q, link))
        }
        router.get("/healthz") { _, _ in Self.json(200, ["state": "alive"]) }
        router.get("/readyz") { _, _ in
            // Ready: welcomed by the broker, and it answers a QUERY now.
            let welcomed = link.health.connected
            let answered = welcomed ? await link.query("whistles", timeout: 2, { w in w.field("limit", 1) }) != nil : false
            var doc: [String: Any] = ["broker_session": welcomed ? "welcomed" : "not connected", "broker_answers": answered]
            doc["event_seq"] = feed.lastSeq
            doc["state"] = welcomed && answered ? "ready" : "unready"
            return Self.json(welcomed && answered ? 200 : 503, doc)
        }
        let (host, port, logger) = (host, port, logger)
        return Application(router: router, configuration: .init(address: .hostname(host, port: port)),
                           onServerRunning: { _ in logger.info("the centre's screen is served", metadata: ["address": "http://\(host):\(port)/"]) },
                           logger: Logger(label: "muster.web.http"))
    }

    static func html(_ status: Int, _ page: String) -> Response {
        Response(status: .init(code: status), headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                 body: .init(byteBuffer: ByteBuffer(string: page)))
    }

    static func json(_ status: Int, _ doc: [String: Any]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: doc, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Response(status: .init(code: status), headers: [.contentType: "application/json; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
