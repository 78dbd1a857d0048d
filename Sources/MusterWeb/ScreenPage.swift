import Foundation
import MusterConfig
import MusterWire

/// The centre's one screen (一屏观全域): the map, what is overdue and how far it has climbed the
/// ladder, how each department is doing, the whistles counting down, today's intake, the
/// petition figures, the broker's health — and the live feed of events. Drawn whole on the
/// server (`panels` again on each change, fetched by the page); the page's script only appends
/// the feed, ticks the clocks and swaps the panels.
public struct ScreenPage: Sendable {
    public let names: Names
    public let title: String

    public init(names: Names, title: String = "城市运行中心") { self.names = names; self.title = title }

    /// Who is logged in (and a way out), or the way in.
    static func who(_ op: WebConfig.Operator?) -> String {
        guard let op else { return "<a class=\"who\" id=\"login-link\" href=\"/login\">值班登录</a>" }
        return "<span class=\"who\" id=\"operator\">\(Html.escape(op.name)) <form method=\"post\" action=\"/logout\"><button>退出</button></form></span>"
    }

    public func page(_ data: ScreenData, feed: [FeedLine], op: WebConfig.Operator? = nil) -> String {
        """
        <!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
        <title>\(Html.escape(title)) · 一屏观全域</title><style>\(Self.css)</style></head><body>
        <header><h1>\(Html.escape(title)) <small>一屏观全域 · 一网管全局</small></h1>
        <form class="search" action="/search" method="get"><input name="q" placeholder="案件编号 / 工单编号 / 地址" aria-label="搜索"><button>查询</button></form>
        \(Self.who(op))<span id="clock" data-now="\(Int(data.now.timeIntervalSince1970 * 1000))"></span></header>
        <main><div id="panels">\(panels(data))</div>
        <section id="feed-box"><h2>实时动态 <small id="live">连接中…</small></h2><ol id="feed">\(feed.reversed().map(Self.feedItem).joined())</ol></section>
        </main><script>\(Self.script)</script></body></html>
        """
    }

    /// Everything but the feed: what `/screen/panels` answers.
    public func panels(_ data: ScreenData) -> String {
        let tally = data.open.map { GridTally($0, grids: names.grids, now: data.now) }
        let whistles = data.whistles ?? []
        let today = data.today?.values.reduce(0, +)
        return """
            <section class="kpis">\
            \(kpi("在办案件", tally.map { "\($0.total.open)" }, id: "open-count"))\
            \(kpi("超期案件", data.overdueTotal.map(String.init), id: "overdue-count", alarm: (data.overdueTotal ?? 0) > 0))\
            \(kpi("今日受理", today.map(String.init), id: "today-count"))\
            \(kpi("进行中的哨", data.whistles.map { "\($0.count)" }, id: "whistle-count", alarm: !whistles.isEmpty))\
            <div class="health-box">\(health(data))</div></section>
            <section class="map-box"><h2>网格地图 <small>颜色越深在办越多 · 红框有超期 · 橙色虚线为专属网格</small></h2>\
            \(tally.map { MapDrawing(names: names).svg($0) } ?? unavailable)\
            \(tally.map(dedicatedLine) ?? "")</section>
            <section class="overdue-box"><h2>超期案件 <small>督办层级：催办 → 督办 → 通报</small></h2>\(overdue(data))</section>
            <section class="whistle-box"><h2>吹哨报到</h2>\(data.whistles == nil ? unavailable : whistleList(whistles, now: data.now))</section>
            <section class="league-box"><h2>部门考核 <small>本月 · 按派单时间</small></h2>\(league(data.stats))</section>
            <section class="intake-box"><h2>今日受理 <small>按渠道</small></h2>\(intake(data.today))</section>
            <section class="petition-box"><h2>信访 <small>本月</small></h2>\(petitions(data.stats))</section>
            """
    }

    var unavailable: String { "<p class=\"alarm\">总线未应答，数据暂不可用</p>" }

    func kpi(_ label: String, _ value: String?, id: String, alarm: Bool = false) -> String {
        "<div class=\"kpi\(alarm ? " alarm" : "")\"><b id=\"\(id)\">\(value ?? "—")</b><span>\(label)</span></div>"
    }

    func dedicatedLine(_ tally: GridTally) -> String {
        let parts = names.grids.dedicated.values.sorted { $0.code < $1.code }.map { d -> String in
            let c = tally.dedicated[d.code] ?? .init()
            return "<span class=\"dedicated-note\" data-dedicated=\"\(Html.escape(d.code))\">\(Html.escape(d.name))：在办 \(c.open)，超期 \(c.overdue)</span>"
        }
        let elsewhere = tally.elsewhere.open > 0 ? "<span>区、市级 \(tally.elsewhere.open)</span>" : ""
        return "<p class=\"legend\">\(parts.joined())\(elsewhere)</p>"
    }

    func overdue(_ data: ScreenData) -> String {
        guard let list = data.overdue else { return unavailable }
        if list.isEmpty { return "<p class=\"muted\">没有超期案件</p>" }
        let rows = list.map { c -> String in
            let id = c["case_id"] as? String ?? ""
            let due = c["resolve_by"] as? String ?? ""
            let late = Time.parse(due).map { data.now.timeIntervalSince($0) } ?? 0
            let level = (c["escalation"] as? NSNumber)?.intValue ?? 0
            return "<tr data-case=\"\(Html.escape(id))\"><td><a href=\"/case/\(Html.escape(id))\">\(Html.escape(id))</a></td>"
                + "<td>\(Html.escape(c["title"] as? String ?? ""))<small>\(Html.escape(names.place(c["grid"] as? String ?? "")))</small></td>"
                + "<td class=\"nowrap\">\(Html.escape(names.agency(c["lead"] as? String ?? "")))</td>"
                + "<td class=\"nowrap\" title=\"办结时限 \(Time.short(due))\"><span class=\"alarm\">\(Self.duration(late))</span><small>\(Time.short(due))</small></td>"
                + "<td class=\"nowrap\">\(FeedLine.rungName(level).map { "<span class=\"rung r\(min(level, 3))\">\($0)</span>" } ?? "—")</td></tr>"
        }
        let more = (data.overdueTotal ?? 0) > list.count ? "<p class=\"muted\">另有 \((data.overdueTotal ?? 0) - list.count) 件</p>" : ""
        return "<table class=\"overdue\"><thead><tr><th>案件</th><th>标题 · 网格</th><th>主办</th><th>已超 · 时限</th><th>层级</th></tr></thead><tbody>\(rows.joined())</tbody></table>\(more)"
    }

    func whistleList(_ whistles: [[String: Any]], now: Date) -> String {
        if whistles.isEmpty { return "<p class=\"muted\">当前没有进行中的哨</p>" }
        return whistles.map { w -> String in
            let id = w["whistle_id"] as? String ?? ""
            let kind = ["emergency": "应急", "enforcement": "执法", "resident_concern": "民生"][w["kind"] as? String ?? ""] ?? ""
            let summons = (w["summons"] as? [[String: Any]] ?? []).map { s -> String in
                let state = s["state"] as? String ?? ""
                let agency = Html.escape(names.agency(s["agency"] as? String ?? ""))
                switch state {
                case "on_site": return "<li class=\"on-site\">\(agency) <b>已到场</b></li>"
                case "en_route": return "<li class=\"en-route\">\(agency) 在途 <span class=\"countdown\" data-deadline=\"\(Self.millis(s["report_by"]))\"></span></li>"
                case "summoned": return "<li class=\"waiting\">\(agency) 待报到 <span class=\"countdown\" data-deadline=\"\(Self.millis(s["report_by"]))\"></span></li>"
                default: return "<li class=\"muted\">\(agency) \(Html.escape(s["state_zh"] as? String ?? state))</li>"
                }
            }
            return "<div class=\"whistle\" data-whistle=\"\(Html.escape(id))\"><p><b>\(Html.escape(names.place(w["grid"] as? String ?? "")))</b> <span class=\"tag\">\(kind)</span> \(Html.escape(w["reason"] as? String ?? ""))</p><ul>\(summons.joined())</ul></div>"
        }.joined()
    }

    func league(_ stats: [String: Any]?) -> String {
        guard let stats else { return unavailable }
        let agencies = (stats["agencies"] as? [[String: Any]] ?? []).sorted { Self.int($0["dispatches"]) > Self.int($1["dispatches"]) }
        if agencies.isEmpty { return "<p class=\"muted\">本月尚无派单</p>" }
        func pct(_ v: Any?) -> String { (v as? NSNumber).map { String(format: "%.1f%%", $0.doubleValue * 100) } ?? "—" }
        func ratio(_ a: Any?, _ b: Any?) -> String { Self.int(b) == 0 ? "—" : String(format: "%.1f%%", Double(Self.int(a)) * 100 / Double(Self.int(b))) }
        let rows = agencies.map { a -> String in
            let code = a["agency"] as? String ?? ""
            return "<tr data-agency=\"\(Html.escape(code))\"><td>\(Html.escape(names.agency(code)))</td><td>\(Self.int(a["dispatches"]))</td>"
                + "<td>\(ratio(a["acked"], a["dispatches"]))</td><td>\(pct(a["timely_sign_rate"]))</td><td>\(pct(a["on_time_finish_rate"]))</td>"
                + "<td>\(ratio(a["finished"], a["dispatches"]))</td><td>\(pct(a["satisfaction_rate"]))</td><td>\(pct(a["return_rate"]))</td><td>\(pct(a["redo_rate"]))</td></tr>"
        }
        return "<table class=\"league\"><thead><tr><th>部门</th><th>派单</th><th>响应率</th><th>及时签收率</th><th>按期办结率</th><th>解决率</th><th>满意率</th><th>退单率</th><th>重办率</th></tr></thead><tbody>\(rows.joined())</tbody></table>"
    }

    func intake(_ today: [String: Int]?) -> String {
        guard let today else { return unavailable }
        let most = max(1, today.values.max() ?? 1)
        return "<ul class=\"bars\">" + Names.sources.map { s -> String in
            let n = today[s.code] ?? 0
            return "<li data-source=\"\(s.code)\"><span>\(s.name)</span><i style=\"width:\(n * 100 / most)%\"></i><b>\(n)</b></li>"
        }.joined() + "</ul>"
    }

    func petitions(_ stats: [String: Any]?) -> String {
        guard let p = stats?["petitions"] as? [String: Any] else { return unavailable }
        func pct(_ k: String) -> String { (p[k] as? NSNumber).map { String(format: "%.1f%%", $0.doubleValue * 100) } ?? "—" }
        let figures = [("及时受理率", "timely_acceptance_rate"), ("按期办结率", "on_time_finish_rate"), ("参评群众满意率", "satisfaction_rate"),
                       ("群众参评率", "participation_rate"), ("复查率", "review_rate"), ("重复信访率", "repeat_rate")]
        return "<p class=\"muted\">登记 \(Self.int(p["registered"])) 件 · 受理 \(Self.int(p["accepted"])) 件 · 办结 \(Self.int(p["finished"])) 件</p><dl class=\"figures\">"
            + figures.map { "<div data-figure=\"\($0.1)\"><dt>\($0.0)</dt><dd>\(pct($0.1))</dd></div>" }.joined() + "</dl>"
    }

    func health(_ data: ScreenData) -> String {
        let h = data.health
        let state = h.connected && h.answering ? "<b class=\"ok\">正常</b>" : h.connected ? "<b class=\"alarm\">未应答</b>" : "<b class=\"alarm\">未连接</b>"
        return "<p id=\"broker-health\" data-ok=\"\(h.connected && h.answering)\">总线 \(state)"
            + (h.roundTripMs.map { String(format: "<small>查询 %.0f ms", $0) + (h.eventSeq.map { " · 事件 #\($0)" } ?? "") + "</small>" } ?? "")
            + "<small>刷新于 \(Time.short(Time.rfc3339(data.now)).suffix(5))</small></p>"
    }

    static func feedItem(_ l: FeedLine) -> String {
        let link = l.subject.hasPrefix("C") ? "<a href=\"/case/\(Html.escape(l.subject))\">\(Html.escape(l.subject))</a>" : Html.escape(l.subject)
        return "<li data-seq=\"\(l.seq)\" data-type=\"\(Html.escape(l.type))\"><time>\(Time.short(l.at).suffix(5))</time><b>\(Html.escape(EventLabels.chinese(l.type)))</b>\(link) <span>\(Html.escape(l.text))</span></li>"
    }

    static func int(_ v: Any?) -> Int { (v as? NSNumber)?.intValue ?? 0 }
    static func millis(_ v: Any?) -> Int64 { (v as? String).flatMap(Time.parse).map { Int64($0.timeIntervalSince1970 * 1000) } ?? 0 }

    /// "3天4小时", "5小时12分", "8分".
    static func duration(_ s: Double) -> String {
        let m = Int(max(0, s) / 60), h = m / 60, d = h / 24
        if d > 0 { return "\(d)天\(h % 24)小时" }
        if h > 0 { return "\(h)小时\(m % 60)分" }
        return "\(m)分"
    }
}
