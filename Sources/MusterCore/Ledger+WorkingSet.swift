import Foundation
import MusterWire

/// The ledger holds the working set, not all history: the cases someone acted on since the start
/// (with their dispatches) while they are open, up to the broker's bound, and the rungs coming due
/// soon. A finished case (closed, rejected, merged) leaves memory once its last batch is durable,
/// an open one when the bound is passed and it is the longest untouched, and rungs further off
/// wait in the store; the shell reads back what a command or a rung needs before deciding
/// (`Needs`, `admit`), so `decide` stays pure and answers exactly as if everything were in memory.
extension Ledger {
    /// What deciding a command reads besides the working set.
    public struct Needs: Sendable, Equatable {
        public var cases: [String] = []
        public var dispatches: [String] = []
        /// (source, external_ref): a SUBMIT answered as before if its source's id was taken.
        public var refs: [ExternalRef] = []
        /// The open cases of the same problem a SUBMIT may merge into (`Ledger.mergeKey`).
        public var mergeKeys: [MergeKey] = []
        /// Whistles (and, through them, the cases they were blown on).
        public var whistles: [String] = []
        /// Incidents by id or by their department's ref: through them, the reports merged into them.
        public var incidents: [String] = []
        /// Petitions of the same petitioner and facts (`Ledger.repeatKey`), whatever their state.
        public var repeatKeys: [String] = []

        public init(cases: [String] = [], dispatches: [String] = [], refs: [ExternalRef] = [], mergeKeys: [MergeKey] = [],
                    whistles: [String] = [], incidents: [String] = [], repeatKeys: [String] = []) {
            self.cases = cases; self.dispatches = dispatches; self.refs = refs; self.mergeKeys = mergeKeys; self.whistles = whistles
            self.incidents = incidents; self.repeatKeys = repeatKeys
        }

        public var isEmpty: Bool {
            cases.isEmpty && dispatches.isEmpty && refs.isEmpty && mergeKeys.isEmpty && whistles.isEmpty && incidents.isEmpty && repeatKeys.isEmpty
        }

        public mutating func formUnion(_ other: Needs) {
            cases += other.cases; dispatches += other.dispatches; refs += other.refs; mergeKeys += other.mergeKeys
            whistles += other.whistles
            incidents += other.incidents
            repeatKeys += other.repeatKeys
        }
    }

    public struct ExternalRef: Sendable, Equatable, Hashable {
        public var source: Source
        public var ref: String
        public init(_ source: Source, _ ref: String) { self.source = source; self.ref = ref }
    }

    /// The dictionary's own copy of a key (a code from config), so records share one string
    /// instead of one per report.
    static func canonical<V>(_ s: String, in dict: [String: V]) -> String {
        dict.index(forKey: s).map { dict[$0].key } ?? s
    }

    /// Of `needs`, what may not be in memory. Open cases of a merge key may always be in the
    /// store too (open work is read on demand), so those are always asked for.
    /// A whistle in memory brings its case: its stand-down is guarded by the case's state.
    public func missing(_ needs: Needs) -> Needs {
        let reports = needs.incidents.flatMap { name in
            incidents.values.filter { $0.incidentID == name || $0.ref == name }.flatMap(\.reports)
        }
        let linked = needs.whistles.compactMap { whistles[$0]?.caseID } + reports
        return Needs(cases: (needs.cases + linked).filter { cases[$0] == nil },
                     dispatches: needs.dispatches.filter { dispatches[$0] == nil },
                     refs: needs.refs.filter { byExternalRef[Ledger.refKey($0.source, $0.ref)] == nil },
                     mergeKeys: needs.mergeKeys,
                     whistles: needs.whistles.filter { whistles[$0] == nil },
                     repeatKeys: needs.repeatKeys)
    }

    /// Takes an incident read from the store into memory; one already here is as new or newer.
    public mutating func admit(incident i: IncidentRecord) {
        guard incidents[i.incidentID] == nil else { return }
        incidents[i.incidentID] = i
        ids.observe(incidentID: i.incidentID)
    }

    /// Takes a whistle read from the store into memory; one already here is as new or newer.
    public mutating func admit(whistle w: WhistleRecord) {
        guard whistles[w.whistleID] == nil else { return }
        whistles[w.whistleID] = w
        ids.observe(whistleID: w.whistleID)
    }

    /// Takes a case and its dispatches, read from the store, into the working set. What is in
    /// memory already is as new or newer (nothing leaves memory before it is durable) and stays.
    public mutating func admit(_ c: CaseRecord, dispatches list: [DispatchRecord]) {
        if cases[c.caseID] == nil {
            cases[c.caseID] = c
            byExternalRef[Ledger.refKey(c.source, c.externalRef)] = c.caseID
            ids.observe(caseID: c.caseID)
            indexForMerge(c)
            indexPetition(c)
        }
        for d in list.sorted(by: { $0.dispatchID < $1.dispatchID }) where dispatches[d.dispatchID] == nil {
            dispatches[d.dispatchID] = d
            dispatchesOfCase[d.caseID, default: []].append(d.dispatchID)
            ids.observe(dispatchID: d.dispatchID)
        }
    }

    /// Drops a finished case and its dispatches from the working set: they are answered from
    /// the store from now on. Only a terminal case leaves (an open one has clocks and a place in
    /// the merge index).
    public mutating func evict(_ caseID: String) {
        // A petition runs on after its case closed (复查 and 复核 windows): its clocks stay in memory.
        guard let c = cases[caseID], c.state.isTerminal, c.petition.map({ $0.state.isTerminal }) ?? true else { return }
        release(caseID)
        timers.removeAll(of: caseID)
    }

    /// Drops any case (open or not) and its dispatches from memory; it is read back when named
    /// again. Its rungs stay: a rung due soon reads its case back before it fires. The caller
    /// makes sure nothing in flight changed it.
    public mutating func release(_ caseID: String) {
        guard let c = cases.removeValue(forKey: caseID) else { return }
        // Each index looked up once: every SUBMIT past the bound evicts a case.
        if let i = byExternalRef.index(forKey: Ledger.refKey(c.source, c.externalRef)), byExternalRef.values[i] == caseID {
            byExternalRef.remove(at: i)
        }
        if let key = Ledger.mergeKey(c) { Ledger.remove(caseID, under: key, from: &openByMergeKey) }
        if let key = c.petition?.repeatKey { Ledger.remove(caseID, under: key, from: &petitionsByKey) }
        for id in dispatchesOfCase.removeValue(forKey: caseID) ?? [] { dispatches.removeValue(forKey: id) }
    }

    /// Takes a case out of the list under `key`, and the entry with it once the list is empty:
    /// one look-up (each hashes the key again).
    static func remove<Key: Hashable>(_ caseID: String, under key: Key, from index: inout [Key: [String]]) {
        guard let i = index.index(forKey: key) else { return }
        index.values[i].removeAll { $0 == caseID }
        if index.values[i].isEmpty { index.remove(at: i) }
    }

    /// Rungs read from the store as their time nears; one already in memory stays.
    public mutating func admit(timers list: [LadderTimer]) {
        timers.admit(list)
    }

    /// Rungs due after `horizon` leave memory (they are in the store, read back as time nears).
    public mutating func evictTimers(dueAfter horizon: Date) {
        timers.removeAll { $0.due > horizon }
    }
}
