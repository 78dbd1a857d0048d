import ArgumentParser
import Foundation
import MusterCore
import MusterWire

struct CaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "case", abstract: "Show one case with its whole timeline.")

    @OptionGroup var peer: PeerOptions
    @Argument(help: "The case id, e.g. C0000000001.") var caseID: String
    @Flag(help: "Print the raw RESULT.") var json = false

    func run() async throws {
        let id = caseID
        let reply = try await Peer(peer, roles: [.monitor]).request(.query) { w in
            w.field("what", "case"); w.field("case_id", id)
        }
        if json { print(prettyJSON(reply.body)); return }
        let r = reply.json()
        guard let c = r["case"] as? [String: Any] else { throw CLIError("malformed RESULT") }
        func s(_ d: [String: Any], _ k: String) -> String { (d[k] as? String) ?? (d[k].map { "\($0)" } ?? "-") }
        print("\(s(c, "case_id"))  \(s(c, "title"))")
        print("  state     \(s(c, "state")) (\(s(c, "state_zh")))   round \(s(c, "round"))")
        print("  category  \(s(c, "category"))   priority \(s(c, "priority"))   source \(s(c, "source")) #\(s(c, "external_ref"))")
        print("  grid      \(s(c, "grid")) — \(s(c, "grid_name"))")
        if let a = c["address"] as? String { print("  address   \(a)") }
        print("  lead      \(s(c, "lead"))   assists \((c["assists"] as? [String])?.joined(separator: ", ") ?? "-")")
        print("  accepted  \(s(c, "accepted_at"))   resolve by \(s(c, "resolve_by"))")
        if let p = c["petition"] as? [String: Any] {
            // 信访: its own course beside the handling (docs/PROTOCOL.md, "Petitions").
            print("  信访      \(s(p, "state")) (\(s(p, "state_zh")))" + ((p["about"] as? [String]).map { $0.isEmpty ? "" : "   about \($0.joined(separator: ", "))" } ?? "")
                  + ((p["repeat_of"] as? String).map { "   repeat of \($0)" } ?? ""))
            for n in (p["notices"] as? [[String: Any]]) ?? [] {
                print("    \(s(n, "kind_zh")) \((n["number"] as? String) ?? "")  served \(s(n, "served_at"))" + ((n["window_closes"] as? String).map { "   window closes \($0)" } ?? ""))
            }
            if let o = p["objection"] as? [String: Any] {
                let ruling = (o["upheld"] as? Bool).map { $0 ? "upheld 异议成立" : "overruled 异议不成立" } ?? "pending 待定"
                print("    异议 by \(s(o, "agency")) at \(s(o, "at")): \(s(o, "reason")) — \(ruling)")
            }
            if let w = p["window_closes"] as? String { print("    request window closes \(w)") }
            if let b = p["decide_by"] as? String { print("    to be decided by \(b)") }
        }
        if let ds = r["dispatches"] as? [[String: Any]], !ds.isEmpty {
            print("  dispatches:")
            for d in ds {
                let provisional = (d["provisional"] as? Bool) == true ? "   (临时 provisional: a year's holiday notice is not yet in config/calendar)" : ""
                print("    \(s(d, "dispatch_id"))  \(s(d, "agency")) \(s(d, "role")) round \(s(d, "round"))  \(s(d, "state")) (\(s(d, "state_zh")))  sign by \(s(d, "ack_by"))  finish by \(s(d, "resolve_by"))\(provisional)")
                for m in (d["milestones"] as? [[String: Any]]) ?? [] {
                    let when = (m["reached_at"] as? String).map { "reached \($0)" } ?? (m["due_by"] as? String).map { "due by \($0)" } ?? "after the stage before"
                    print("      阶段 \(s(m, "name")) (\(s(m, "within")))  \(when)")
                }
            }
        }
        print("  timeline:")
        for e in (r["timeline"] as? [[String: Any]]) ?? [] {
            print("    #\(s(e, "seq"))  \(s(e, "at"))  \(Self.label(s(e, "type")))  by \(s(e, "actor"))\(Self.detail(e["data"]))")
        }
    }

    static var labels: [String: String] { EventLabels.names }

    static func label(_ type: String) -> String { labels[type].map { "\($0) [\(type)]" } ?? type }

    /// The few details worth a glance; `--json` has all.
    static func detail(_ data: Any?) -> String {
        guard let d = data as? [String: Any] else { return "" }
        var parts: [String] = []
        if let x = d["dispatch"] as? [String: Any], let a = x["agency"] as? String {
            parts.append("→ \(a) (\(x["role"] as? String ?? ""), round \(x["round"] ?? ""))")
        }
        for key in ["reason", "note", "result", "handler", "merged_into", "lead", "satisfaction", "agency", "status", "override", "report_by", "milestone", "next_due_by", "request_zh", "decide_by"] {
            if let v = d[key] as? String { parts.append("\(key): \(v)") }
        }
        if let p = d["passed"] as? Bool { parts.append(p ? "passed" : "failed") }
        if let n = d["notice"] as? [String: Any] { parts.append("\(n["kind_zh"] ?? "") \(n["number"] ?? "")") }
        if let u = d["upheld"] as? Bool { parts.append(u ? "upheld 异议成立" : "overruled 异议不成立") }
        if let g = d["suggestions"] as? [[String: Any]], !g.isEmpty {  // 智能派单's guesses for the dispatcher
            parts.append("建议 suggested: " + g.map { "\($0["category"] ?? "") \(($0["confidence"] as? Double).map { String(format: "%.2f", $0) } ?? "")" }
                .joined(separator: ", "))
        }
        if d["milestone"] != nil, d["late"] as? Bool == true { parts.append("late 逾期") }
        if let a = d["attachments"] as? [Any], !a.isEmpty { parts.append("\(a.count) attachment(s)") }
        if let rungs = d["rungs"] as? [[String: Any]] {
            parts.append(rungs.map { "\($0["clock"] ?? "") \($0["notice"] ?? "") at \(($0["due"] as? String)?.prefix(16) ?? "")" }.joined(separator: ", "))
        }
        if let r = d["rung"] as? [String: Any] { parts.append("\(r["clock"] ?? "") \(r["notice"] ?? "") level \(r["level"] ?? "")") }
        if let by = d["resolve_by"] as? String { parts.append("resolve by \(by)") }
        if let due = d["due"] as? [String: Any], let by = due["resolve_by"] as? String { parts.append("now sign by \(due["ack_by"] ?? ""), finish by \(by)") }
        if let x = d["dispatch"] as? [String: Any], x["provisional"] as? Bool == true { parts.append("deadlines provisional 临时") }
        return parts.isEmpty ? "" : "  — " + parts.joined(separator: "; ")
    }
}
