import Foundation
import MusterWire

/// EVALUATE (回访评价): the reporter's verdict closes the case (结案), or a dissatisfied one sends it
/// back to the lead (重办).
public enum OnEvaluate: CaseCommandKind {
    public static let name = Command.evaluate
    public static let roles: Set<Role> = [.intake, .ops]
    public static func needs(_ b: Body, _ rules: Rules) -> Ledger.Needs { Ledger.Needs(cases: [b.caseID]) }

    public static func decide(_ b: Evaluate, _ ledger: inout Ledger, _ run: inout Ledger.Run) throws(WireError) -> Reply {
        try ledger.actOnCase(b.satisfaction == .dissatisfied ? .ratedDissatisfied : .rated, b.caseID, &run) { .evaluated(b.satisfaction, note: b.note) }
    }
}

extension CaseCommand {
    public static func evaluate(_ body: Evaluate) -> CaseCommand { CaseCommand(OnEvaluate.self, body) }
}
