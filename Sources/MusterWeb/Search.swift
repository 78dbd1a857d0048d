import Foundation
import MusterConfig

/// 查询: a case id goes straight to its page (WebServer); a phone number, for a logged-in
/// operator, finds the cases that phone reported (QUERY cases `phone`, role ops; shown masked,
/// petitions never); other words are looked for in the external reference (工单编号, 信访件编号),
/// address and title of the open cases and of those changed in the last 7 days.
struct Search: Sendable {
    let names: Names

    /// A mainland mobile (1 and 11 digits), a landline with its area code (0 first), or an
    /// international number (+): blanks and dashes aside. A reference (2026-0100) is not one.
    static func isPhone(_ q: String) -> Bool {
        let d = q.filter { $0 != " " && $0 != "-" }
        return d.range(of: #"^(1[0-9]{10}|0[0-9]{9,11}|\+[0-9]{7,15})$"#, options: .regularExpression) != nil
    }

    /// "138****1111": enough to recognise, not to call.
    static func masked(_ phone: String) -> String {
        let digits = Array(phone.filter { $0 != " " && $0 != "-" })
        guard digits.count > 7 else { return String(repeating: "*", count: digits.count) }
        return String(digits.prefix(3)) + String(repeating: "*", count: digits.count - 7) + String(digits.suffix(4))
    }

    func byPhone(_ q: String, op: WebConfig.Operator?, desk: OperatorDesk, now: Date) async -> String {
        let shown = Self.masked(q)
        guard let op else {
            return CasePage.frame("查询", "<p class=\"error\" id=\"phone-login\">按电话查询需<a href=\"/login\">值班登录</a>（找的是人，仅限值班人员）。</p>")
        }
        let since = Time.rfc3339(now.addingTimeInterval(-365 * 86_400))
        guard let r = await desk.query(op, "cases", { w in w.field("phone", q); w.field("updated_since", since); w.field("limit", 200) }) else {
            return CasePage.frame("查询", op: op, "<p class=\"alarm\">总线未应答，请稍后再试。</p>")
        }
        let found = r.command == .result ? (r.json()["cases"] as? [[String: Any]] ?? []) : []
        let rows = found.map { c -> String in
            let id = Html.escape(c["case_id"] as? String ?? "")
            return "<tr><td><a href=\"/case/\(id)\">\(id)</a></td><td>\(Html.escape(c["external_ref"] as? String ?? ""))</td>"
                + "<td>\(Html.escape(c["title"] as? String ?? ""))</td><td>\(Html.escape(c["state_zh"] as? String ?? ""))</td></tr>"
        }.joined()
        let body = found.isEmpty ? "<p>近一年没有电话 \(shown) 反映的案件。</p>"
            : "<table id=\"by-phone\"><thead><tr><th>案件</th><th>编号</th><th>标题</th><th>状态</th></tr></thead><tbody>\(rows)</tbody></table>"
        return CasePage.frame("查询：\(shown)", op: op, "<h2>电话 \(shown) 反映的案件 <small>\(found.count) 件 · 近一年 · 不含信访</small></h2>\(body)")
    }

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
