import Foundation
import MusterWire

/// REPORT (报到): a summoned department says it is on its way or on site. On site stops its
/// clock; on time if by its `report_by`.
public enum OnReport: CaseCommandKind {
    public static let name = Command.report
    public static let roles: Set<Role> = [.agency]
    public static func needs(_ b: Report, _ rules: Rules) -> Ledger.Needs { Ledger.Needs(whistles: [b.whistleID]) }

    public static func decide(_ b: Report, _ ledger: inout Ledger, _ run: inout Ledger.Run) throws(WireError) -> Reply {
        guard let w = ledger.whistles[b.whistleID] else { throw WireError(.unknownWhistle, "no whistle \(b.whistleID)") }
        guard let agency = run.actor.agency, let s = w.summon(of: agency) else {
            throw WireError(.forbidden, "whistle \(w.whistleID) did not summon \(run.actor.agency ?? run.actor.adapter)")
        }
        let trigger: SummonMachine.Trigger = b.status == .onSite ? .onSite : .enRoute
        guard SummonMachine.table.outcome(s.state, trigger, holds: { _ in true }).row != nil else {
            throw WireError(.invalidTransition, "cannot report \(b.status.rawValue) to whistle \(w.whistleID): \(agency) is \(s.state.rawValue) (\(s.state.chinese))",
                            state: s.state.rawValue)
        }
        ledger.emit(w.whistleID, .reported(summonID: s.summonID, status: b.status, note: b.note, lat: b.lat, lon: b.lon), &run)
        let now = ledger.summon(s.summonID)!
        return .reported(whistleID: w.whistleID, agency: agency, state: now.state, onTime: b.status == .onSite ? now.onTime : nil)
    }
}

extension CaseCommand {
    public static func report(_ body: Report) -> CaseCommand { CaseCommand(OnReport.self, body) }
}
