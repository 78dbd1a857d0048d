import ArgumentParser
import Foundation
import MusterCore
import MusterWire

// The operator's acts (城运中心 值班长), as MUSTER/1 requests with role ops: the operator's key
// (peers.yaml `operator`: intake, ops, monitor) allows each of them (docs/SECURITY.md).

/// Prints an OK reply: `OK: case C… — dispatched (已派单), dispatch D…`, or the raw JSON.
private func printOK(_ reply: CLIReply, json: Bool, _ extra: String = "") {
    if json { print(prettyJSON(reply.body)); return }
    let r = reply.json()
    var line = "\(reply.command.rawValue): case \(r["case_id"] as? String ?? "?")"
    if let s = r["state"] as? String { line += " — \(s)" + (CaseState(rawValue: s).map { " (\($0.chinese))" } ?? "") }
    if let d = r["dispatch_id"] as? String { line += ", dispatch \(d)" }
    if let by = r["resolve_by"] as? String { line += ", resolve by \(by)" }
    print(line + extra)
}

struct AssignCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "assign", abstract: "指派 / 会商指派 / 改派: give a case a lead agency (and assists); its lead may not return it.")

    @OptionGroup var peer: PeerOptions
    @Argument(help: "The case id, e.g. C0000000001.") var caseID: String
    @Option(help: "The lead agency (主办): code or name (chengguan or 城管).") var lead: String
    @Option(help: "An assisting agency (协办); repeat for several.") var assist: [String] = []
    @Option(help: "A note for the record.") var note: String?
    @Flag(help: "Print the raw reply.") var json = false

    func run() async throws {
        let lead = try peer.routing.resolve([self.lead], option: "--lead", .agency)[0]
        let assists = try peer.routing.resolve(assist, option: "--assist", .agency)
        let (id, note) = (caseID, self.note)
        let reply = try await Peer(peer, roles: [.ops]).request(.assign) { w in
            w.field("case_id", id); w.field("lead", lead)
            if !assists.isEmpty { w.field("assists", assists) }
            w.field("note", note)
        }
        printOK(reply, json: json, " → \(lead)" + (assists.isEmpty ? "" : ", assists \(assists.joined(separator: ", "))"))
    }
}

struct RejectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reject", abstract: "不予受理: reject a case waiting in triage (研判) or consultation (会商), with the reason.")

    @OptionGroup var peer: PeerOptions
    @Argument(help: "The case id.") var caseID: String
    @Option(help: "Why it is not accepted (told to the caller).") var reason: String
    @Flag(help: "Print the raw reply.") var json = false

    func run() async throws {
        let (id, reason) = (caseID, self.reason)
        let reply = try await Peer(peer, roles: [.ops]).request(.reject) { w in w.field("case_id", id); w.field("reason", reason) }
        printOK(reply, json: json)
    }
}

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify", abstract: "核实: record the on-site check of a finished case; failed sends it back to its lead (返工).")

    enum Outcome: String, EnumerableFlag {
        case passed, failed
        static func help(for value: Outcome) -> ArgumentHelp? {
            value == .passed ? "The problem is gone (核实通过)." : "It is not (核实不通过 → 返工 rework)."
        }
    }

    @OptionGroup var peer: PeerOptions
    @Argument(help: "The case id.") var caseID: String
    @Flag var outcome: Outcome
    @Option(help: "What was found on site.") var note: String?
    @Flag(help: "Print the raw reply.") var json = false

    func run() async throws {
        let (id, passed, note) = (caseID, outcome == .passed, self.note)
        let reply = try await Peer(peer, roles: [.ops]).request(.verify) { w in
            w.field("case_id", id); w.field("passed", passed); w.field("note", note)
        }
        printOK(reply, json: json)
    }
}

struct EvaluateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate", abstract: "回访评价: record the caller's rating; satisfied closes the case (结案), dissatisfied sends it back (重办).")

    @OptionGroup var peer: PeerOptions
    @Argument(help: "The case id.") var caseID: String
    @Option(help: "satisfied 满意, basically_satisfied 基本满意 or dissatisfied 不满意 (code or name).") var satisfaction: String
    @Option(help: "What the caller said.") var note: String?
    @Flag(help: "Print the raw reply.") var json = false

    func run() async throws {
        let satisfaction = try Choices.satisfactions.resolve(self.satisfaction)
        let (id, note) = (caseID, self.note)
        let reply = try await Peer(peer, roles: [.ops]).request(.evaluate) { w in
            w.field("case_id", id); w.field("satisfaction", satisfaction); w.field("note", note)
        }
        printOK(reply, json: json)
    }
}

struct ExtendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "extend", abstract: "延期: move a dispatch's resolve-by later, before it passes (the centre may go beyond auto-approval, not beyond max_total).")

    @OptionGroup var peer: PeerOptions
    @Argument(help: "The dispatch id, e.g. D0000000001.") var dispatchID: String
    @Option(help: "How much later: 30m, 2h, 3d, 4wh (working hours), 5wd (working days).") var by: String
    @Option(help: "Why (for the record).") var reason: String
    @Flag(help: "Print the raw reply.") var json = false

    func run() async throws {
        let (id, by, reason) = (dispatchID, self.by, self.reason)
        let reply = try await Peer(peer, roles: [.ops]).request(.extend) { w in
            w.field("dispatch_id", id); w.field("by", by); w.field("reason", reason)
        }
        printOK(reply, json: json)
    }
}

struct BacklogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backlog", abstract: "挂账: keep an overdue dispatch on the list with a written explanation; its resolve ladder stops.")

    @OptionGroup var peer: PeerOptions
    @Argument(help: "The dispatch id.") var dispatchID: String
    @Option(help: "Why it cannot be finished yet (at least 10 characters).") var explanation: String
    @Flag(help: "Print the raw reply.") var json = false

    func run() async throws {
        let (id, explanation) = (dispatchID, self.explanation)
        let reply = try await Peer(peer, roles: [.ops]).request(.backlog) { w in
            w.field("dispatch_id", id); w.field("explanation", explanation)
        }
        printOK(reply, json: json)
    }
}
