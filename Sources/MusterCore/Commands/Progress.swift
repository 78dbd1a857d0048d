import Foundation
import MusterWire

/// PROGRESS (处置反馈): a note and photos on the way; nothing moves. Naming a `milestone`, it
/// also reaches that stage of a staged limit — only the stage running now.
public enum OnProgress: CaseCommandKind {
    public static let name = Command.progress
    public static let roles: Set<Role> = [.agency]
    public static func needs(_ b: Body, _ rules: Rules) -> Ledger.Needs { Ledger.Needs(dispatches: [b.dispatchID]) }

    public static func decide(_ b: ProgressUpdate, _ ledger: inout Ledger, _ run: inout Ledger.Run) throws(WireError) -> Reply {
        var reached: Fact.Change?
        let reply = try ledger.actOnDispatch(.progress, b.dispatchID, &run, check: { d, run throws(WireError) in
            if let name = b.milestone { reached = try Ledger.reaching(name, of: d, run) }
        }) { _ in .progressed(dispatchID: b.dispatchID, note: b.note, attachments: b.attachments ?? []) }
        if let reached { ledger.reachMilestone(b.dispatchID, reached, &run) }
        return reply
    }
}

extension Ledger {
    /// The fact of reaching stage `name` now, or why not: the dispatch has no such stage, it was
    /// reached already, or a stage before it is still running.
    static func reaching(_ name: String, of d: DispatchRecord, _ run: Run) throws(WireError) -> Fact.Change {
        guard let stages = d.milestones else {
            throw WireError(.invalidTransition, "dispatch \(d.dispatchID) has no stages: sla.yaml gives its case no milestones", state: d.state.rawValue)
        }
        let names = stages.map(\.name).joined(separator: " → ")
        guard let i = d.runningMilestone else {
            throw WireError(.invalidTransition, "every stage of dispatch \(d.dispatchID) is reached (\(names)): finish it with RESOLVE", state: d.state.rawValue)
        }
        guard stages[i].name == name else {
            let why = if let j = stages.firstIndex(where: { $0.name == name }) {
                j < i ? "stage \(name) was reached at \(Timestamp.format(stages[j].reachedAt!))"
                      : "stage \(name) comes after \(stages[i].name), which is not reached"
            } else { "dispatch \(d.dispatchID) has no stage \"\(name)\"" }
            throw WireError(.invalidTransition, "\(why); its stages are \(names)", state: d.state.rawValue)
        }
        var next: Date?
        if i + 1 < stages.count {
            guard let p = Period(stages[i + 1].within), let end = try? run.rules.calendar.end(of: p, from: run.now) else {
                throw WireError(.unavailable, "cannot compute the deadline of stage \(stages[i + 1].name) (\(stages[i + 1].within))")
            }
            next = end
        }
        return .milestoneReached(dispatchID: d.dispatchID, milestone: name, late: stages[i].dueBy.map { run.now > $0 } ?? false, nextDueBy: next)
    }

    /// Records the stage reached (its rungs stop with it) and starts the next stage's ladder.
    mutating func reachMilestone(_ dispatchID: String, _ fact: Fact.Change, _ run: inout Run) {
        let caseID = dispatches[dispatchID]!.caseID
        emit(caseID, fact, &run)
        let d = dispatches[dispatchID]!
        if let next = d.runningMilestone {
            schedule(caseID, run.rules.sla.milestoneLadder(d, stage: next, start: run.now, calendar: run.rules.calendar), &run)
        }
    }

    /// RESOLVE of a dispatch with stages: every stage reached first.
    static func allStagesReached(_ d: DispatchRecord) throws(WireError) {
        guard let i = d.runningMilestone, let stages = d.milestones else { return }
        throw WireError(.invalidTransition, "办结 needs every stage reached: \(stages[i].name) is not (PROGRESS with milestone \"\(stages[i].name)\"); its stages are \(stages.map(\.name).joined(separator: " → "))", state: d.state.rawValue)
    }
}

extension CaseCommand {
    public static func progress(_ body: ProgressUpdate) -> CaseCommand { CaseCommand(OnProgress.self, body) }
}
