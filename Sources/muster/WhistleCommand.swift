import ArgumentParser
import Foundation
import MusterCore
import MusterWire

// 吹哨报到 from the operator's desk: blow a whistle, summon more, stand it down, watch the open ones.
// Each is an ordinary MUSTER/1 request under the operator's key (role ops).

struct WhistleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "whistle", abstract: "吹哨: summon departments to a place; show a whistle's timeline; stand it down.",
        subcommands: [Blow.self, Show.self, StandDownCommand.self], defaultSubcommand: Blow.self)

    struct Blow: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "blow", abstract: "Blow a whistle (the default): muster whistle --grid … --summon 城管,公安 --reason …; or --add W… to summon more.")

        @OptionGroup var peer: PeerOptions
        @Option(help: "Where: a grid path (zz/erqi/jiefanglu) or a dedicated grid's code (erqita).") var grid: String?
        @Option(help: "Why: what the departments are summoned for.") var reason: String?
        @Option(help: "emergency 应急, enforcement 联合执法 or resident_concern 群众诉求 (code or name).") var kind: String = "enforcement"
        @Option(help: "Whom: agency codes or names, comma-separated (城管,公安). Left out: the case's lead and assists, the dedicated grid's units, or for an emergency every agency serving the grid.")
        var summon: String?
        @Option(help: "On site within (30m, 1h); default sla.yaml's whistle_within.") var within: String?
        @Option(name: .customLong("case"), help: "The case it is blown on (its departments come by default; it stands down only once the case is finished).")
        var caseID: String?
        @Option(help: "Summon more departments to this open whistle instead (增派).") var add: String?
        @Flag(help: "Print the raw reply.") var json = false

        func validate() throws {
            if add == nil, grid == nil || reason == nil { throw ValidationError("give --grid and --reason (or --add W… --summon … to summon more)") }
            if add != nil, summon == nil { throw ValidationError("--add needs --summon") }
            _ = try Self.kinds.resolve(kind)
        }

        static let kinds = Choices(option: "--kind", choices: [
            Choices.Choice(code: WhistleKind.emergency.rawValue, names: ["应急"]),
            Choices.Choice(code: WhistleKind.enforcement.rawValue, names: ["联合执法"]),
            Choices.Choice(code: WhistleKind.residentConcern.rawValue, names: ["群众诉求"]),
        ])

        func run() async throws {
            let names = (summon ?? "").split(whereSeparator: { $0 == "," || $0 == "，" }).map { $0.trimmingCharacters(in: .whitespaces) }
            let agencies = try peer.routing.resolve(names, option: "--summon", .agency)
            let kind = try Self.kinds.resolve(self.kind)
            let (add, grid, reason, within, caseID) = (self.add, self.grid, self.reason, self.within, self.caseID)
            let reply = try await Peer(peer, roles: [.ops]).request(.whistle) { w in
                if let add {
                    w.field("whistle_id", add)
                } else {
                    w.field("grid", grid); w.field("reason", reason); w.field("kind", kind)
                    w.field("report_within", within); w.field("case_id", caseID)
                }
                if !agencies.isEmpty { w.field("summon", agencies) }
            }
            if json { print(prettyJSON(reply.body)); return }
            let r = reply.json()
            print("OK: whistle \(r["whistle_id"] as? String ?? "?") — summoned \((r["summoned"] as? [String] ?? []).joined(separator: ", "))"
                  + ((r["report_by"] as? String).map { ", on site by \($0)" } ?? ""))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "One whistle: its departments and its whole timeline.")

        @OptionGroup var peer: PeerOptions
        @Argument(help: "The whistle id, e.g. W0000000001.") var whistleID: String
        @Flag(help: "Print the raw RESULT.") var json = false

        func run() async throws {
            let id = whistleID
            let reply = try await Peer(peer, roles: [.monitor]).request(.query) { w in w.field("what", "whistle"); w.field("whistle_id", id) }
            if json { print(prettyJSON(reply.body)); return }
            let r = reply.json()
            guard let w = r["whistle"] as? [String: Any] else { throw CLIError("malformed RESULT") }
            WhistlesCommand.printWhistle(w)
            print("  timeline:")
            func s(_ d: [String: Any], _ k: String) -> String { (d[k] as? String) ?? (d[k].map { "\($0)" } ?? "-") }
            for e in (r["timeline"] as? [[String: Any]]) ?? [] {
                print("    #\(s(e, "seq"))  \(s(e, "at"))  \(CaseCommand.label(s(e, "type")))  by \(s(e, "actor"))\(CaseCommand.detail(e["data"]))")
            }
        }
    }

    struct StandDownCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "stand-down", abstract: "撤哨: stand the whistle down (refused while its case is unfinished, 事不完、人不撤), or let one department go.")

        @OptionGroup var peer: PeerOptions
        @Argument(help: "The whistle id.") var whistleID: String
        @Option(help: "Let only this department go (code or name); the whistle stays open.") var agency: String?
        @Option(help: "The centre's reason to stand down while the case is unfinished.") var override: String?
        @Option(help: "A note for the record.") var note: String?
        @Flag(help: "Print the raw reply.") var json = false

        func run() async throws {
            let agency = try peer.routing.resolve(self.agency, option: "--agency", .agency)
            let (id, override, note) = (whistleID, self.override, self.note)
            let reply = try await Peer(peer, roles: [.ops]).request(.standDown) { w in
                w.field("whistle_id", id); w.field("agency", agency); w.field("override", override); w.field("note", note)
            }
            if json { print(prettyJSON(reply.body)); return }
            let r = reply.json()
            print("OK: whistle \(r["whistle_id"] as? String ?? id) — \(r["state"] as? String ?? "?")" + (agency.map { ", \($0) released" } ?? ""))
        }
    }
}

struct WhistlesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "whistles", abstract: "Open whistles with who has reported and the time left to be on site (--all: closed ones too).")

    @OptionGroup var peer: PeerOptions
    @Flag(help: "Closed whistles too, newest first.") var all = false
    @Option(help: "At most this many.") var limit = 50
    @Flag(help: "Print the raw RESULT.") var json = false

    func run() async throws {
        let (all, limit) = (self.all, self.limit)
        let reply = try await Peer(peer, roles: [.monitor]).request(.query) { w in
            w.field("what", "whistles"); w.field("state", all ? "all" : "open"); w.field("limit", limit)
        }
        if json { print(prettyJSON(reply.body)); return }
        let list = reply.json()["whistles"] as? [[String: Any]] ?? []
        if list.isEmpty { print(all ? "no whistles" : "no open whistles") }
        for w in list { Self.printWhistle(w) }
    }

    /// A whistle and its departments: state, on site or the countdown (negative: late).
    static func printWhistle(_ w: [String: Any]) {
        func s(_ k: String) -> String { (w[k] as? String) ?? "-" }
        print("\(s("whistle_id"))  \(s("state"))(\(s("state_zh")))  \(s("kind"))  \(s("grid_name"))  \(s("reason"))")
        print("  blown by \(s("blown_by")) at \(s("blown_at"))" + ((w["case_id"] as? String).map { "  case \($0)" } ?? "")
              + ((w["override"] as? String).map { "  overridden: \($0)" } ?? ""))
        for d in w["summons"] as? [[String: Any]] ?? [] {
            let agency = (d["agency"] as? String ?? "").padding(toLength: 10, withPad: " ", startingAt: 0)
            let state = "\(d["state"] as? String ?? "")(\(d["state_zh"] as? String ?? ""))".padding(toLength: 20, withPad: " ", startingAt: 0)
            var line = "    \(agency) \(state)"
            if let at = d["on_site_at"] as? String { line += " on site \(at)" + ((d["on_time"] as? Bool) == true ? " 按时" : " 迟到 late") }
            if let left = d["remaining_s"] as? Int {
                line += left >= 0 ? " \(left / 60)m\(left % 60)s left" : " late by \(-left / 60)m\(-left % 60)s"
            }
            if let e = d["escalation"] as? Int { line += "  " + ([1: "催办", 2: "督办", 3: "通报"][e] ?? "level \(e)") }
            print(line)
        }
    }
}
