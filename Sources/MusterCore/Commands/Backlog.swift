import Foundation
import MusterWire

/// BACKLOG (挂账): only past the (extended) deadline, by the department or the centre, with a
/// written explanation; the dispatch stays on the overdue list and its ladder stops.
public enum OnBacklog: CaseCommandKind {
    public static let name = Command.backlog
    public static let roles: Set<Role> = [.agency, .ops]
    public static func needs(_ b: Body, _ rules: Rules) -> Ledger.Needs { Ledger.Needs(dispatches: [b.dispatchID]) }

    public static func decide(_ b: Backlog, _ ledger: inout Ledger, _ run: inout Ledger.Run) throws(WireError) -> Reply {
        let (d, c) = try ledger.openDispatch(b.dispatchID, run, centreMay: true)
        guard !c.state.isTerminal, d.state.isOpen else {
            throw WireError(.invalidTransition, "cannot put dispatch \(b.dispatchID) on the backlog: it is \(d.state.rawValue) (\(d.state.chinese))", state: d.state.rawValue)
        }
        _ = try ledger.dispatchRow(d, .backlog, run, verb: "backlog")
        ledger.emit(d.caseID, .backlogged(dispatchID: d.dispatchID, explanation: b.explanation), &run)
        return .ok(caseID: c.caseID, state: c.state, dispatchID: d.dispatchID)
    }
}

extension CaseCommand {
    public static func backlog(_ body: Backlog) -> CaseCommand { CaseCommand(OnBacklog.self, body) }
}
