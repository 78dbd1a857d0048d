import Foundation
import Hummingbird
import Logging
import MusterAdapterKit
import NIOCore
import WebLogin

/// The seat console's web server (hummingbird), run inside the plugin's `updates(_:)`: a seat's
/// action on a page becomes an act through the ActSink, durable before the page is answered.
struct ConsoleServer {
    let desk: Desk
    let acts: ActSink
    let logger: Logger

    static let cookie = "muster_seat"

    func run() async throws {
        let router = Router()
        router.get("/health") { _, _ in Self.text(200, "ok", type: "text/plain; charset=utf-8") }
        router.get("/login") { _, _ in Self.html(200, Pages(desk: desk).login()) }
        router.post("/login") { request, _ in try await login(request) }
        router.post("/logout") { request, _ in
            if let token = Self.token(request) { desk.sessions.close(token) }
            var r = Self.redirect("/login")
            r.headers[.setCookie] = LoginSessions.clearCookie(Self.cookie)
            return r
        }
        router.get("/") { request, _ in
            guard let seat = seat(request) else { return Self.redirect("/login") }
            return Self.html(200, Pages(desk: desk).inbox(seat: seat, items: try desk.inbox().all()))
        }
        router.get("/items") { request, _ in
            guard seat(request) != nil else { return Self.text(401, "请先登录", type: "text/plain; charset=utf-8") }
            return Self.html(200, Pages(desk: desk).rows(try desk.inbox().all()))
        }
        router.get("/item/:seq") { request, context in
            guard let seat = seat(request) else { return Self.redirect("/login") }
            guard let seq = context.parameters.get("seq", as: Int64.self), let item = try desk.inbox().item(seq) else {
                return Self.html(404, Pages(desk: desk).page("", seat: seat, "<p class=\"error\">没有这一件。</p><p><a href=\"/\">返回收件箱</a></p>"))
            }
            let done = request.uri.queryParameters.get("done").flatMap(SeatAction.init(rawValue:))
            return Self.html(200, Pages(desk: desk).item(seat: seat, item, history: try desk.inbox().history(seq),
                                                          flash: done.map { "「\($0.zh)」已提交" }))
        }
        router.post("/item/:seq/:action") { request, context in
            guard let seat = seat(request) else { return Self.redirect("/login") }
            guard let seq = context.parameters.get("seq", as: Int64.self), let item = try desk.inbox().item(seq),
                  let action = context.parameters.get("action").flatMap(SeatAction.init(rawValue:)) else {
                return Self.html(404, Pages(desk: desk).page("", seat: seat, "<p class=\"error\">没有这一件。</p>"))
            }
            let form = Self.form(Array(try await request.body.collect(upTo: 1 << 20).readableBytesView))
            return try await act(action, on: item, form: form, seat: seat)
        }
        router.get("/events") { request, _ in
            guard seat(request) != nil else { return Self.text(401, "请先登录", type: "text/plain; charset=utf-8") }
            let (stream, page) = desk.live.subscribe()
            return Response(status: .ok, headers: [.contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-cache"],
                            body: ResponseBody { writer in
                                try await writer.write(ByteBuffer(string: "retry: 2000\n: connected\n\n"))
                                // A comment every 15 s finds a closed page (the write fails) and keeps proxies open.
                                let beat = Task { while !Task.isCancelled { try await Task.sleep(nanoseconds: 15_000_000_000); page.yield(": beat") } }
                                defer { beat.cancel() }
                                for await line in stream {
                                    try await writer.write(ByteBuffer(string: line.hasPrefix(":") ? "\(line)\n\n" : "event: item\ndata: \(line)\n\n"))
                                }
                                try await writer.finish(nil)
                            })
        }
        let logger = self.logger
        let app = Application(router: router, configuration: .init(address: .hostname(desk.settings.host, port: desk.settings.port)),
                              onServerRunning: { _ in logger.info("seat console listening", metadata: ["address": "http://\(desk.settings.host):\(desk.settings.port)/"]) },
                              logger: Logger(label: "muster.console.http"))
        try await withTaskCancellationHandler { try await app.run() } onCancel: { desk.live.close() }
    }

    // MARK: login

    func login(_ request: Request) async throws -> Response {
        let form = Self.form(Array(try await request.body.collect(upTo: 64 << 10).readableBytesView))
        let login = form["login"] ?? "", password = form["password"] ?? ""
        let seat = desk.seat(login)
        // An unknown login costs the same hashing as a wrong password: the time says nothing.
        let ok = (seat?.password ?? PasswordHash.decoy).matches(password) && seat != nil
        guard let seat, ok else {
            logger.notice("seat console: login refused", metadata: ["login": "\(login)"])
            return Self.html(401, Pages(desk: desk).login(error: "账号或密码错误", login: login))
        }
        let token = desk.sessions.open(seat.login)
        logger.info("seat console: login", metadata: ["login": "\(seat.login)"])
        var r = Self.redirect("/")
        r.headers[.setCookie] = desk.sessions.setCookie(Self.cookie, token)
        return r
    }

    func seat(_ request: Request) -> ConsoleSettings.Seat? {
        guard let token = Self.token(request), let login = desk.sessions.login(of: token) else { return nil }
        return desk.seat(login)
    }

    static func token(_ request: Request) -> String? { LoginSessions.token(cookie: cookie, in: request.headers[values: .cookie]) }

    // MARK: an act

    /// The act queued (durable) first, then the inbox's state, then the page: a crash between
    /// the two leaves the item in its old state and the act sent; acting again makes a second
    /// act that the broker refuses (logged), never a lost one.
    func act(_ action: SeatAction, on item: Inbox.Item, form: [String: String], seat: ConsoleSettings.Seat) async throws -> Response {
        let pages = Pages(desk: desk)
        // The same form again (a double click, a resubmission): it was taken; show it so.
        if let nonce = form["nonce"], try desk.inbox().history(item.seq).contains(where: { $0.action == action.actID(item: item, nonce: nonce) }) {
            return Self.redirect("/item/\(item.seq)?done=\(action.rawValue)")
        }
        switch action.make(item: item, form: form, seat: seat, finishFields: desk.settings.finishFields) {
        case .failure(let refusal):
            let inbox = try desk.inbox()
            return Self.html(422, pages.item(seat: seat, item, history: try inbox.history(item.seq), error: refusal, action: action, form: form))
        case .success(let made):
            do {
                try await acts.send(made.act)
            } catch {
                logger.error("seat console: the act cannot be queued", metadata: ["id": "\(made.act.id)", "error": "\(error)"])
                return Self.html(503, pages.item(seat: seat, item, history: try desk.inbox().history(item.seq),
                                                 error: .init(message: "暂时无法提交（本机队列不可写），请稍后重试", field: nil), action: action, form: form))
            }
            let inbox = try desk.inbox()
            // A repeat of the same form (same nonce) was the same act: recorded once.
            if try !inbox.history(item.seq).contains(where: { $0.action == made.act.id }) {
                try inbox.record(item.seq, state: action.to, seat: seat.name, action: made.act.id, text: made.summary)
                desk.live.publish(seq: item.seq, change: action.rawValue)
            }
            logger.info("seat console: act", metadata: ["seat": "\(seat.login)", "id": "\(made.act.id)", "command": "\(made.act.command.rawValue)"])
            return Self.redirect("/item/\(item.seq)?done=\(action.rawValue)")
        }
    }

    // MARK: HTTP pieces

    static func form(_ body: [UInt8]) -> [String: String] { LoginSessions.form(body) }

    static func html(_ status: Int, _ page: String) -> Response { text(status, page, type: "text/html; charset=utf-8") }

    static func text(_ status: Int, _ body: String, type: String) -> Response {
        Response(status: .init(code: status), headers: [.contentType: type, .cacheControl: "no-store"],
                 body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    static func redirect(_ to: String) -> Response { Response(status: .seeOther, headers: [.location: to]) }
}
