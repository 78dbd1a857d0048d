import ArgumentParser
import Foundation
import MusterWire

struct CasesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cases", abstract: "List cases by state, agency, grid, overdue.")

    @OptionGroup var peer: PeerOptions
    @Option(help: "triage 研判, consultation 会商, dispatched 已派单, handling 处置中, finished 已办结, verified 已核实, closed 已结案, rejected 不予受理, merged 已并案 (code or name).") var state: String?
    @Option(help: "The current lead agency: code or name of routing.yaml (reli or 热力).") var agency: String?
    @Option(help: "A grid path prefix.") var grid: String?
    @Flag(help: "Only open cases past their resolve-by.") var overdue = false
    @Option(help: "At most this many.") var limit = 50
    @Option(help: "After this case id (paging).") var after: String?
    @Flag(help: "Print the raw RESULT.") var json = false

    func run() async throws {
        // An unknown value would list 0 cases without a word: refuse it, naming the valid ones.
        let state = try Choices.states.resolve(self.state)
        let agency = try peer.routing.resolve(self.agency, option: "--agency", .agency)
        let (grid, overdue, limit, after) = (self.grid, self.overdue, self.limit, self.after)
        let reply = try await Peer(peer, roles: [.monitor]).request(.query) { w in
            w.field("what", "cases"); w.field("state", state); w.field("agency", agency); w.field("grid", grid)
            if overdue { w.field("overdue", true) }
            w.field("limit", limit); w.field("after", after)
        }
        if json { print(prettyJSON(reply.body)); return }
        let cases = reply.json()["cases"] as? [[String: Any]] ?? []
        let rungs = [1: "催办", 2: "督办", 3: "通报"]
        for c in cases {
            let st = "\(c["state"] as? String ?? "")(\(c["state_zh"] as? String ?? ""))"
            var line = "\(c["case_id"] as? String ?? "")  \(st.padding(toLength: 22, withPad: " ", startingAt: 0)) \((c["lead"] as? String ?? "-").padding(toLength: 10, withPad: " ", startingAt: 0)) \(c["grid"] as? String ?? "")  \(c["title"] as? String ?? "")"
            if overdue, let due = (c["resolve_by"] as? String).flatMap(Self.parse) {
                let late = Int(Date().timeIntervalSince(due))
                line += "  late \(late / 3600)h\(late % 3600 / 60)m"
                if let e = c["escalation"] as? Int { line += ", rung \(e) \(rungs[e] ?? "")" }
            }
            print(line)
        }
        print("\(cases.count) case(s)" + ((reply.json()["next"] as? String).map { "; more after \($0)" } ?? ""))
    }
}

extension CasesCommand {
    static func parse(_ s: String) -> Date? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = f.date(from: s) { return d }
        f.formatOptions = [.withInternetDateTime]
        return f.date(from: s)
    }
}

struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stats", abstract: "Figures per agency: 及时签收率, 按期办结率, 退单率, 满意率; and 信访's 及时受理率, 按期办结率, 参评群众满意率, 群众参评率, 复查率, 重复信访率.")

    @OptionGroup var peer: PeerOptions
    @Option(help: "From (RFC 3339).") var since: String?
    @Option(help: "Until (RFC 3339).") var until: String?
    @Flag(help: "双考核 of whistles: departments on reporting on time, streets and grids on how they whistle.") var whistles = false
    @Flag(help: "Print the raw RESULT.") var json = false

    func run() async throws {
        let (since, until) = (self.since, self.until)
        let reply = try await Peer(peer, roles: [.monitor]).request(.query) { w in
            w.field("what", "stats"); w.field("since", since); w.field("until", until)
        }
        if json { print(prettyJSON(reply.body)); return }
        let r = reply.json()
        if whistles { Self.printWhistles(r["whistles"] as? [String: Any] ?? [:]); return }
        print("cases accepted: \(r["accepted"] ?? 0)   by state: \((r["by_state"] as? [String: Any] ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))")
        func pct(_ v: Any?) -> String { String(format: "%6.1f%%", ((v as? Double) ?? 0) * 100) }
        print("agency       dispatches  及时签收率  按期办结率  退单率   返工率   重办率   满意率")
        for a in r["agencies"] as? [[String: Any]] ?? [] {
            print("\((a["agency"] as? String ?? "").padding(toLength: 12, withPad: " ", startingAt: 0)) \(String(format: "%10d", a["dispatches"] as? Int ?? 0))  \(pct(a["timely_sign_rate"]))   \(pct(a["on_time_finish_rate"]))  \(pct(a["return_rate"])) \(pct(a["rework_rate"])) \(pct(a["redo_rate"])) \(pct(a["satisfaction_rate"]))")
        }
        let p = r["petitions"] as? [String: Any] ?? [:]
        if (p["registered"] as? Int ?? 0) > 0 {
            print("信访 petitions: \(p["registered"] ?? 0) registered, \(p["accepted"] ?? 0) 受理, \(p["finished"] ?? 0) 办结, \(p["replied"] ?? 0) 答复")
            print("  及时受理率 \(pct(p["timely_acceptance_rate"]))  按期办结率 \(pct(p["on_time_finish_rate"]))  参评群众满意率 \(pct(p["satisfaction_rate"]))  "
                  + "群众参评率 \(pct(p["participation_rate"]))  复查率 \(pct(p["review_rate"]))  重复信访率 \(pct(p["repeat_rate"]))")
        }
    }

    /// 双考核: the whistle's two-way scorecard (docs/PROTOCOL.md, QUERY stats, `whistles`).
    static func printWhistles(_ w: [String: Any]) {
        func pct(_ v: Any?) -> String { (v as? Double).map { String(format: "%6.1f%%", $0 * 100) } ?? "      -" }
        func n(_ d: [String: Any], _ k: String) -> String { String(format: "%6d", d[k] as? Int ?? 0) }
        func pad(_ s: String, _ n: Int) -> String { s.padding(toLength: n, withPad: " ", startingAt: 0) }
        print("departments (报到)  summoned  on time    late   never released waiting  按时报到率  median to on site")
        for d in w["departments"] as? [[String: Any]] ?? [] {
            let median = (d["median_to_on_site_s"] as? Int).map { "\($0 / 60)m\($0 % 60)s" } ?? "-"
            print("  \(pad(d["agency"] as? String ?? "", 16))   \(n(d, "summoned"))   \(n(d, "on_time"))  \(n(d, "late"))  \(n(d, "never")) \(n(d, "released"))  \(n(d, "waiting"))    \(pct(d["on_time_rate"]))  \(median)")
        }
        // Names last: they are of any length (and 中文 is two columns wide).
        for (title, key) in [("streets (吹哨)", "streets"), ("grids (吹哨)", "grids")] {
            print("\(title)\n   blown emergency enforcement resident stood down  solved no-show  where")
            for p in w[key] as? [[String: Any]] ?? [] {
                let kinds = p["by_kind"] as? [String: Any] ?? [:]
                print("  \(n(p, "blown"))    \(n(kinds, "emergency"))      \(n(kinds, "enforcement"))   \(n(kinds, "resident_concern"))     \(n(p, "stood_down")) \(pct(p["solved_rate"])) \(n(p, "with_no_show"))  \(p["name"] as? String ?? "") \(p["place"] as? String ?? "")")
            }
        }
    }
}
