import Foundation
import Hummingbird
import Logging
import MusterConfig
import MusterWire
import NIOCore
import WebLogin

/// `muster web`'s HTTP side (hummingbird): the screen, its panels and live feed, a case's page,
/// search, and the health checks. Read-only: every page is answered from QUERY and the event
/// subscription of the one monitor session (`BrokerLink`).
public struct WebServer: Sendable {
    public let link: BrokerLink
    public let feed: EventFeed
    /// The operators who may act (config/web.yaml); none: read-only.
    public let desk: OperatorDesk
    public let names: Names
    public let host: String
    public let port: Int
    public let logger: Logger

    public init(link: BrokerLink, feed: EventFeed, desk: OperatorDesk, names: Names, host: String, port: Int, logger: Logger) {
        self.link = link; self.feed = feed; self.desk = desk; self.names = names; self.host = host; self.port = port; self.logger = logger
    }

    func operatorOf(_ request: Request) -> WebConfig.Operator? {
        desk.operatorOf(token: LoginSessions.token(cookie: OperatorDesk.cookie, in: request.headers[values: .cookie]))
    }

    /// The HTTP server as a swift-service-lifecycle service, for `muster web`'s service group.
    public func application() -> Application<RouterResponder<BasicRequestContext>> {
        let router = Router()
        let (link, feed, names, desk, server) = (link, feed, names, desk, self)
        let cache = ScreenCache()
        router.get("/") { request, _ in
            Self.html(200, ScreenPage(names: names, title: desk.config.title).page(await cache.read(link, seq: feed.lastSeq), feed: feed.recent(40), op: server.operatorOf(request)))
        }
        router.get("/screen/panels") { _, _ in Self.html(200, ScreenPage(names: names).panels(await cache.read(link, seq: feed.lastSeq))) }
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
        router.get("/case/:id") { request, context in
            let id = context.parameters.get("id") ?? ""
            let op = server.operatorOf(request)
            let flash = request.uri.queryParameters.get("done").flatMap { WebConfig.Act(rawValue: String($0)) }.map { "「\($0.chinese)」已提交，总线已受理" }
            guard let r = await link.query("case", { w in w.field("case_id", id); w.field("chain", true) }) else {
                return Self.html(503, CasePage.frame("案件 \(id)", "<p class=\"alarm\">总线未应答，请稍后再试。</p>"))
            }
            guard r.command == .result else {
                return Self.html(404, CasePage.frame("案件 \(id)", "<p>没有案件 \(Html.escape(id))。</p>"))
            }
            return Self.html(200, CasePage(names: names).page(r.json(), op: op, flash: flash))
        }
        router.get("/login") { request, _ in
            Self.html(200, Self.loginPage(next: request.uri.queryParameters.get("next").map { String($0) } ?? "/", error: nil, read: desk.config.operators.isEmpty))
        }
        router.post("/login") { request, _ in
            let form = LoginSessions.form(Array(try await request.body.collect(upTo: 64 << 10).readableBytesView))
            let next = Self.safe(form["next"] ?? "/")
            let op: WebConfig.Operator
            switch await desk.login(form["login"] ?? "", form["password"] ?? "") {
            case .welcome(let o): op = o
            case .refused: return Self.html(401, Self.loginPage(next: next, error: "账号或密码错误", read: desk.config.operators.isEmpty))
            case .tooMany: return Self.html(429, Self.loginPage(next: next, error: "错误次数过多，请 10 分钟后再试", read: desk.config.operators.isEmpty))
            }
            var r = Response(status: .seeOther, headers: [.location: next])
            r.headers[.setCookie] = desk.sessions.setCookie(OperatorDesk.cookie, desk.sessions.open(op.login))
            return r
        }
        router.post("/logout") { request, _ in
            if let t = LoginSessions.token(cookie: OperatorDesk.cookie, in: request.headers[values: .cookie]) { desk.sessions.close(t) }
            var r = Response(status: .seeOther, headers: [.location: "/"])
            r.headers[.setCookie] = LoginSessions.clearCookie(OperatorDesk.cookie)
            return r
        }
        router.post("/case/:id/:act") { request, context in
            let id = context.parameters.get("id") ?? ""
            guard let op = server.operatorOf(request) else {
                return Self.html(401, CasePage.frame("请先登录", "<p class=\"error\">请先<a href=\"/login?next=/case/\(Html.escape(id))\">登录</a>再操作。</p>"))
            }
            guard let act = context.parameters.get("act").flatMap(WebConfig.Act.init(rawValue:)) else {
                return Self.html(404, CasePage.frame("没有这项操作", op: op, "<p class=\"error\">没有这项操作。</p>"))
            }
            guard op.may.contains(act) else {
                return Self.html(403, CasePage.frame("无此权限", op: op, "<p class=\"error\">\(Html.escape(op.name)) 无权「\(act.chinese)」（config/web.yaml）。</p>"))
            }
            let form = LoginSessions.form(Array(try await request.body.collect(upTo: 64 << 10).readableBytesView))
            let (command, fill) = Self.request(act, case: id, form, agencies: names.routing.agencies.keys.sorted())
            var grid: String?
            if act == .whistle {
                // The case's own grid: a whistle is blown where the case is.
                grid = await link.query("case", { w in w.field("case_id", id) })?.json()["case"].flatMap { ($0 as? [String: Any])?["grid"] as? String }
            }
            // The form's own id: the same form sent again (after a timeout) is the same request.
            let rid = form["rid"].flatMap { $0.range(of: #"^[0-9a-f]{16,64}$"#, options: .regularExpression) != nil ? $0 : nil } ?? ActForms.nonce()
            guard let reply = await desk.act(op, id: "web-\(rid)", command, { w in fill(&w); if let grid { w.field("grid", grid) } }) else {
                return Self.html(503, CasePage.frame("案件 \(id)", op: op, "<p class=\"error\">总线未应答：「\(act.chinese)」未确认，请稍后查看案件再决定是否重试。</p>"))
            }
            if reply.command == .error {
                let e = reply.json()
                let code = e["code"] as? String ?? ""
                return Self.html(code == "bad_field" ? 422 : code == "forbidden" ? 403 : 409, CasePage.frame("案件 \(id)", op: op, """
                    <p class="error" id="refusal">「\(act.chinese)」未执行：\(Html.escape(e["message"] as? String ?? "")) (\(Html.escape(code)))</p>\
                    <p><a href="/case/\(Html.escape(id))">返回案件</a></p>
                    """))
            }
            return Response(status: .seeOther, headers: [.location: "/case/\(id)?done=\(act.rawValue)"])
        }
        router.get("/search") { request, _ in
            let q = (request.uri.queryParameters.get("q") ?? "").trimmingCharacters(in: .whitespaces)
            if q.range(of: #"^C\d{10}$"#, options: .regularExpression) != nil { return Response(status: .seeOther, headers: [.location: "/case/\(q)"]) }
            let op = server.operatorOf(request)
            if Search.isPhone(q) { return Self.html(op == nil ? 401 : 200, await Search(names: names).byPhone(q, op: op, desk: desk, now: Date())) }
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

    /// The MUSTER/1 request of an act, from its form (the broker checks every member again).
    static func request(_ act: WebConfig.Act, case id: String, _ form: [String: String], agencies: [String])
        -> (Command, (inout JSONWriter) -> Void) {
        func text(_ k: String) -> String? { form[k].map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 } }
        switch act {
        case .assign:
            let lead = text("lead") ?? ""
            let assists = agencies.filter { form["assist.\($0)"] != nil && $0 != lead }
            return (.assign, { w in w.field("case_id", id); w.field("lead", lead); w.field("assists", assists); w.field("note", text("note")) })
        case .reject:
            return (.reject, { w in w.field("case_id", id); w.field("reason", text("reason") ?? "") })
        case .extend:
            return (.extend, { w in w.field("dispatch_id", text("dispatch_id") ?? ""); w.field("by", text("by") ?? ""); w.field("reason", text("reason") ?? "") })
        case .whistle:
            return (.whistle, { w in w.field("case_id", id); w.field("kind", text("kind") ?? ""); w.field("reason", text("reason") ?? "") })
        }
    }

    /// A local path to go back to after logging in (never another site's: no `//` or `/\`, which
    /// browsers read as another host, and no control characters).
    static func safe(_ next: String) -> String {
        let local = next.hasPrefix("/") && !next.dropFirst().hasPrefix("/") && !next.dropFirst().hasPrefix("\\")
            && !next.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }
        return local ? next : "/"
    }

    static func loginPage(next: String, error: String?, read: Bool) -> String {
        CasePage.frame("值班登录", """
            <form class="login" method="post" action="/login"><h2>值班登录</h2>\
            \(error.map { "<p class=\"error\" id=\"login-error\">\($0)</p>" } ?? "")\
            \(read ? "<p class=\"muted\">config/web.yaml 未配置值班人员：大屏只读。</p>" : "")\
            <input type="hidden" name="next" value="\(Html.escape(safe(next)))">\
            <label>账号<input name="login" id="login" autocomplete="username" required></label>\
            <label>密码<input name="password" id="password" type="password" autocomplete="current-password" required></label>\
            <button id="sign-in">登录</button></form>
            """)
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
