import Foundation
import MusterWire

/// The console's pages, rendered on the server: plain HTML, one small stylesheet and a few lines
/// of plain JavaScript, all in this file — nothing is fetched from the internet at run time.
/// Chinese first.
struct Pages {
    let desk: Desk
    var now = Date()

    // MARK: pieces

    static func h(_ s: String) -> String {
        var o = ""
        o.reserveCapacity(s.utf8.count)
        for c in s {
            switch c {
            case "&": o += "&amp;"; case "<": o += "&lt;"; case ">": o += "&gt;"; case "\"": o += "&quot;"; case "'": o += "&#39;"
            default: o.append(c)
            }
        }
        return o
    }

    static func nonce() -> String {
        var rng = SystemRandomNumberGenerator()
        return (0..<8).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &rng)) }.joined()
    }

    static func date(_ text: String?) -> Date? {
        guard let text else { return nil }
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = f.date(from: text) { return d }
        f.formatOptions = [.withInternetDateTime]
        return f.date(from: text)
    }

    /// "11-22 09:48", in the city's time.
    static func short(_ d: Date?) -> String {
        guard let d else { return "—" }
        let f = DateFormatter()
        f.locale = Locale(identifier: "zh_CN")
        f.timeZone = TimeZone(identifier: "Asia/Shanghai")
        f.dateFormat = "MM-dd HH:mm"
        return f.string(from: d)
    }

    func page(_ title: String, seat: ConsoleSettings.Seat?, item: Int64? = nil, _ body: String) -> String {
        let top = seat.map { s in
            """
            <nav><a href="/">收件箱</a><span class="who">座席：\(Self.h(s.name))（\(Self.h(s.login))）</span>\
            <form method="post" action="/logout" class="inline"><button type="submit" class="link">退出</button></form></nav>
            """
        } ?? ""
        return """
        <!DOCTYPE html>
        <html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(Self.h(title))座席端 · \(Self.h(desk.department))</title>
        <style>\(Self.css)</style></head>
        <body\(item.map { " data-item=\"\($0)\"" } ?? "")>
        <header><h1>座席端 · \(Self.h(desk.department))</h1>\(top)</header>
        <main>\(body)</main>
        \(seat == nil ? "" : "<script>\(Self.js)</script>")
        </body></html>
        """
    }

    // MARK: login

    func login(error: String? = nil, login: String = "") -> String {
        page("登录 · ", seat: nil, """
        <section class="card narrow"><h2>座席登录</h2>
        \(error.map { "<p class=\"error\" id=\"error\">\(Self.h($0))</p>" } ?? "")
        <form method="post" action="/login">
        <label>账号<input name="login" id="login" value="\(Self.h(login))" autocomplete="username" required autofocus></label>
        <label>密码<input name="password" id="password" type="password" autocomplete="current-password" required></label>
        <button type="submit" id="sign-in">登录</button></form></section>
        """)
    }

    // MARK: inbox

    func inbox(seat: ConsoleSettings.Seat, items: [Inbox.Item]) -> String {
        let open = items.filter { $0.state.open }.count
        return page("收件箱 · ", seat: seat, """
        <section class="card"><h2>收件箱 <small>待处理 <b id="open-count">\(open)</b> 件</small></h2>
        <table class="list"><thead><tr><th>状态</th><th>类别</th><th>标题</th><th>地址</th><th>签收时限</th><th>办结 / 报到时限</th><th>收到</th></tr></thead>
        <tbody id="items">\(rows(items))</tbody></table>
        <p class="hint">新派单、召集和催办会自动出现在此列表中，无需刷新。</p></section>
        """)
    }

    /// The list's rows (also served alone at /items, for the live update).
    func rows(_ items: [Inbox.Item]) -> String {
        if items.isEmpty { return "<tr><td colspan=\"7\" class=\"empty\">暂无待办</td></tr>" }
        return items.map(row).joined(separator: "\n")
    }

    func row(_ item: Inbox.Item) -> String {
        let (ackBy, resolveBy) = deadlines(item)
        let c = item.body["case"] as? [String: Any] ?? [:]
        let title: String, category: String, address: String
        switch item.kind {
        case .dispatch:
            title = c["title"] as? String ?? item.subject
            category = categoryName(c["category"] as? String)
            address = (c["location"] as? [String: Any])?["address"] as? String ?? ""
        case .summon:
            title = "【吹哨召集】" + (item.body["reason"] as? String ?? "")
            category = Self.whistleKinds[item.body["kind"] as? String ?? ""] ?? "召集"
            address = item.body["grid_name"] as? String ?? item.body["grid"] as? String ?? ""
        case .notice:
            title = "【\(Self.noticeKinds[item.body["kind"] as? String ?? ""] ?? "通知")】" + (item.body["title"] as? String ?? "")
            category = "消息"
            address = item.body["case_id"] as? String ?? ""
        }
        let role = (item.body["role"] as? String) == "assist" ? "<span class=\"tag\">协办</span>" : ""
        return """
        <tr data-subject="\(Self.h(item.subject))" data-state="\(item.state.rawValue)" class="\(item.state.open ? "open" : "done")">\
        <td><span class="state s-\(item.state.rawValue)">\(item.state.zh)</span></td><td>\(Self.h(category))</td>\
        <td><a href="/item/\(item.seq)">\(Self.h(title))</a> \(role)</td><td>\(Self.h(address))</td>\
        <td>\(due(ackBy, live: item.state == .sent))</td><td>\(due(resolveBy, live: item.state.open))</td><td>\(Self.short(item.receivedAt))</td></tr>
        """
    }

    func deadlines(_ item: Inbox.Item) -> (Date?, Date?) {
        switch item.kind {
        case .dispatch:
            let due = item.body["due"] as? [String: Any] ?? [:]
            return (Self.date(due["ack_by"] as? String), Self.date(due["resolve_by"] as? String))
        case .summon: return (nil, Self.date(item.body["report_by"] as? String))
        case .notice: return (nil, nil)
        }
    }

    /// A deadline, marked 超时 once passed while the item still waits on it.
    func due(_ d: Date?, live: Bool) -> String {
        guard let d else { return "—" }
        if live, d < now { return "<span class=\"overdue\">\(Self.short(d)) 已超时</span>" }
        return Self.short(d)
    }

    func categoryName(_ code: String?) -> String {
        guard let code else { return "—" }
        return desk.settings.categoryNames[code].map { "\($0)" } ?? code
    }

    static let whistleKinds = ["emergency": "应急处置", "enforcement": "联合执法", "resident_concern": "群众诉求"]
    static let noticeKinds = ["remind": "催办", "supervise": "督办", "report_overdue": "通报"]
    static let roles = ["lead": "主办", "assist": "协办"]
    static let priorities = ["urgent": "紧急", "normal": "一般", "consult": "咨询"]

    // MARK: an item

    /// `flash`: the last act (已提交); `error`: why the form was not sent; `form`: what was typed.
    func item(seat: ConsoleSettings.Seat, _ item: Inbox.Item, history: [Inbox.Entry], flash: String? = nil,
              error: SeatAction.Refusal? = nil, action: SeatAction? = nil, form: [String: String] = [:]) -> String {
        // Case text is the public's: escaped always. Only what this page builds itself is HTML.
        var facts: [(String, Cell)] = []
        let (ackBy, resolveBy) = deadlines(item)
        switch item.kind {
        case .dispatch:
            let c = item.body["case"] as? [String: Any] ?? [:]
            let loc = c["location"] as? [String: Any] ?? [:]
            facts.append(("案件编号", .text(c["case_id"] as? String ?? "")))
            facts.append(("派单编号", .text(item.subject)))
            facts.append(("类别", .text(categoryName(c["category"] as? String))))
            facts.append(("标题", .text(c["title"] as? String ?? "")))
            if let d = c["description"] as? String { facts.append(("描述", .text(d))) }
            facts.append(("地址", .text(loc["address"] as? String ?? "")))
            facts.append(("网格", .text(c["grid"] as? String ?? loc["grid"] as? String ?? "")))
            if let p = c["priority"] as? String { facts.append(("紧急程度", .text(Self.priorities[p] ?? p))) }
            facts.append(("承办", .text("\(Self.roles[item.body["role"] as? String ?? ""] ?? "")（第 \(item.body["round"] as? Int ?? 1) 轮）")))
            if let r = c["reporter"] as? [String: Any], (r["anonymous"] as? Bool) != true {
                facts.append(("反映人", .text([r["name"] as? String, r["phone"] as? String].compactMap { $0 }.joined(separator: "  "))))
            }
            if let at = c["reported_at"] as? String { facts.append(("反映时间", .text(Self.short(Self.date(at))))) }
            facts.append(("签收时限", .html(due(ackBy, live: item.state == .sent))))
            facts.append(("办结时限", .html(due(resolveBy, live: item.state.open))))
            let files = (c["attachments"] as? [[String: Any]] ?? []).compactMap { $0["url"] as? String }
                .filter { $0.hasPrefix("https://") || $0.hasPrefix("http://") }  // no javascript: links
            if !files.isEmpty {
                facts.append(("附件", .html(files.map { "<a href=\"\(Self.h($0))\" rel=\"noreferrer\">\(Self.h($0))</a>" }.joined(separator: "<br>"))))
            }
        case .summon:
            facts.append(("吹哨编号", .text(item.body["whistle_id"] as? String ?? "")))
            facts.append(("类型", .text(Self.whistleKinds[item.body["kind"] as? String ?? ""] ?? "")))
            facts.append(("地点", .text(item.body["grid_name"] as? String ?? item.body["grid"] as? String ?? "")))
            facts.append(("事由", .text(item.body["reason"] as? String ?? "")))
            if let c = item.body["case_id"] as? String { facts.append(("关联案件", .text(c))) }
            facts.append(("吹哨方", .text(item.body["blown_by"] as? String ?? "")))
            facts.append(("报到时限", .html(due(resolveBy, live: item.state.open))))
        case .notice:
            facts.append(("类型", .text(Self.noticeKinds[item.body["kind"] as? String ?? ""] ?? (item.body["kind"] as? String ?? ""))))
            facts.append(("标题", .text(item.body["title"] as? String ?? "")))
            if let c = item.body["case_id"] as? String { facts.append(("案件编号", .text(c))) }
            if let d = item.body["dispatch_id"] as? String { facts.append(("派单编号", .text(d))) }
            facts.append(("时限", .text(Self.short(Self.date(item.body["due"] as? String)))))
            if let o = item.body["overdue_by"] as? String { facts.append(("已超时", .text(o))) }
        }
        let table = facts.map { k, v in
            "<tr><th>\(Self.h(k))</th><td>\(v.html)</td></tr>"
        }.joined()
        let log = history.isEmpty ? "<p class=\"hint\">尚无操作记录。</p>" : "<ol class=\"history\">" + history.map {
            "<li><time>\(Self.short($0.at))</time> \(Self.h($0.seat))：\(Self.h($0.text))</li>"
        }.joined() + "</ol>"
        let banner = (flash.map { "<p class=\"flash\" id=\"flash\">\(Self.h($0))</p>" } ?? "")
            + (error.map { "<p class=\"error\" id=\"error\">\(Self.h($0.message))</p>" } ?? "")
        return page("\(item.ref) · ", seat: seat, item: item.seq, """
        <p><a href="/">← 返回收件箱</a></p>
        <p class="flash" id="changed" hidden>此件有新变化，<a href="">刷新查看</a>。</p>
        \(banner)
        <section class="card"><h2>\(item.ref) <span class="state s-\(item.state.rawValue)" id="state" data-state="\(item.state.rawValue)">\(item.state.zh)</span></h2>
        <table class="facts">\(table)</table></section>
        \(forms(item, error: error, action: action, form: form))
        <section class="card"><h3>操作记录</h3>\(log)
        <p class="hint">「已提交」表示已安全存入本机待发队列并发往城运中心；中心如不受理（如已过退单期限），原因记在适配器日志中。</p></section>
        """)
    }

    /// The forms the item's state allows.
    func forms(_ item: Inbox.Item, error: SeatAction.Refusal?, action: SeatAction?, form: [String: String]) -> String {
        // The step the item waits for first (签收, 办结, 出发, 到场), then the others.
        let possible = SeatAction.allCases.filter { $0.from.contains(item.state) }
        let primary: Set<SeatAction> = [.ack, .resolve, .enRoute, .onSite]
        let allowed = possible.filter { primary.contains($0) } + possible.filter { !primary.contains($0) }
        guard !allowed.isEmpty else { return "" }
        // What was typed comes back after a refusal, so nothing is lost.
        func v(_ a: SeatAction, _ key: String) -> String { a == action ? Self.h(form[key] ?? "") : "" }
        func bad(_ a: SeatAction, _ key: String) -> String { a == action && error?.field == key ? " class=\"bad\"" : "" }
        func open(_ a: SeatAction, _ title: String, primary: Bool = false) -> String {
            let nonce = a == action ? Self.h(form["nonce"] ?? Self.nonce()) : Self.nonce()
            return """
            <form method="post" action="/item/\(item.seq)/\(a.rawValue)" class="act\(primary ? " primary" : "")" id="form-\(a.rawValue)">\
            <h3>\(title)</h3><input type="hidden" name="nonce" value="\(nonce)">
            """
        }
        var out: [String] = []
        for a in allowed {
            switch a {
            case .ack:
                out.append(open(a, "签收", primary: true) + """
                <label>备注（可选）<input name="note" value="\(v(a, "note"))" placeholder="如：已安排人员，30分钟内到场"></label>
                <button type="submit" id="do-ack">签收</button></form>
                """)
            case .progress:
                out.append(open(a, "处置反馈") + """
                <label>处置情况<textarea name="note" rows="2"\(bad(a, "note"))>\(v(a, "note"))</textarea></label>
                <label>现场照片网址（每行一个）<textarea name="photos" rows="2"\(bad(a, "photos")) placeholder="https://">\(v(a, "photos"))</textarea></label>
                <button type="submit" id="do-progress">提交反馈</button></form>
                """)
            case .resolve:
                let fields = desk.settings.finishFields.map { f -> String in
                    let name = "f_\(f.key)", star = f.required ? " <em>*</em>" : ""
                    let input = f.kind == .textarea
                        ? "<textarea name=\"\(name)\" id=\"\(name)\" rows=\"3\"\(bad(a, name))>\(v(a, name))</textarea>"
                        : "<input name=\"\(name)\" id=\"\(name)\"\(f.kind == .url ? " type=\"url\" placeholder=\"https://\"" : "") value=\"\(v(a, name))\"\(bad(a, name))>"
                    return "<label>\(Self.h(f.label))\(star)\(input)</label>"
                }.joined()
                // No browser-side `required`: the server enforces the department's fields, and says so in Chinese.
                out.append(open(a, "办结", primary: true) + fields + "<button type=\"submit\" id=\"do-resolve\">办结</button></form>")
            case .giveBack:
                let options = SeatAction.returnReasonsZh.map { r, zh in
                    "<option value=\"\(r.rawValue)\"\(form["reason"] == r.rawValue && action == a ? " selected" : "")>\(zh)</option>"
                }.joined()
                out.append(open(a, "退单") + """
                <label>退单理由<select name="reason"\(bad(a, "reason"))><option value="">请选择</option>\(options)</select></label>
                <label>说明<input name="note" value="\(v(a, "note"))"\(bad(a, "note"))></label>
                <button type="submit" id="do-return" class="warn">退单</button></form>
                """)
            case .extend:
                out.append(open(a, "申请延期") + """
                <label>延期时长<input name="by" value="\(v(a, "by"))" placeholder="如 2wd（2个工作日）、1d、12h"\(bad(a, "by"))></label>
                <label>延期理由<input name="reason" value="\(v(a, "reason"))"\(bad(a, "reason"))></label>
                <button type="submit" id="do-extend">申请延期</button></form>
                """)
            case .enRoute, .onSite:
                out.append(open(a, a == .enRoute ? "出发" : "到场报到", primary: true) + """
                <label>说明（可选）<input name="note" value="\(v(a, "note"))"></label>
                <button type="submit" id="do-\(a.rawValue)">\(a == .enRoute ? "已出发" : "已到场")</button></form>
                """)
            }
        }
        return "<section class=\"actions\">" + out.joined(separator: "\n") + "</section>"
    }

    // MARK: style and script

    static let css = """
    *{box-sizing:border-box}body{margin:0;font-family:"Noto Sans CJK SC","Noto Sans SC","PingFang SC","Microsoft YaHei",sans-serif;\
    font-size:15px;color:#1f2933;background:#f2f4f7}header{background:#0b4f8a;color:#fff;padding:10px 24px;display:flex;\
    align-items:center;justify-content:space-between}header h1{font-size:19px;margin:0;font-weight:600}nav{display:flex;gap:16px;\
    align-items:center}nav a,nav .link{color:#fff}.who{opacity:.9}main{max-width:1200px;margin:0 auto;padding:16px 24px}\
    .card{background:#fff;border-radius:6px;box-shadow:0 1px 3px rgba(0,0,0,.12);padding:14px 18px;margin-bottom:16px}\
    .narrow{max-width:360px;margin:60px auto}h2{font-size:18px;margin:4px 0 12px}h2 small{font-size:13px;color:#52606d;\
    font-weight:normal;margin-left:10px}h3{font-size:15px;margin:0 0 8px}table{border-collapse:collapse;width:100%}\
    .list th,.list td{border-bottom:1px solid #e4e7eb;padding:8px 6px;text-align:left;vertical-align:top}.list th{background:#f5f7fa;\
    font-weight:600;font-size:14px;color:#3e4c59}.list tr.done{color:#7b8794}.list a{color:#0b4f8a;text-decoration:none}\
    .list a:hover{text-decoration:underline}.facts th{width:120px;text-align:right;color:#52606d;font-weight:normal;padding:5px 12px 5px 0;\
    vertical-align:top}.facts td{padding:5px 0}.state{display:inline-block;padding:1px 8px;border-radius:10px;font-size:13px;\
    white-space:nowrap}.s-sent,.s-summoned{background:#fde8e8;color:#b42318}.s-acked,.s-en_route{background:#fff4d6;color:#8d5b00}\
    .s-resolved,.s-on_site{background:#e3f7ea;color:#1b6b3a}.s-returned{background:#eceff3;color:#52606d}.s-notice{background:#e6f0fb;\
    color:#0b4f8a}.overdue{color:#b42318;font-weight:600}.tag{font-size:12px;border:1px solid #9aa5b1;border-radius:3px;padding:0 4px;\
    color:#52606d}.empty,.hint{color:#7b8794;font-size:13px}.actions{display:grid;grid-template-columns:repeat(auto-fill,minmax(330px,1fr));\
    gap:16px;margin-bottom:16px}form.act{background:#fff;border-radius:6px;box-shadow:0 1px 3px rgba(0,0,0,.12);padding:14px 18px}\
    form.act.primary{border-top:3px solid #0b4f8a}label{display:block;margin:0 0 10px;font-size:14px;color:#3e4c59}\
    input,textarea,select{display:block;width:100%;margin-top:4px;padding:6px 8px;font:inherit;border:1px solid #cbd2d9;border-radius:4px}\
    .bad{border-color:#b42318;background:#fff5f5}em{color:#b42318;font-style:normal}button{font:inherit;background:#0b4f8a;color:#fff;\
    border:0;border-radius:4px;padding:7px 18px;cursor:pointer}button.warn{background:#8d5b00}button:disabled{opacity:.5}\
    button.link{background:none;padding:0;text-decoration:underline}form.inline{display:inline}.error{background:#fde8e8;\
    color:#b42318;padding:8px 12px;border-radius:4px}.flash{background:#e3f7ea;color:#1b6b3a;padding:8px 12px;border-radius:4px}\
    .history{padding-left:20px;margin:0}.history li{margin:3px 0}time{color:#7b8794}
    """

    /// Live updates: a change reloads the inbox's rows, and on an item's page says it changed.
    /// A submitted form's button is disabled at once (the server makes a repeat one act anyway).
    static let js = """
    (function(){
    document.addEventListener('submit',function(e){var b=e.target.querySelector('button[type=submit]');if(b){setTimeout(function(){b.disabled=true;},0);}});
    if(!window.EventSource)return;
    var es=new EventSource('/events');
    es.addEventListener('item',function(e){
    var d=JSON.parse(e.data),list=document.getElementById('items');
    if(list){fetch('/items',{credentials:'same-origin'}).then(function(r){return r.ok?r.text():null;}).then(function(t){
    if(t===null)return;list.innerHTML=t;var n=document.getElementById('open-count');if(n){n.textContent=list.querySelectorAll('tr.open').length;}});}
    if(document.body.getAttribute('data-item')===String(d.seq)){var c=document.getElementById('changed');if(c)c.hidden=false;}
    });
    })();
    """
}

/// A cell of the item's table: text from the case (escaped) or HTML this page built (deadlines,
/// links); the two never mix, so no text can pass itself off as markup.
enum Cell {
    case text(String)
    case html(String)

    var html: String {
        switch self {
        case .text(let t): Pages.h(t)
        case .html(let h): h
        }
    }
}
