import Foundation
import MusterWire

/// HEALTH: an agency adapter reports its department's system. A change is logged
/// (`adapter.health`); going down or coming back is a NOTICE to the centre's operators (role
/// `ops`), stored and redelivered like any push. The same state again changes nothing. After a
/// broker restart the last states are forgotten (unknown counts as ok): a system still down is
/// reported to the centre once more.
public enum OnHealth: CaseCommandKind {
    public static let name = Command.health
    public static let roles: Set<Role> = [.agency]

    public static func decide(_ b: HealthReport, _ ledger: inout Ledger, _ run: inout Ledger.Run) throws(WireError) -> Reply {
        let previous = ledger.health[run.actor.adapter]?.state ?? .ok
        let h = AdapterHealth(adapter: run.actor.adapter, agency: run.actor.agency, state: b.state, detail: b.detail, failures: b.failures)
        guard b.state != previous else { return .health(h, changed: false) }
        ledger.emit("", .adapterHealth(h), &run)
        if let kind = h.noticeKind(after: previous) { run.decision.actions.append(.alert(h, kind: kind)) }
        return .health(h, changed: true)
    }
}

extension CaseCommand {
    public static func health(_ body: HealthReport) -> CaseCommand { CaseCommand(OnHealth.self, body) }
}
