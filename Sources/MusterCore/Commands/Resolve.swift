import Foundation
import MusterWire

/// RESOLVE (办结): the department finished; the lead's finishes the case and starts 核实 and 回访.
/// A dispatch with staged limits finishes once every stage is reached.
public enum OnResolve: CaseCommandKind {
    public static let name = Command.resolve
    public static let roles: Set<Role> = [.agency]
    public static func needs(_ b: Body, _ rules: Rules) -> Ledger.Needs { Ledger.Needs(dispatches: [b.dispatchID]) }

    public static func decide(_ b: Resolve, _ ledger: inout Ledger, _ run: inout Ledger.Run) throws(WireError) -> Reply {
        try ledger.actOnDispatch(.resolve, b.dispatchID, &run, check: { d, _ throws(WireError) in try Ledger.allStagesReached(d) }) { d in
            .resolved(dispatchID: b.dispatchID, lead: d.role == .lead, result: b.result, note: b.note, attachments: b.attachments ?? [])
        }
    }
}

extension CaseCommand {
    public static func resolve(_ body: Resolve) -> CaseCommand { CaseCommand(OnResolve.self, body) }
}
