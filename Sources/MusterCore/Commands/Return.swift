import Foundation
import MusterWire

/// RETURN (退单): the department hands it back with a reason, inside the return window and not
/// as an assigned lead; the case goes back to triage to be routed again, or to 会商 if it came
/// back before.
public enum OnReturn: CaseCommandKind {
    public static let name = Command.return
    public static let roles: Set<Role> = [.agency]
    public static func needs(_ b: Body, _ rules: Rules) -> Ledger.Needs { Ledger.Needs(dispatches: [b.dispatchID]) }

    public static func decide(_ b: Return, _ ledger: inout Ledger, _ run: inout Ledger.Run) throws(WireError) -> Reply {
        try ledger.actOnDispatch(.return, b.dispatchID, &run) { _ in .returned(dispatchID: b.dispatchID, reason: b.reason, note: b.note) }
    }
}

extension CaseCommand {
    public static func `return`(_ body: Return) -> CaseCommand { CaseCommand(OnReturn.self, body) }
}
