import Foundation

/// What the register says about a complaint's construction site, and so what the work order asks.
enum SiteFinding: Sendable, Equatable {
    /// Inside a permitted night-work window: answered with the permit (解释答复), not enforced.
    case permitted(Site, NightWorkWindow, at: Date)
    /// Enforce (查处): outside any window, not a night-work category, or no site registered there.
    case enforce(Site?, at: Date)
    /// The register could not be asked: enforce all the same — a complaint is never dropped.
    case registerUnreachable(String, at: Date)

    var action: String {
        if case .permitted = self { return "explain" }
        return "enforce"
    }

    /// The 办结 answer for a permitted window.
    var explanation: String? {
        guard case .permitted(let site, let w, _) = self else { return nil }
        let company = site.company.isEmpty ? "" : "，\(site.company)"
        let reason = w.reason.isEmpty ? "" : "，事由 \(w.reason)"
        return "解释答复：该工地持夜间施工许可（许可证号 \(site.permit)\(company)，许可时段 \(w.hours)，\(w.from.text)至\(w.to.text)\(reason)）"
    }

    /// The work order's members for it.
    func fields(zone: TimeZone) -> [String: Any] {
        let f = ISO8601DateFormatter()
        f.timeZone = zone
        switch self {
        case .permitted(let site, let w, let at):
            return ["action": "explain", "site": site.json, "complaint_at": f.string(from: at), "permit": site.permit,
                    "permitted_window": ["from": w.from.text, "to": w.to.text, "hours": w.hours, "reason": w.reason],
                    "explanation": explanation ?? ""]
        case .enforce(let site?, let at):
            return ["action": "enforce", "site": site.json, "complaint_at": f.string(from: at), "permit": site.permit,
                    "register": "工地已登记，投诉时间不在许可夜间施工时段内"]
        case .enforce(nil, let at):
            return ["action": "enforce", "complaint_at": f.string(from: at), "register": "该地址未查到登记在册的施工工地"]
        case .registerUnreachable(let why, let at):
            return ["action": "enforce", "complaint_at": f.string(from: at), "register": "工地登记系统无法查询（\(why)），按查处派发"]
        }
    }
}
