import Foundation
import MusterWire

/// ASSIGN (指派, 改派, 会商指派): the centre names lead and assists; an assigned lead may not return it.
public enum OnAssign: CaseCommandKind {
    public static let name = Command.assign
    public static let roles: Set<Role> = [.ops]
    public static func needs(_ b: Body, _ rules: Rules) -> Ledger.Needs { Ledger.Needs(cases: [b.caseID]) }

    public static func decide(_ b: Assign, _ ledger: inout Ledger, _ run: inout Ledger.Run) throws(WireError) -> Reply {
        guard ledger.cases[b.caseID] != nil else { throw WireError(.unknownCase, "no case \(b.caseID)") }
        for (field, code) in [("lead", b.lead)] + (b.assists ?? []).enumerated().map({ ("assists[\($0.offset)]", $0.element) })
        where run.rules.routing.agencies[code] == nil {
            throw .badField(field, "unknown agency \"\(code)\"")
        }
        // An accusation never goes to the accused (信访工作条例): not as lead, not as assist.
        let about = ledger.cases[b.caseID]?.petition?.about ?? []
        for (field, code) in [("lead", b.lead)] + (b.assists ?? []).enumerated().map({ ("assists[\($0.offset)]", $0.element) })
        where about.contains(code) {
            throw WireError(.forbidden, "petition \(b.caseID) is about \(code): it may not handle it nor see it", field: field)
        }
        return try ledger.actOnCase(.assign, b.caseID, &run, named: Routing.Owners(lead: b.lead, assists: b.assists ?? [])) {
            .assigned(lead: b.lead, assists: b.assists ?? [], note: b.note)
        }
    }
}

extension CaseCommand {
    public static func assign(_ body: Assign) -> CaseCommand { CaseCommand(OnAssign.self, body) }
}
