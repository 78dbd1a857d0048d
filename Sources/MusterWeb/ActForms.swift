import Foundation
import MusterConfig

/// The forms a logged-in operator sees on a case's page — only the acts config/web.yaml lets
/// them try and the case's state allows; the broker checks each again (docs/PROTOCOL.md).
struct ActForms: Sendable {
    let names: Names

    /// 32 random hex digits (a CSPRNG).
    static func nonce() -> String {
        var rng = SystemRandomNumberGenerator()
        return (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &rng)) }.joined()
    }

    func html(_ r: [String: Any], op: WebConfig.Operator) -> String {
        let c = r["case"] as? [String: Any] ?? [:]
        let id = Html.escape(c["case_id"] as? String ?? "")
        let state = c["state"] as? String ?? ""
        var forms: [String] = []
        let agencies = names.routing.agencies.keys.sorted()
        if op.may.contains(.assign), ["triage", "consultation", "dispatched", "handling"].contains(state) {
            let options = agencies.map { "<option value=\"\($0)\"\(c["lead"] as? String == $0 ? " selected" : "")>\(Html.escape(names.agency($0)))</option>" }.joined()
            let assists = agencies.map { "<label><input type=\"checkbox\" name=\"assist.\($0)\">\(Html.escape(names.agency($0)))</label>" }.joined()
            forms.append("""
                <form class="act" id="act-assign" method="post" action="/case/\(id)/assign"><h4>指派 / 改派</h4>\
                <label>主办 <select name="lead">\(options)</select></label><div class="assists">协办 \(assists)</div>\
                <label>说明 <input name="note" maxlength="500"></label><button>指派</button></form>
                """)
        }
        if op.may.contains(.reject), ["triage", "consultation"].contains(state) {
            forms.append("""
                <form class="act" id="act-reject" method="post" action="/case/\(id)/reject"><h4>不予受理</h4>\
                <label>理由 <input name="reason" required maxlength="500"></label><button>不予受理</button></form>
                """)
        }
        let open = (r["dispatches"] as? [[String: Any]] ?? []).filter { ["sent", "acked"].contains($0["state"] as? String ?? "") }
        if op.may.contains(.extend), !open.isEmpty {
            let options = open.map { d -> String in
                let did = Html.escape(d["dispatch_id"] as? String ?? "")
                return "<option value=\"\(did)\">\(did) \(Html.escape(names.agency(d["agency"] as? String ?? "")))</option>"
            }.joined()
            forms.append("""
                <form class="act" id="act-extend" method="post" action="/case/\(id)/extend"><h4>延期审批</h4>\
                <label>派单 <select name="dispatch_id">\(options)</select></label><label>延长 <input name="by" value="3wd" size="5" required></label>\
                <label>理由 <input name="reason" required maxlength="500"></label><button>批准延期</button></form>
                """)
        }
        if op.may.contains(.whistle), !["finished", "verified", "closed", "rejected", "merged"].contains(state) {
            forms.append("""
                <form class="act" id="act-whistle" method="post" action="/case/\(id)/whistle"><h4>吹哨</h4>\
                <label>类型 <select name="kind"><option value="enforcement">联合执法</option><option value="resident_concern">群众诉求</option>\
                <option value="emergency">应急</option></select></label>\
                <label>事由 <input name="reason" required maxlength="2000"></label><button>吹哨</button></form>
                """)
        }
        guard !forms.isEmpty else { return "" }
        // Each form its own request id: sent twice (a timeout, a double click), applied once.
        forms = forms.map { $0.replacingOccurrences(of: "<button>", with: "<input type=\"hidden\" name=\"rid\" value=\"\(Self.nonce())\"><button>") }
        return "<h3>处置 <small>以 \(Html.escape(op.name)) 的名义提交</small></h3><div class=\"acts\">\(forms.joined())</div>"
    }
}
