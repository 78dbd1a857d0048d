import Foundation

/// 查询: a case id goes straight to its page (WebServer); other words are looked for in the
/// external reference (工单编号, 信访件编号), address and title of the open cases and of those
/// changed in the last 7 days — what QUERY cases can list. Phone numbers are not searchable
/// here: the case objects a monitor reads carry none (the reporter stays with the handling desk).
struct Search: Sendable {
    let names: Names

    func page(_ q: String, _ link: BrokerLink, now: Date = Date()) async -> String {
        guard !q.isEmpty else { return CasePage.frame("查询", "<p>请输入案件编号、工单编号或地址。</p>") }
        var found: [String: [String: Any]] = [:]
        var reached = true
        for state in ScreenData.openStates {
            guard let list = await ScreenData.cases(link, { w in w.field("state", state) }) else { reached = false; break }
            for c in list where Self.matches(c, q) { found[c["case_id"] as? String ?? ""] = c }
        }
        if let recent = await ScreenData.cases(link, { w in w.field("updated_since", Time.rfc3339(now.addingTimeInterval(-7 * 86_400))) }) {
            for c in recent where Self.matches(c, q) { found[c["case_id"] as? String ?? ""] = c }
        } else { reached = false }
        let rows = found.keys.sorted().compactMap { found[$0] }.prefix(200).map { c -> String in
            let id = Html.escape(c["case_id"] as? String ?? "")
            return "<tr><td><a href=\"/case/\(id)\">\(id)</a></td><td>\(Html.escape(c["external_ref"] as? String ?? ""))</td>"
                + "<td>\(Html.escape(c["title"] as? String ?? ""))</td><td>\(Html.escape(c["address"] as? String ?? ""))</td>"
                + "<td>\(Html.escape(c["state_zh"] as? String ?? ""))</td></tr>"
        }
        let note = reached ? "" : "<p class=\"alarm\">总线未应答，结果可能不全。</p>"
        let body = found.isEmpty ? "<p>在办及近 7 日的案件中没有找到“\(Html.escape(q))”。</p>"
            : "<table><thead><tr><th>案件</th><th>编号</th><th>标题</th><th>地址</th><th>状态</th></tr></thead><tbody>\(rows.joined())</tbody></table>"
        return CasePage.frame("查询：\(q)", "<h2>查询“\(Html.escape(q))” <small>\(found.count) 件</small></h2>\(note)\(body)")
    }

    static func matches(_ c: [String: Any], _ q: String) -> Bool {
        ["external_ref", "address", "title", "case_id"].contains { ((c[$0] as? String) ?? "").localizedCaseInsensitiveContains(q) }
    }
}
