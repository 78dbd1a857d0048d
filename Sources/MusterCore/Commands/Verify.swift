import Foundation
import MusterWire

/// VERIFY (核实): on site, the finish is confirmed, or it fails and goes back to the lead (返工).
public enum OnVerify: CaseCommandKind {
    public static let name = Command.verify
    public static let roles: Set<Role> = [.grid, .ops]
    public static func needs(_ b: Body, _ rules: Rules) -> Ledger.Needs { Ledger.Needs(cases: [b.caseID]) }

    public static func decide(_ b: Verify, _ ledger: inout Ledger, _ run: inout Ledger.Run) throws(WireError) -> Reply {
        try ledger.actOnCase(b.passed ? .verifyPassed : .verifyFailed, b.caseID, &run) { .verified(passed: b.passed, note: b.note) }
    }
}

extension CaseCommand {
    public static func verify(_ body: Verify) -> CaseCommand { CaseCommand(OnVerify.self, body) }
}
