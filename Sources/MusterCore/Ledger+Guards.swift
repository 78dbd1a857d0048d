import Foundation
import MusterWire

/// The tables' guards, read from the projections and the time of the act — so that replaying a
/// fact takes the row its decision took.
extension Ledger {
    func holds(_ g: CaseMachine.Guard, _ c: CaseRecord, mergeTarget: String? = nil) -> Bool {
        switch g {
        case .duplicateOpen: mergeTarget != nil
        case .firstReturn: c.returnedBy.isEmpty
        case .returnedBefore: !c.returnedBy.isEmpty
        }
    }

    func holds(_ g: DispatchMachine.Guard, _ d: DispatchRecord, at now: Date) -> Bool {
        switch g {
        // An assigned petition's unit may still be relieved by the office upholding its objection.
        case .notAssignedLead: !(d.role == .lead && cases[d.caseID]?.assigned == true)
            || cases[d.caseID]?.petition?.objection.map { $0.dispatchID == d.dispatchID && $0.upheld != false } == true
        // A petition's unit objected in time: the office's ruling returns it later (Art. 23).
        case .returnWindowOpen: now <= d.returnBy || cases[d.caseID]?.petition?.objection.map { $0.dispatchID == d.dispatchID && $0.at <= d.returnBy } == true
        case .beforeDeadline: now < d.resolveBy
        case .pastDeadline: now >= d.resolveBy
        }
    }

    /// Why an act was refused by a guard of the dispatch's table.
    func refusal(_ g: DispatchMachine.Guard, _ d: DispatchRecord) -> WireError {
        switch g {
        case .notAssignedLead:
            WireError(.returnRefused, "the centre assigned this case to \(d.agency); an assigned lead may not return it")
        case .returnWindowOpen:
            WireError(.returnRefused, "the return window closed at \(Timestamp.format(d.returnBy))")
        case .beforeDeadline:
            WireError(.invalidTransition, "the deadline passed at \(Timestamp.format(d.resolveBy)): 延期 is asked before it", state: "overdue")
        case .pastDeadline:
            WireError(.invalidTransition, "the deadline is \(Timestamp.format(d.resolveBy)): before it, ask for an extension (EXTEND)", state: "in_time")
        }
    }

    /// The case trigger a department's act on the lead dispatch is.
    static func caseTrigger(of t: DispatchMachine.Trigger) -> CaseMachine.Trigger? {
        switch t {
        case .ack: .ack
        case .progress: .progress
        case .resolve: .resolve
        case .return: .return
        case .cancel, .extend, .backlog, .moveDeadlines, .rungDue, .reachMilestone: nil
        }
    }
}
