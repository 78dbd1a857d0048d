import Foundation
import MusterWire

/// The broker's in-memory picture of every case and dispatch: the projections, folded from
/// facts. `apply` is the only way it changes, used alike for live decisions and for replay.
public struct Ledger: Sendable, Equatable {
    public var cases: [String: CaseRecord] = [:]
    public var dispatches: [String: DispatchRecord] = [:]
    /// Every dispatch of each case in memory, in dispatch order.
    public var dispatchesOfCase: [String: [String]] = [:]
    /// (source, external_ref) → case: a source's id is taken once.
    public var byExternalRef: [TextKey: String] = [:]
    /// Open cases by merge key, oldest first: a new report joins the newest one still inside the
    /// merge window. Built the same way by `apply` and by loading the projections.
    public var openByMergeKey: [MergeKey: [String]] = [:]
    /// Petitions by repeat key (petitioner and facts), oldest first: a repeat is found here.
    public var petitionsByKey: [String: [String]] = [:]

    /// Indexes an open case under its merge key (in case id order, i.e. oldest first).
    /// In case id order whatever order cases come in (a case read back from the store may be
    /// older than one already here): SUBMIT takes the last as the newest.
    public mutating func indexForMerge(_ c: CaseRecord) {
        guard !c.state.isTerminal, let key = Ledger.mergeKey(c) else { return }
        let id = c.caseID
        func place(_ ids: inout [String]) {  // in place: one look-up, no copy of the list
            guard !ids.contains(id) else { return }
            ids.insert(id, at: ids.firstIndex { $0 > id } ?? ids.endIndex)
        }
        place(&openByMergeKey[key, default: []])
    }
    public var ids = IDSource()
    /// Ladder rungs not yet fired, by owner (a dispatch, a case's own clocks, a summoned
    /// department, an incident).
    public var timers = WaitingRungs()
    /// Rungs scheduled due after this are not held: the broker keeps only the next hour's in
    /// memory and reads later ones from the store as they come near (nil: every rung is held).
    /// Holding them only to drop them after the commit cost a tenth of deciding a SUBMIT.
    public var timersHeldThrough: Date?
    /// Management modes by grid prefix (the root grid for city-wide); absent: 平时 normal.
    public var modes: [String: ManagementMode] = [:]
    /// Whistles: every open one, and those closed since the start.
    public var whistles: [String: WhistleRecord] = [:]
    /// Known incidents: every active one, and those ended since the start.
    public var incidents: [String: IncidentRecord] = [:]
    /// The last health each agency adapter reported (HEALTH) since the start.
    public var health: [String: AdapterHealth] = [:]

    /// The mode in force for a grid: the most specific scope that covers it.
    public func mode(for grid: String) -> ManagementMode {
        modes.filter { GridMap.isPrefix($0.key, of: grid) }.max { $0.key.count < $1.key.count }?.value ?? .normal
    }

    public init() {}

    public static func refKey(_ source: Source, _ ref: String) -> TextKey {
        TextKey(String(capacity: source.rawValue.utf8.count + 1 + ref.utf8.count) { key in key.append(source.rawValue); key.append(byte: 0x1F); key.append(ref) })
    }

    /// Same category, same grid cell, same address: the same problem (并单). Without an
    /// address there is nothing to tell two problems in a grid apart, so no merge.
    public static func mergeKey(_ c: CaseRecord) -> MergeKey? { mergeKeyText(c).map(MergeKey.init) }

    /// The same, from a report's parts (`cases.merge_key` is this, in SQL: Schema's migration v6).
    public static func mergeKey(category: String, grid: String, address: String?) -> MergeKey? {
        mergeKeyText(category: category, grid: grid, address: address).map(MergeKey.init)
    }

    /// The key's text alone, as the store's `cases.merge_key` holds it: the writer binds it and
    /// needs no hash of it.
    public static func mergeKeyText(_ c: CaseRecord) -> String? { mergeKeyText(category: c.category, grid: c.grid, address: c.address) }

    static func mergeKeyText(category: String, grid: String, address: String?) -> String? {
        guard let a = address?.trimmedSpaces, !a.isEmpty, category != Routing.unclassified else { return nil }
        // One allocation (six keys made a lifecycle, five joins each).
        return String(capacity: category.utf8.count + grid.utf8.count + a.utf8.count + 2) { key in
            key.append(category); key.append(byte: 0x1F); key.append(grid); key.append(byte: 0x1F); key.append(a)
        }
    }

    public func caseID(source: Source, externalRef: String) -> String? {
        byExternalRef[Ledger.refKey(source, externalRef)]
    }

    /// A case's dispatches still sent or signed for, in dispatch order. Read from its dispatches
    /// rather than kept in a table of its own, whose entry every dispatch made and every evicted
    /// case dropped (a hash and an array each).
    public func openDispatchRecords(of caseID: String) -> [DispatchRecord] {
        let open = (dispatchesOfCase[caseID] ?? []).compactMap { id in dispatches[id].flatMap { $0.state.isOpen ? $0 : nil } }
        return open.count < 2 ? open : open.sorted { $0.dispatchID < $1.dispatchID }
    }

    /// Folds one fact into the projections.
    public mutating func apply(_ fact: Fact) {
        var touched = Footprint()
        apply(fact, touching: &touched)
    }

    /// Folds one fact into the projections, noting what it changed. States are never set by
    /// hand: the fact is a trigger of its dispatch's and its case's tables (`advance`), and the
    /// row it takes gives the next state and the clocks it stops.
    public mutating func apply(_ fact: Fact, touching fp: inout Footprint) {
        let id = fact.caseID
        if case .accepted(var record) = fact.change {
            record.state = .new
            cases[id] = record
            byExternalRef[Ledger.refKey(record.source, record.externalRef)] = id
            ids.observe(caseID: id)
            indexPetition(record)
        }
        advancePetition(fact, &fp)
        advance(fact, &fp)
        switch fact.change {
        case .accepted(let record):
            indexForMerge(cases[id] ?? record)
            fp.cases.append(id)
        case .merged(let into):
            update(id, fact, &fp) { $0.mergedInto = into }
        case .reportMerged(let from) where incidents[id] != nil:
            incidents[id]!.reports.append(from)
            fp.incidents.append(id)
        case .reportMerged:
            update(id, fact, &fp) { $0.mergedReports += 1 }
        case .triage, .consultation:
            update(id, fact, &fp) { $0.lead = nil; $0.assists = [] }
        case .dispatched(let d):
            dispatches[d.dispatchID] = d
            dispatchesOfCase[id, default: []].append(d.dispatchID)
            fp.dispatches.append(d.dispatchID)
            ids.observe(dispatchID: d.dispatchID)
            update(id, fact, &fp) {
                if d.role == .lead {
                    $0.lead = d.agency; $0.round = d.round; $0.resolveBy = d.resolveBy
                    $0.assists = []
                } else if !$0.assists.contains(d.agency) {
                    $0.assists.append(d.agency)
                }
            }
        case .assigned:
            update(id, fact, &fp) { $0.assigned = true }
        case .rejected, .closed, .verified, .modeSet:
            touch(id, fact, &fp)
        case .acked(let did, let handler, _):
            updateDispatch(did, &fp) { $0.ackedAt = fact.at; $0.handler = handler }
            let accepted = dispatches[did]?.role == .lead && cases[id]?.petition?.state == .accepted && cases[id]?.petition?.acceptedAt == nil
            update(id, fact, &fp) { if accepted { $0.petition?.acceptedAt = fact.at } }
        case .progressed(let did, _, _):
            updateDispatch(did, &fp) { _ in }
            touch(id, fact, &fp)
        case .milestoneReached(let did, _, _, let next):
            updateDispatch(did, &fp) { d in
                guard let i = d.runningMilestone else { return }
                d.milestones![i].reachedAt = fact.at
                if i + 1 < d.milestones!.count { d.milestones![i + 1].dueBy = next }
            }
            touch(id, fact, &fp)
        case .resolved(let did, _, _, _, _):
            updateDispatch(did, &fp) { $0.finishedAt = fact.at }
            touch(id, fact, &fp)
        case .returned(let did, _, _):
            if let d = dispatches[did], d.role == .lead {
                updateDispatch(did, &fp) { _ in }
                update(id, fact, &fp) { $0.returnedBy.append(d.agency); $0.lead = nil; $0.assists = [] }
            } else {
                updateDispatch(did, &fp) { _ in }
                touch(id, fact, &fp)
            }
        case .cancelled(let did):
            updateDispatch(did, &fp) { _ in }
            touch(id, fact, &fp)
        case .evaluated(let s, _):
            update(id, fact, &fp) { $0.satisfaction = s }
        case .scheduled(let list):
            for t in list { fp.timers.append(.add(t)) }
            timers.schedule(list, heldThrough: timersHeldThrough)
        case .escalated(let t) where t.clock == .incident:
            timers.remove(id: t.id, owner: t.owner)
            fp.timers.append(.remove(id: t.id, owner: t.owner))
        case .escalated(let t) where t.clock == .whistle:
            timers.remove(id: t.id, owner: t.owner)
            fp.timers.append(.remove(id: t.id, owner: t.owner))
            updateSummon(t.dispatchID ?? "", &fp) { $0.escalation = max($0.escalation ?? 0, t.level) }
        case .escalated(let t):
            timers.remove(id: t.id, owner: t.owner)
            fp.timers.append(.remove(id: t.id, owner: t.owner))
            update(id, fact, &fp) { $0.escalation = max($0.escalation ?? 0, t.level) }
        case .extended(let did, let resolveBy, _, _):
            updateDispatch(did, &fp) { d in
                d.firstResolveBy = d.firstResolveBy ?? d.resolveBy
                d.resolveBy = resolveBy
                d.extensions = (d.extensions ?? 0) + 1
            }
            if dispatches[did]?.role == .lead { update(id, fact, &fp) { $0.resolveBy = resolveBy } } else { touch(id, fact, &fp) }
        case .deadlinesMoved(let did, let ackBy, let resolveBy, let returnBy, _):
            updateDispatch(did, &fp) { $0.ackBy = ackBy; $0.resolveBy = resolveBy; $0.returnBy = returnBy }
            if let d = dispatches[did], d.role == .lead { update(id, fact, &fp) { $0.resolveBy = d.resolveBy } } else { touch(id, fact, &fp) }
        case .backlogged(let did, let explanation):
            updateDispatch(did, &fp) { _ in }
            if dispatches[did]?.role == .lead { update(id, fact, &fp) { $0.backlog = explanation } } else { touch(id, fact, &fp) }
        case .whistleBlown, .summoned, .reported, .released, .stoodDown:
            applyWhistle(fact, &fp)
        case .downstream:
            touch(id, fact, &fp)
        case .adapterHealth(let h):
            health[h.adapter] = h
        case .incidentDeclared(let r):
            incidents[r.incidentID] = r
            ids.observe(incidentID: r.incidentID)
            fp.incidents.append(r.incidentID)
        case .incidentEnded(let outcome, let note):
            guard incidents[id] != nil else { break }
            incidents[id]!.state = .ended; incidents[id]!.endedAt = fact.at; incidents[id]!.outcome = outcome; incidents[id]!.note = note
            fp.incidents.append(id)
            removeTimers(of: id, clocks: [.incident], &fp)
        case .handedBack, .petitionRepeat(split: true, _):
            update(id, fact, &fp) { $0.mergedInto = nil }
            if let c = cases[id] { indexForMerge(c) }  // open again: the same problem merges into it
        case .petitionNotified, .petitionObjected, .petitionRuled, .petitionRequested, .petitionWindowClosed, .petitionRepeat:
            update(id, fact, &fp) { $0.petition?.record(fact) }
        }
        if case .modeSet(let mode, let scope) = fact.change {
            modes[scope] = mode == .normal ? nil : mode
            fp.modes = true
        }
    }

    /// Moves the dispatch and the case the fact is a trigger of, by the rows their tables take
    /// (guards read before the fact changes anything), and stops the clocks those rows stop.
    private mutating func advance(_ fact: Fact, _ fp: inout Footprint) {
        var leadTrigger: CaseMachine.Trigger?
        if let (did, trigger) = fact.change.dispatchTrigger, let d = dispatches[did] {
            // An act its dispatch's table does not take moves nothing (decide never logs one).
            guard let row = DispatchMachine.table.outcome(d.state, trigger, holds: { holds($0, d, at: fact.at) }).row else { return }
            if row.to != d.state { updateDispatch(did, &fp) { $0.state = row.to } }
            for case .stop(let clocks) in row.effects { removeTimers(of: did, clocks: clocks, &fp) }
            if d.role == .lead { leadTrigger = Ledger.caseTrigger(of: trigger) }
        }
        // The state is read and changed where it is (a copy of the record retains each of its
        // strings); only a guarded row hands `holds` a copy.
        guard let i = cases.index(forKey: fact.caseID), let trigger = leadTrigger ?? fact.change.caseTrigger else { return }
        let state = cases.values[i].state, id = fact.caseID
        guard let row = CaseMachine.table.outcome(state, trigger, holds: { holds($0, cases.values[i]) }).row else { return }
        if row.to != state {
            cases.values[i].state = row.to
            fp.cases.append(id)
            if row.to.isTerminal { closeOut(id) }
        }
        for case .stop(let clocks) in row.effects { removeTimers(of: id, clocks: clocks, &fp) }
    }

    mutating func removeTimers(of owner: String, clocks: [ClockKind], _ fp: inout Footprint) {
        timers.removeAll(of: owner) { clocks.contains($0.clock) }
        fp.timers.append(.stop(owner: owner, clocks: clocks))
    }

    /// Changes the record in place (taken out and put back, it was copied twice).
    private mutating func update(_ id: String, _ fact: Fact, _ fp: inout Footprint, _ change: (inout CaseRecord) -> Void) {
        guard let i = cases.index(forKey: id) else { return }
        change(&cases.values[i])
        cases.values[i].updatedAt = fact.at
        fp.cases.append(id)
    }

    private mutating func touch(_ id: String, _ fact: Fact, _ fp: inout Footprint) { update(id, fact, &fp) { _ in } }

    private mutating func updateDispatch(_ id: String, _ fp: inout Footprint, _ change: (inout DispatchRecord) -> Void) {
        guard let i = dispatches.index(forKey: id) else { return }
        change(&dispatches.values[i])
        fp.dispatches.append(id)
    }

    /// A terminal case leaves the merge index: a new report of the problem opens a new case.
    private mutating func closeOut(_ id: String) {
        guard let c = cases[id], let key = Ledger.mergeKey(c) else { return }
        Ledger.remove(id, under: key, from: &openByMergeKey)
    }
}

extension String {
    /// Without leading and trailing ASCII and ideographic (全角) spaces; cheaper than
    /// Foundation's CharacterSet trimming on the hot path.
    var trimmedSpaces: String {
        // Most text has no space at either end: then only its first and last scalars are
        // looked at (a Character equal to a space is that one scalar, so none can end in one).
        let isSpaceScalar: (Unicode.Scalar) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\u{3000}" }
        let scalars = unicodeScalars
        guard let head = scalars.first, let tail = scalars.last else { return self }
        if !isSpaceScalar(head) && !isSpaceScalar(tail) { return self }
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\u{3000}" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
