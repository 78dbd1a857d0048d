import Foundation
import MusterConfig
import MusterWire

/// A case's page: its facts, its dispatches with their deadlines, and its whole timeline (with
/// the events of the whistles blown on it) as QUERY case answers it — what the centre reads
/// when the screen shows the case overdue.
public struct CasePage: Sendable {
    public let names: Names

    public init(names: Names) { self.names = names }

    public func page(_ r: [String: Any], op: WebConfig.Operator? = nil, flash: String? = nil) -> String {
        let c = r["case"] as? [String: Any] ?? [:]
        let id = c["case_id"] as? String ?? ""
        func s(_ o: [String: Any], _ k: String) -> String { Html.escape((o[k] as? String) ?? "") }
        func t(_ o: [String: Any], _ k: String) -> String { (o[k] as? String).map(Time.short) ?? "—" }
        let assists = (c["assists"] as? [String] ?? []).map(names.agency).joined(separator: "、")
        let level = (c["escalation"] as? NSNumber)?.intValue ?? 0
        let petition = (c["petition"] as? [String: Any]).map { p -> String in
            "<tr><th>信访</th><td>\(s(p, "state_zh"))" + ((p["notices"] as? [[String: Any]] ?? []).map { n -> String in " · \(s(n, "kind_zh")) \(s(n, "number"))" }.joined()) + "</td></tr>"
        } ?? ""
        let facts = """
            <table class="facts"><tr><th>标题</th><td>\(s(c, "title"))</td></tr>\
            <tr><th>类别</th><td>\(Html.escape(names.category(c["category"] as? String ?? "")))</td></tr>\
            <tr><th>来源</th><td>\(Html.escape(Names.sources.first { $0.code == c["source"] as? String }?.name ?? s(c, "source"))) \(s(c, "external_ref"))</td></tr>\
            <tr><th>网格</th><td>\(s(c, "grid_name"))</td></tr><tr><th>地址</th><td>\(s(c, "address"))</td></tr>\
            <tr><th>状态</th><td><b id="case-state">\(s(c, "state_zh"))</b>\(level > 0 ? " <span class=\"rung r\(min(level, 3))\">\(FeedLine.rungName(level) ?? "")</span>" : "")</td></tr>\
            <tr><th>主办</th><td>\(Html.escape(names.agency(c["lead"] as? String ?? "")))\(assists.isEmpty ? "" : "，协办 \(Html.escape(assists))")</td></tr>\
            <tr><th>受理</th><td>\(t(c, "accepted_at"))</td></tr><tr><th>办结时限</th><td>\(t(c, "resolve_by"))</td></tr>\(petition)</table>
            """
        let dispatches = (r["dispatches"] as? [[String: Any]] ?? []).map { d -> String in
            "<tr><td>\(s(d, "dispatch_id"))</td><td>\(Html.escape(names.agency(d["agency"] as? String ?? "")))</td><td>\(d["role"] as? String == "lead" ? "主办" : "协办")</td>"
                + "<td>\(s(d, "state_zh"))</td><td>\(t(d, "sent_at"))</td><td>\(t(d, "ack_by"))</td><td>\(t(d, "acked_at"))</td><td>\(t(d, "resolve_by"))</td><td>\(s(d, "handler"))</td></tr>"
        }.joined()
        let timeline = (r["timeline"] as? [[String: Any]] ?? []).map { e -> String in
            let type = e["type"] as? String ?? ""
            let words = FeedLine.words(type, e["data"] as? [String: Any] ?? [:], agency: names.agency)
            let hash = e["hash"] as? String ?? ""
            let intact = e["intact"] as? Bool
            return "<li data-seq=\"\((e["seq"] as? NSNumber)?.int64Value ?? 0)\" data-hash=\"\(Html.escape(hash))\" data-intact=\"\(intact.map { "\($0)" } ?? "")\">"
                + "<time>\(t(e, "at"))</time><b>\(Html.escape(EventLabels.chinese(type)))</b>"
                + "<span>\(Html.escape(words))</span><i>\(s(e, "actor"))</i>"
                + "<code title=\"SHA-256 \(Html.escape(hash))，前一事件 \(s(e, "prev_hash"))\"\(intact == false ? " class=\"broken\"" : "")>\(hash.prefix(12))</code></li>"
        }.joined()
        return Self.frame("案件 \(id)", op: op, """
            <h2>案件 \(Html.escape(id))</h2>\(flash.map { "<p class=\"flash\" id=\"flash\">\(Html.escape($0))</p>" } ?? "")\(facts)
            \(op.map { ActForms(names: names).html(r, op: $0) } ?? "")
            <h3>派单</h3><table><thead><tr><th>派单号</th><th>部门</th><th>角色</th><th>状态</th><th>派出</th><th>签收时限</th><th>签收</th><th>办结时限</th><th>承办人</th></tr></thead><tbody>\(dispatches)</tbody></table>
            <h3>全过程 <small>事件日志（哈希链）中的顺序</small></h3>\(Self.chainLine(r["chain"] as? [String: Any]))<ol class="timeline">\(timeline)</ol>
            """)
    }

    /// The broker's check of the case's links in the hash chain: each event's hash is SHA-256 of
    /// the event before it in the log and its own stored fields (docs/PROTOCOL.md, QUERY `chain`).
    static func chainLine(_ chain: [String: Any]?) -> String {
        guard let chain else { return "" }
        let n = (chain["checked"] as? NSNumber)?.intValue ?? 0
        return chain["intact"] as? Bool == true
            ? "<p class=\"chain ok\" id=\"chain\" data-intact=\"true\">哈希链校验通过：\(n) 条事件，每条与日志中前一事件的哈希相连</p>"
            : "<p class=\"chain error\" id=\"chain\" data-intact=\"false\">哈希链校验未通过：事件记录可能被改动，请运行 muster verify-log</p>"
    }

    /// A page of the web's own, in the screen's colours, with a way back.
    public static func frame(_ title: String, op: WebConfig.Operator? = nil, _ body: String) -> String {
        """
        <!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
        <title>\(Html.escape(title)) · 城市运行中心</title><style>\(ScreenPage.css)\(css)</style></head><body>
        <header><h1><a href="/">城市运行中心</a> <small>\(Html.escape(title))</small></h1>
        <form class="search" action="/search" method="get"><input name="q" placeholder="案件编号 / 工单编号 / 地址" aria-label="搜索"><button>查询</button></form>\(ScreenPage.who(op))</header>
        <article>\(body)</article></body></html>
        """
    }

    static let css = """
    .acts{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:12px}.act{background:#0b1a2e;border:1px solid #1f4f85;\
    border-radius:6px;padding:8px 12px}.act h4{margin:0 0 6px;color:#ffd27a}.act label{display:block;margin:4px 0}.act input,.act select{background:#102a4a;\
    color:#e6edf5;border:1px solid #2c5b91;padding:3px 6px}.act button{margin-top:6px;background:#1f4f85;color:#fff;border:0;padding:5px 14px}\
    .assists label{display:inline-block;margin-right:10px}.flash{background:#14532d;padding:6px 10px;border-radius:4px}.error{background:#7a1d12;\
    padding:6px 10px;border-radius:4px}.login{max-width:360px}.login input{display:block;width:100%;margin:4px 0 10px;padding:6px;background:#0b1a2e;\
    color:#e6edf5;border:1px solid #2c5b91}article{max-width:1200px;margin:16px auto;background:#102a4a;border:1px solid #1f4f85;border-radius:6px;padding:16px 24px}\
    h1 a{color:#e6edf5}h3{color:#9cd0ff;margin:18px 0 6px}.facts th{width:7em;text-align:right;border:0;vertical-align:top}.facts td{border:0}\
    .timeline{list-style:none;padding:0;margin:0}.timeline li{display:grid;grid-template-columns:7em 9em 1fr 12em 8em;gap:8px;padding:5px 0;\
    border-bottom:1px solid #17375f}.timeline time{color:#7d9bbd}.timeline b{color:#ffd27a}.timeline i{color:#7d9bbd;font-style:normal}\
    .timeline code{color:#7d9bbd;font-size:12px}.timeline code.broken{color:#ff7a6b}.chain.ok{color:#6ee7a8}
    """
}
