import Foundation
import MusterCore
import MusterStore

/// 信访工作条例 forbids passing an accusation to the person or unit accused. A session that is
/// only a department (role agency) sees a petition — its QUERY, its events — only when the
/// petition was forwarded to that department (a dispatch of it); the centre, the petition office,
/// supervisors and the screen see every petition. (Every other case is open to all, as before.)
extension Broker {
    /// The department a session is only, if it is one.
    static func departmentOnly(_ actor: Actor) -> String? {
        actor.roles == [.agency] ? actor.agency : nil
    }

    /// May `agency` see case `caseID`? Not a petition, or a petition it has had a dispatch of.
    func department(_ agency: String, maySee caseID: String) -> Bool {
        guard !caseID.isEmpty else { return true }
        let record = ledger.cases[caseID] ?? ((try? store.caseRecord(caseID)) ?? nil)
        guard let c = record, c.petition != nil else { return true }
        if c.lead == agency || c.assists.contains(agency) { return true }
        if let ids = ledger.dispatchesOfCase[caseID] { return ids.contains { ledger.dispatches[$0]?.agency == agency } }
        return ((try? store.dispatches(ofCase: caseID)) ?? []).contains { $0.agency == agency }
    }
}
