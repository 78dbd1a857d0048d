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
        for (i, c) in b.categories.enumerated() where run.rules.routing.categories[c] == nil {
            throw .badField("categories[\(i)]", "unknown category \"\(c)\"")
        }
        for (i, g) in b.grids.enumerated() where !run.rules.grids.exists(g) { throw .badField("grids[\(i)]", "unknown grid \"\(g)\"") }
        // A department speaks for its own work: in every grid it names, routing gives it the lead
        // for every category (an override elsewhere does not let it swallow another's reports).
        if let agency {
            let grids = run.rules.grids
            for c in b.categories {
                let overrides = run.rules.routing.categories[c]?.overrides ?? []
                for g in b.grids {
                    // Its lead there, and in every part of it that an override gives another.
                    let within = overrides.filter { o in (grids.dedicated[o.grid]?.members ?? [o.grid]).contains { GridMap.isPrefix(g, of: $0) } }
                    if run.rules.routing.owners(category: c, grid: g, grids: grids, excluding: [])?.lead != agency
                        || within.contains(where: { $0.lead != agency }) {
                        throw WireError(.forbidden, "\(agency) does not lead \(c) in all of \(g): an incident is declared by the department that does")
                    }
                }
            }
        }
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
        // Every row and deadline first: a calendar that cannot place one refuses the whole end
        // before its first fact, so nothing is half-applied.
        var back: [(id: String, row: CaseMachine.Row, due: Due)] = []
        if b.outcome == .handBack {
            for id in incident.reports {
                guard let c = ledger.cases[id], c.state == .merged else { continue }
                back.append((id, try ledger.caseRow(c, .handBack), try run.rules.due(for: ledger.subject(c), at: run.now)))
            }
        }
        ledger.emit(incident.incidentID, .incidentEnded(outcome: b.outcome, note: b.note), &run)
        for r in back {
            run.due = r.due
            ledger.emit(r.id, .handedBack(incidentID: incident.incidentID), &run)
            try ledger.perform(r.row, on: r.id, &run)  // routing: its own deadlines are placed already
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
