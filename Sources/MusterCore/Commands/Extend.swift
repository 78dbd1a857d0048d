import Foundation
import MusterWire

/// EXTEND (延期): before the deadline, with a reason. The department's own request is approved
/// at once within `extensions.auto_approve`; beyond it only the centre (ops) may extend, and
/// never past `extensions.max_total` from the first deadline.
public enum OnExtend: CaseCommandKind {
    public static let name = Command.extend
    public static let roles: Set<Role> = [.agency, .ops]
    public static func needs(_ b: Body, _ rules: Rules) -> Ledger.Needs { Ledger.Needs(dispatches: [b.dispatchID]) }

    public static func decide(_ e: Extend, _ ledger: inout Ledger, _ run: inout Ledger.Run) throws(WireError) -> Reply {
        try ledger.extend(e, &run)
    }
}

extension CaseCommand {
    public static func extend(_ body: Extend) -> CaseCommand { CaseCommand(OnExtend.self, body) }
}

extension Ledger {
    fileprivate mutating func extend(_ e: Extend, _ run: inout Run) throws(WireError) -> Reply {
        let (d, c) = try openDispatch(e.dispatchID, run, centreMay: true)
        let byCentre = run.actor.roles.contains(.ops)
        guard !c.state.isTerminal, d.state.isOpen else {
            throw WireError(.invalidTransition, "cannot extend dispatch \(e.dispatchID): it is \(d.state.rawValue) (\(d.state.chinese))", state: d.state.rawValue)
        }
        _ = try dispatchRow(d, .extend, run, verb: "extend")
        guard let by = Period(e.by), by.amount > 0 else { throw .badField("by", "\"\(e.by)\" is not a duration (30m, 2h, 3d, 4wh, 5wd)") }
        if e.reason.trimmedSpaces.isEmpty { throw .badField("reason", "an extension needs a reason") }
        let rules = run.rules
        let policy = rules.sla.extensions
        let newEnd: Date, autoLimit: Date, totalLimit: Date
        do {
            newEnd = try rules.calendar.end(of: by, from: d.resolveBy)
            autoLimit = try rules.calendar.end(of: policy.autoMaxBy, from: d.resolveBy)
            totalLimit = try rules.calendar.end(of: policy.maxTotal, from: d.firstResolveBy ?? d.resolveBy)
        } catch { throw WireError(.unavailable, "cannot compute the new deadline: \(error)") }
        if newEnd > totalLimit {
            throw WireError(.forbidden, "extensions.max_total is \(policy.maxTotal): no deadline after \(Timestamp.format(totalLimit))")
        }
        if !byCentre {
            if (d.extensions ?? 0) >= policy.autoMaxCount {
                throw WireError(.forbidden, "extensions.auto_approve.max_count is \(policy.autoMaxCount): a further extension needs the centre (ops EXTEND)")
            }
            if newEnd > autoLimit {
                throw WireError(.forbidden, "extensions.auto_approve.max_by is \(policy.autoMaxBy): a longer extension needs the centre (ops EXTEND)")
            }
        }
        // Rungs that already fired on the old deadline do not fire again on the new one.
        let fired = Set(rules.sla.ladder(.resolve, caseID: d.caseID, dispatch: d, start: d.sentAt, deadline: d.resolveBy, calendar: rules.calendar)
            .filter { $0.due <= run.now }.map(\.rung))
        emit(d.caseID, .extended(dispatchID: d.dispatchID, resolveBy: newEnd, by: e.by, reason: e.reason), &run)
        let updated = dispatches[d.dispatchID]!
        let rungs = rules.sla.ladder(.resolve, caseID: d.caseID, dispatch: updated, start: updated.sentAt, deadline: newEnd, calendar: rules.calendar)
            .filter { $0.due > run.now && !fired.contains($0.rung) }
        schedule(d.caseID, rungs, &run)
        return .extended(caseID: d.caseID, dispatchID: d.dispatchID, resolveBy: newEnd)
    }
}
