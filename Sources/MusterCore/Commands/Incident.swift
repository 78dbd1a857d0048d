import Foundation
import MusterWire

/// INCIDENT (已知事件): a department declares a known incident for categories it handles, in
/// grids the city has. Declaring the same `ref` again while it is active answers the first
/// declaration and changes nothing.
public enum OnIncident: CaseCommandKind {
    public static let name = Command.incident
    public static let roles: Set<Role> = [.agency, .ops]

    public static func decide(_ b: IncidentDeclaration, _ ledger: inout Ledger, _ run: inout Ledger.Run) throws(WireError) -> Reply {
        let agency = run.actor.roles.contains(.ops) ? nil : run.actor.agency
        if let same = ledger.incident(ref: b.ref, agency: agency), same.state == .active { return .incident(same) }
        for (i, c) in b.categories.enumerated() {
            guard let category = run.rules.routing.categories[c] else { throw .badField("categories[\(i)]", "unknown category \"\(c)\"") }
            // A department speaks for its own work: a category it leads somewhere.
            if let agency, category.lead != agency, !category.overrides.contains(where: { $0.lead == agency }) {
                throw WireError(.forbidden, "\(agency) does not handle \(c): an incident is declared by the department that does")
            }
        }
        for (i, g) in b.grids.enumerated() where !run.rules.grids.exists(g) { throw .badField("grids[\(i)]", "unknown grid \"\(g)\"") }
        guard let end = Timestamp.parse(b.expectedEnd) else { throw .badField("expected_end", "not an RFC 3339 time") }
        let starts = b.startsAt.flatMap(Timestamp.parse) ?? run.now
        guard end > starts else { throw .badField("expected_end", "the expected end is not after the start") }
        var notifyAt: Date?
        if let after = b.notifyAfter {
            guard let period = Period(after), let at = try? run.rules.calendar.end(of: period, from: starts) else {
                throw .badField("notify_after", "\"\(after)\" is not a duration like 24h, 2d")
            }
            notifyAt = at
        }
        let record = IncidentRecord(
            incidentID: ledger.ids.nextIncident(), ref: b.ref, agency: agency, title: b.title, categories: b.categories,
            grids: b.grids, message: b.message, cause: b.cause, startsAt: starts, expectedEnd: end,
            declaredAt: run.now, declaredBy: run.actor.adapter)
        ledger.emit(record.incidentID, .incidentDeclared(record), &run)
        if let notifyAt, let notice = b.notice {
            // One rung to the centre if it is still active then (its end removes it).
            ledger.schedule(record.incidentID, [LadderTimer(
                id: "\(record.incidentID)/incident/0", caseID: record.incidentID, dispatchID: nil, agency: agency, clock: .incident,
                rung: 0, level: 2, notice: notice, to: ["ops"], due: notifyAt, deadline: notifyAt)], &run)
        }
        return .incident(record)
    }
}

/// INCIDENT_END: the incident is over. `resolved`: its reports end with it (they stay merged
/// into it; the follow-up call goes to each reporter). `hand_back`: each report becomes a case
/// of its own again, routed as a new report would be.
public enum OnIncidentEnd: CaseCommandKind {
    public static let name = Command.incidentEnd
    public static let roles: Set<Role> = [.agency, .ops]
    public static func needs(_ b: IncidentEnd, _ rules: Rules) -> Ledger.Needs { Ledger.Needs(incidents: [b.incidentID ?? b.ref ?? ""]) }

    public static func decide(_ b: IncidentEnd, _ ledger: inout Ledger, _ run: inout Ledger.Run) throws(WireError) -> Reply {
        let agency = run.actor.roles.contains(.ops) ? nil : run.actor.agency
        let found = b.incidentID.flatMap { ledger.incidents[$0] } ?? b.ref.flatMap { ledger.incident(ref: $0, agency: agency) }
        guard let incident = found else {
            throw WireError(.unknownCase, "no incident \(b.incidentID ?? b.ref ?? "")")
        }
        if let agency, incident.agency != agency {
            throw WireError(.forbidden, "incident \(incident.incidentID) was declared by \(incident.agency ?? "the centre"), not by \(agency)")
        }
        guard incident.state == .active else { return .incident(incident) }  // ended already: the same answer again
        ledger.emit(incident.incidentID, .incidentEnded(outcome: b.outcome, note: b.note), &run)
        if b.outcome == .handBack {
            for id in incident.reports {
                guard let c = ledger.cases[id], c.state == .merged else { continue }
                let row = try ledger.caseRow(c, .handBack)
                run.due = try run.rules.due(for: ledger.subject(c), at: run.now)
                ledger.emit(id, .handedBack(incidentID: incident.incidentID), &run)
                try ledger.perform(row, on: id, &run)
            }
        }
        return .incident(ledger.incidents[incident.incidentID]!)
    }
}

extension CaseCommand {
    public static func incident(_ body: IncidentDeclaration) -> CaseCommand { CaseCommand(OnIncident.self, body) }
    public static func incidentEnd(_ body: IncidentEnd) -> CaseCommand { CaseCommand(OnIncidentEnd.self, body) }
}

extension Ledger {
    /// The incident a department declared under its `ref` (the latest, if it reused one).
    public func incident(ref: String, agency: String?) -> IncidentRecord? {
        incidents.values.filter { $0.ref == ref && $0.agency == agency }.max { $0.incidentID < $1.incidentID }
    }

    /// The active incident a new report joins, if any (the earliest declared, when several cover it).
    public func incident(covering category: String, grid: String, at now: Date) -> IncidentRecord? {
        incidents.values.filter { $0.covers(category: category, grid: grid, at: now) }.min { $0.incidentID < $1.incidentID }
    }
}
