import Foundation
import MusterWire

/// REJECT (不予受理): the centre declines a case waiting at triage or in 会商.
public enum OnReject: CaseCommandKind {
    public static let name = Command.reject
    public static let roles: Set<Role> = [.ops]
    public static func needs(_ b: Body, _ rules: Rules) -> Ledger.Needs { Ledger.Needs(cases: [b.caseID]) }

    public static func decide(_ b: Reject, _ ledger: inout Ledger, _ run: inout Ledger.Run) throws(WireError) -> Reply {
        try ledger.actOnCase(.reject, b.caseID, &run) { .rejected(reason: b.reason) }
    }
}

extension CaseCommand {
    public static func reject(_ body: Reject) -> CaseCommand { CaseCommand(OnReject.self, body) }
}
