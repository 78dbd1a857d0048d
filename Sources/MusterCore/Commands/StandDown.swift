import Foundation
import MusterWire

/// STAND_DOWN (撤哨): the whistle closes and every department still there stands down — not
/// while its case is unfinished (事不完、人不撤) unless the centre overrides with a reason. With
/// `agency`, that one department is released early and the whistle stays open.
public enum OnStandDown: CaseCommandKind {
    public static let name = Command.standDown
    public static let roles: Set<Role> = [.grid, .ops, .supervisor]
    public static func needs(_ b: StandDown, _ rules: Rules) -> Ledger.Needs { Ledger.Needs(whistles: [b.whistleID]) }

    public static func decide(_ b: StandDown, _ ledger: inout Ledger, _ run: inout Ledger.Run) throws(WireError) -> Reply {
        let w = try ledger.whistle(b.whistleID, for: run.actor, may: "stand it down")
        if let agency = b.agency { return try release(w, agency, b.note, &ledger, &run) }
        if b.override != nil, !run.actor.roles.contains(.ops) {
            throw WireError(.forbidden, "only the centre (ops) may stand a whistle down while its case is unfinished")
        }
        if let id = w.caseID, ledger.cases[id] == nil {
            throw WireError(.unavailable, "case \(id) of whistle \(w.whistleID) could not be read; nothing was applied")
        }
        // An override is the centre's answer to an unfinished case; with the work done it is an
        // ordinary stand-down (and counted as one), its reason kept as the note.
        let overriding = b.override != nil && !ledger.holds(.caseFinished, w)
        switch WhistleMachine.table.outcome(w.state, overriding ? .override : .standDown, holds: { ledger.holds($0, w) }) {
        case .blocked:
            let c = ledger.cases[w.caseID!]!
            throw WireError(.invalidTransition,
                            "事不完、人不撤: case \(c.caseID) is \(c.state.rawValue) (\(c.state.chinese)); stand down once it is finished, or the centre overrides with a reason",
                            state: c.state.rawValue)
        case .none:
            throw WireError(.invalidTransition, "whistle \(w.whistleID) is \(w.state.rawValue) (\(w.state.chinese))", state: w.state.rawValue)
        case .take:
            ledger.emit(w.whistleID, .stoodDown(note: b.note ?? (overriding ? nil : b.override), override: overriding ? b.override : nil), &run)
            for s in w.summons where s.state.isActive { run.decision.actions.append(.withdraw(dispatchID: s.summonID)) }
            return .whistle(ledger.whistles[w.whistleID]!, summoned: [])
        }
    }

    /// One department let go early (its SUMMON, if not yet received, is not sent any more).
    private static func release(_ w: WhistleRecord, _ agency: String, _ note: String?, _ ledger: inout Ledger,
                                _ run: inout Ledger.Run) throws(WireError) -> Reply {
        guard let s = w.summon(of: agency) else { throw .badField("agency", "whistle \(w.whistleID) did not summon \(agency)") }
        guard SummonMachine.table.outcome(s.state, .release, holds: { _ in true }).row != nil else {
            throw WireError(.invalidTransition, "\(agency) is \(s.state.rawValue) (\(s.state.chinese)) on whistle \(w.whistleID)", state: s.state.rawValue)
        }
        ledger.emit(w.whistleID, .released(summonID: s.summonID, note: note), &run)
        run.decision.actions.append(.withdraw(dispatchID: s.summonID))
        return .whistle(ledger.whistles[w.whistleID]!, summoned: [])
    }
}

extension CaseCommand {
    public static func standDown(_ body: StandDown) -> CaseCommand { CaseCommand(OnStandDown.self, body) }
}
