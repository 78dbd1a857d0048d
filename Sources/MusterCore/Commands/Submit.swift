import Foundation
import MusterWire

/// SUBMIT (受理): a report from the hotline, a grid worker, an app … becomes a case — merged
/// into the open case of the same problem (并案), dispatched by the routing rules (派单), or
/// left at the triage queue (研判). The same source's id again is answered as before.
public enum OnSubmit: CaseCommandKind {
    public static let name = Command.submit
    public static let roles: Set<Role> = [.intake, .grid, .ops]
    /// The same source's id again is answered as before, even long after the case left memory;
    /// and the open case of the same problem is found wherever it is.
    public static func needs(_ s: Submit, _ rules: Rules) -> Ledger.Needs {
        let c = s.case
        let refs = [Ledger.ExternalRef(c.source, c.externalRef)]
        if c.source == .petition {
            // Earlier petitions of the same petitioner and facts, in process or 终结, wherever they are.
            let category = rules.classify(category: c.category, text: c.title + " " + (c.description ?? "")).category
            let key = Ledger.repeatKey(c.reporter, category: category, grid: c.location.grid ?? rules.grids.root, address: c.location.address)
            return Ledger.Needs(refs: refs, repeatKeys: key.map { [$0] } ?? [])
        }
        // Without an address there is no merge key: spare the classification (decide
        // classifies anyway).
        guard let address = c.location.address, !address.trimmedSpaces.isEmpty else { return Ledger.Needs(refs: refs) }
        let key = Ledger.mergeKey(category: rules.classify(category: c.category, text: c.title + " " + (c.description ?? "")).category,
                                  grid: c.location.grid ?? rules.grids.root, address: address)
        return Ledger.Needs(refs: refs, mergeKeys: key.map { [$0] } ?? [])
    }

    /// The broker names these in DISPATCH; a peer's own would be duplicate JSON keys.
    public static func check(_ body: JSONTree) -> WireError? {
        guard let c = body["case"], let reserved = ["case_id", "grid"].first(where: { c[$0] != nil }) else { return nil }
        return .badField("case.\(reserved)", "case.\(reserved) is assigned by the broker; give the grid as case.location.grid")
    }

    /// The submitted case, byte for byte: stored beside the case and passed through to DISPATCH.
    public static func kept(_ body: JSONTree, raw: [UInt8]) -> [UInt8]? {
        body["case"].map { Array(raw[$0.range]) }
    }

    public static func decide(_ s: Submit, _ ledger: inout Ledger, _ run: inout Ledger.Run) throws(WireError) -> Reply {
        try ledger.submit(s, &run)
    }
}

extension CaseCommand {
    public static func submit(_ body: Submit) -> CaseCommand { CaseCommand(OnSubmit.self, body) }
}

extension Ledger {
    fileprivate mutating func submit(_ s: Submit, _ run: inout Run) throws(WireError) -> Reply {
        let c = s.case
        if let existing = caseID(source: c.source, externalRef: c.externalRef), let record = cases[existing] {
            if let into = record.mergedInto, let incident = incidents[into] { return .acceptedIntoIncident(caseID: existing, incident) }
            if record.petition != nil { return acceptedPetition(existing) ?? .accepted(caseID: existing, state: record.state, mergedInto: record.mergedInto, due: record.resolveBy) }
            return .accepted(caseID: existing, state: record.state, mergedInto: record.mergedInto, due: record.resolveBy)
        }
        let rules = run.rules
        let given = c.location.grid ?? rules.grids.root
        guard rules.grids.exists(given) else {
            throw .badField("case.location.grid", "unknown grid \"\(given)\"")
        }
        // The config's own strings for the codes: every case of a category or grid shares one copy.
        let classified = rules.classify(category: c.category, text: c.title + " " + (c.description ?? ""))
        let category = Ledger.canonical(classified.category, in: rules.routing.categories)
        let grid = Ledger.canonical(given, in: rules.grids.names)
        run.due = try rules.due(for: SLAPolicy.Subject(category: category, priority: c.priority ?? .normal, source: c.source,
                                                        grid: grid, mode: mode(for: grid, source: c.source)), at: run.now)
        run.triageReason = rules.routing.categories[category] == nil ? "unclassified" : "no_route"
        run.triageSuggestions = classified.suggestions
        let petition = c.source == .petition ? try register(c, category: category, grid: grid, run) : nil
        let id = ids.nextCase()
        // The first projection, as logged (its state is the table's: `accept` from `new`).
        var record = CaseRecord(
            caseID: id, source: c.source, externalRef: c.externalRef, category: category, grid: grid,
            priority: c.priority ?? .normal, title: c.title, address: c.location.address, state: .new,
            round: 0, lead: nil, assists: [], assigned: false, returnedBy: [], mergedInto: nil,
            mergedReports: 0, acceptedAt: run.now, updatedAt: run.now, resolveBy: nil, satisfaction: nil, petition: petition?.0)
        if let petition {
            run.mergeTarget = petition.mergeInto  // a petition merges only into the same petitioner's (Art. 19)
        } else if let incident = incident(covering: category, grid: grid, at: run.now) {
            run.mergeTarget = incident.incidentID  // a known incident: the report joins it
        } else if let key = Ledger.mergeKey(record), let target = openByMergeKey[key]?.last, let t = cases[target],
           !t.state.isTerminal, rules.mergeWindow.after(t.acceptedAt) >= run.now {
            run.mergeTarget = target
        }
        let row = try caseRow(record, .accept, mergeTarget: run.mergeTarget)
        record.state = row.to
        emit(id, .accepted(record), &run)
        run.decision.actions.append(.keepSubmitted(caseID: id))
        try perform(row, on: id, &run)
        if petition != nil {
            if cases[id]!.petition!.state != .merged { startPetitionClocks(id, from: run.now, &run) }
            return acceptedPetition(id)!
        }
        if let target = run.mergeTarget, let incident = incidents[target] {
            return .acceptedIntoIncident(caseID: id, incident)
        }
        if let target = run.mergeTarget {
            return .accepted(caseID: id, state: cases[id]!.state, mergedInto: target, due: cases[target]?.resolveBy)
        }
        return .accepted(caseID: id, state: cases[id]!.state, mergedInto: nil, due: cases[id]!.resolveBy)
    }
}

extension Ledger {
    /// ACCEPTED for a petition: its own course, and for a repeat where the one it joined stands.
    fileprivate func acceptedPetition(_ id: String) -> Reply? {
        guard let c = cases[id], let p = c.petition else { return nil }
        let target = c.mergedInto.flatMap { cases[$0] }
        return .acceptedPetition(caseID: id, state: c.state, mergedInto: c.mergedInto, due: (target ?? c).resolveBy, p, standing: target?.petition)
    }
}
