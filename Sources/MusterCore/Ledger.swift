import Foundation
import MusterWire

/// The broker's in-memory picture of every case and dispatch: the projections, folded from
/// facts. `apply` is the only way it changes, used alike for live decisions and for replay.
public struct Ledger: Sendable, Equatable {
    public var cases: [String: CaseRecord] = [:]
    public var dispatches: [String: DispatchRecord] = [:]
    /// Open dispatches of each case, in dispatch order.
    public var openDispatches: [String: [String]] = [:]
    /// (source, external_ref) → case: a source's id is taken once.
    public var byExternalRef: [String: String] = [:]
    /// Merge key → the open case that reports of the same problem join.
    /// Open cases by merge key, oldest first: a new report joins the newest one still inside the
    /// merge window. Built the same way by `apply` and by loading the projections.
    public var openByMergeKey: [String: [String]] = [:]

    /// Indexes an open case under its merge key (in case id order, i.e. oldest first).
    public mutating func indexForMerge(_ c: CaseRecord) {
        guard !c.state.isTerminal, let key = Ledger.mergeKey(c) else { return }
        openByMergeKey[key, default: []].append(c.caseID)
    }
    public var ids = IDSource()
    /// Ladder rungs not yet fired, and by owner (dispatch id, or case id for the case's clocks).
    public var timers: [String: LadderTimer] = [:]
    public var timersByOwner: [String: Set<String>] = [:]
    /// Management modes by grid prefix (the root grid for city-wide); absent: 平时 normal.
    public var modes: [String: ManagementMode] = [:]

    /// The mode in force for a grid: the most specific scope that covers it.
    public func mode(for grid: String) -> ManagementMode {
        modes.filter { GridMap.isPrefix($0.key, of: grid) }.max { $0.key.count < $1.key.count }?.value ?? .normal
    }

    public init() {}

    public static func refKey(_ source: Source, _ ref: String) -> String { source.rawValue + "\u{1F}" + ref }

    /// Same category, same grid cell, same address: the same problem (并单). Without an
    /// address there is nothing to tell two problems in a grid apart, so no merge.
    public static func mergeKey(_ c: CaseRecord) -> String? {
        guard let a = c.address?.trimmedSpaces, !a.isEmpty,
              c.category != Routing.unclassified else { return nil }
        return c.category + "\u{1F}" + c.grid + "\u{1F}" + a
    }

    public func caseID(source: Source, externalRef: String) -> String? {
        byExternalRef[Ledger.refKey(source, externalRef)]
    }

    public func openDispatchRecords(of caseID: String) -> [DispatchRecord] {
        (openDispatches[caseID] ?? []).compactMap { dispatches[$0] }
    }

    /// Folds one fact into the projections.
    public mutating func apply(_ fact: Fact) {
        let id = fact.caseID
        stopClocks(fact)
        switch fact.change {
        case .accepted(let record):
            cases[id] = record
            byExternalRef[Ledger.refKey(record.source, record.externalRef)] = id
            indexForMerge(record)
            ids.observe(caseID: id)
        case .merged(let into):
            update(id, fact) { $0.state = .merged; $0.mergedInto = into }
            closeOut(id)
        case .reportMerged:
            update(id, fact) { $0.mergedReports += 1 }
        case .triage:
            update(id, fact) { $0.state = .triage; $0.lead = nil; $0.assists = [] }
        case .consultation:
            update(id, fact) { $0.state = .consultation; $0.lead = nil; $0.assists = [] }
        case .dispatched(let d):
            dispatches[d.dispatchID] = d
            openDispatches[id, default: []].append(d.dispatchID)
            ids.observe(dispatchID: d.dispatchID)
            update(id, fact) {
                if d.role == .lead {
                    $0.state = .dispatched; $0.lead = d.agency; $0.round = d.round; $0.resolveBy = d.resolveBy
                    $0.assists = []
                } else if !$0.assists.contains(d.agency) {
                    $0.assists.append(d.agency)
                }
            }
        case .assigned:
            update(id, fact) { $0.assigned = true }
        case .rejected:
            update(id, fact) { $0.state = .rejected }
            closeOut(id)
        case .acked(let did, let handler, _):
            updateDispatch(did) { $0.state = .acked; $0.ackedAt = fact.at; $0.handler = handler }
            if dispatches[did]?.role == .lead { update(id, fact) { $0.state = .handling } } else { touch(id, fact) }
        case .progressed:
            touch(id, fact)
        case .resolved(let did, _, _, _, _):
            updateDispatch(did) { $0.state = .finished; $0.finishedAt = fact.at }
            closeDispatch(id, did)
            if dispatches[did]?.role == .lead { update(id, fact) { $0.state = .finished } } else { touch(id, fact) }
        case .returned(let did, _, _):
            updateDispatch(did) { $0.state = .returned }
            closeDispatch(id, did)
            if let d = dispatches[did], d.role == .lead { update(id, fact) { $0.returnedBy.append(d.agency) } } else { touch(id, fact) }
        case .cancelled(let did):
            updateDispatch(did) { $0.state = .cancelled }
            closeDispatch(id, did)
            touch(id, fact)
        case .verified(let passed, _):
            update(id, fact) { if passed { $0.state = .verified } }
        case .evaluated(let s, _):
            update(id, fact) { $0.satisfaction = s }
        case .closed:
            update(id, fact) { $0.state = .closed }
            closeOut(id)
        case .scheduled(let list):
            for t in list {
                timers[t.id] = t
                timersByOwner[t.owner, default: []].insert(t.id)
            }
        case .escalated(let t):
            removeTimer(t.id)
            update(id, fact) { $0.escalation = max($0.escalation ?? 0, t.level) }
        case .extended(let did, let resolveBy, _, _):
            updateDispatch(did) { d in
                d.firstResolveBy = d.firstResolveBy ?? d.resolveBy
                d.resolveBy = resolveBy
                d.extensions = (d.extensions ?? 0) + 1
            }
            if dispatches[did]?.role == .lead { update(id, fact) { $0.resolveBy = resolveBy } } else { touch(id, fact) }
        case .deadlinesMoved(let did, let ackBy, let resolveBy, let returnBy, _):
            updateDispatch(did) { $0.ackBy = ackBy; $0.resolveBy = resolveBy; $0.returnBy = returnBy }
            if let d = dispatches[did], d.role == .lead { update(id, fact) { $0.resolveBy = d.resolveBy } } else { touch(id, fact) }
        case .backlogged(let did, let explanation):
            if dispatches[did]?.role == .lead { update(id, fact) { $0.backlog = explanation } } else { touch(id, fact) }
        case .modeSet(let mode, let scope):
            modes[scope] = mode == .normal ? nil : mode
        }
    }

    /// The clocks a fact stops, and so the rungs that will never fire.
    private mutating func stopClocks(_ fact: Fact) {
        switch fact.change {
        case .acked(let d, _, _): removeTimers(of: d, clocks: [.ack])
        case .resolved(let d, _, _, _, _), .returned(let d, _, _), .cancelled(let d): removeTimers(of: d, clocks: [.ack, .resolve])
        case .extended(let d, _, _, _), .backlogged(let d, _): removeTimers(of: d, clocks: [.resolve])
        case .deadlinesMoved(let d, _, _, _, _): removeTimers(of: d, clocks: [.ack, .resolve])
        case .dispatched(let d) where d.role == .lead: removeTimers(of: fact.caseID, clocks: [.triage, .verify, .evaluate])
        case .rejected, .merged: removeTimers(of: fact.caseID, clocks: [.triage])
        case .verified: removeTimers(of: fact.caseID, clocks: [.verify])
        case .evaluated: removeTimers(of: fact.caseID, clocks: [.verify, .evaluate])
        default: break
        }
    }

    private mutating func removeTimers(of owner: String, clocks: Set<ClockKind>) {
        for tid in timersByOwner[owner] ?? [] where clocks.contains(timers[tid]?.clock ?? .ack) { removeTimer(tid) }
    }

    private mutating func removeTimer(_ tid: String) {
        guard let t = timers.removeValue(forKey: tid) else { return }
        timersByOwner[t.owner]?.remove(tid)
        if timersByOwner[t.owner]?.isEmpty == true { timersByOwner[t.owner] = nil }
    }

    private mutating func update(_ id: String, _ fact: Fact, _ change: (inout CaseRecord) -> Void) {
        guard var c = cases[id] else { return }
        change(&c)
        c.updatedAt = fact.at
        cases[id] = c
    }

    private mutating func touch(_ id: String, _ fact: Fact) { update(id, fact) { _ in } }

    private mutating func updateDispatch(_ id: String, _ change: (inout DispatchRecord) -> Void) {
        guard var d = dispatches[id] else { return }
        change(&d)
        dispatches[id] = d
    }

    private mutating func closeDispatch(_ caseID: String, _ dispatchID: String) {
        openDispatches[caseID]?.removeAll { $0 == dispatchID }
        if openDispatches[caseID]?.isEmpty == true { openDispatches[caseID] = nil }
    }

    /// A terminal case leaves the merge index: a new report of the problem opens a new case.
    private mutating func closeOut(_ id: String) {
        guard let c = cases[id], let key = Ledger.mergeKey(c) else { return }
        openByMergeKey[key]?.removeAll { $0 == id }
        if openByMergeKey[key]?.isEmpty == true { openByMergeKey[key] = nil }
    }
}

extension String {
    /// Without leading and trailing ASCII and ideographic (全角) spaces; cheaper than
    /// Foundation's CharacterSet trimming on the hot path.
    var trimmedSpaces: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\u{3000}" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
