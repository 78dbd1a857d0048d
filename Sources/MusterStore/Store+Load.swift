import Foundation
import GRDB
import MusterCore
import MusterWire

extension Store {
    /// Rebuilds the broker's ledger from the projections at start (not from the whole log).
    public func loadLedger() throws -> Ledger {
        try pool.read { db in
            var ledger = Ledger()
            let cases = try Row.fetchCursor(db, sql: "SELECT * FROM cases ORDER BY case_id")
            while let row = try cases.next() {
                let c = try Store.caseRecord(row)
                ledger.cases[c.caseID] = c
                ledger.byExternalRef[Ledger.refKey(c.source, c.externalRef)] = c.caseID
                ledger.ids.observe(caseID: c.caseID)
                ledger.indexForMerge(c)
                ledger.indexPetition(c)
            }
            let dispatches = try Row.fetchCursor(db, sql: "SELECT * FROM dispatches ORDER BY dispatch_id")
            while let row = try dispatches.next() {
                let d = try Store.dispatchRecord(row)
                ledger.dispatches[d.dispatchID] = d
                ledger.dispatchesOfCase[d.caseID, default: []].append(d.dispatchID)
                ledger.ids.observe(dispatchID: d.dispatchID)
            }
            ledger.admit(timers: try Store.timers(db, dueBy: nil))
            try Store.loadModes(db, into: &ledger)
            for w in try Store.whistles(db, where: "1", [[]]) { ledger.admit(whistle: w) }
            for i in try Store.incidents(db, activeOnly: false) { ledger.admit(incident: i) }
            return ledger
        }
    }

    public func loadWorkingSet(timersDueBy horizon: Date) throws -> Ledger {
        try pool.read { db in
            var ledger = Ledger()
            // The counters go on from the highest ids ever handed out (by the primary keys).
            ledger.ids.observe(caseID: try String.fetchOne(db, sql: "SELECT max(case_id) FROM cases"),
                               dispatchID: try String.fetchOne(db, sql: "SELECT max(dispatch_id) FROM dispatches"))
            ledger.ids.observe(whistleID: try Store.lastWhistleID(db))
            ledger.admit(timers: try Store.timers(db, dueBy: horizon))
            ledger.timersHeldThrough = horizon
            try Store.loadModes(db, into: &ledger)
            for w in try Store.whistles(db, where: "state = 'open'", [[]]) { ledger.admit(whistle: w) }
            ledger.ids.observe(incidentID: try String.fetchOne(db, sql: "SELECT max(incident_id) FROM incidents"))
            for i in try Store.incidents(db, activeOnly: true) { ledger.admit(incident: i) }
            return ledger
        }
    }

    public func cases(in state: CaseState, after: String?, limit: Int) throws -> [(CaseRecord, [DispatchRecord])] {
        try pool.read { db in
            // A range of the state index (state, case_id): a page costs its own rows only.
            let ids = try String.fetchAll(db, sql: "SELECT case_id FROM cases WHERE state = ? AND case_id > ? ORDER BY case_id LIMIT ?",
                                          arguments: [state.rawValue, after ?? "", limit])
            return try Store.casesWithDispatches(db, ids)
        }
    }

    public func timers(ofOwners owners: [String]) throws -> [LadderTimer] {
        try pool.read { db in
            try owners.flatMap { try Store.timers(db, sql: "SELECT * FROM timers WHERE owner = ?", arguments: [$0]) }
        }
    }

    /// By the state index, so finished cases cost nothing however many there are.
    static let openStates = "state IN (" + CaseState.allCases.filter { !$0.isTerminal && $0 != .new }.map { "'\($0.rawValue)'" }.joined(separator: ", ") + ")"

    static let caseRow = StatementSQL("SELECT * FROM cases WHERE case_id = ?")
    static let dispatchRows = StatementSQL("SELECT * FROM dispatches WHERE case_id = ? ORDER BY dispatch_id")

    static func casesWithDispatches(_ db: Database, _ ids: [String], _ prepared: PreparedStatements? = nil) throws
        -> [(CaseRecord, [DispatchRecord])] {
        var seen = Set<String>()
        let caseRow = try db.statement(Store.caseRow, prepared)
        let dispatchRows = try db.statement(Store.dispatchRows, prepared)
        return try ids.filter { seen.insert($0).inserted }.compactMap { id in
            guard let row = try Row.fetchOne(caseRow, arguments: [id]) else { return nil }
            return (try Store.caseRecord(row), try Row.fetchAll(dispatchRows, arguments: [id]).map(Store.dispatchRecord))
        }
    }

    public func workingSet(for needs: Ledger.Needs) throws -> [(CaseRecord, [DispatchRecord])] {
        guard !needs.isEmpty else { return [] }
        return try pool.unsafeRead { db in try Store.workingSet(db, needs) }
    }

    static let caseByDispatch = StatementSQL("SELECT case_id FROM dispatches WHERE dispatch_id = ?")
    static let caseByRef = StatementSQL("SELECT case_id FROM cases WHERE source = ? AND external_ref = ?")
    static let casesByMergeKey = StatementSQL("SELECT case_id FROM cases WHERE merge_key = ? AND \(Store.openStates) ORDER BY case_id")
    static let casesByRepeatKey = StatementSQL("SELECT case_id FROM cases WHERE repeat_key = ? ORDER BY case_id")

    /// The cases `needs` names, with their dispatches. A read transaction is not needed (the
    /// broker's look-ups take one to hold the log's read lock once): a case that changes between
    /// these reads is in memory already (in flight), and the broker keeps its in-memory copy.
    static func workingSet(_ db: Database, _ needs: Ledger.Needs, _ prepared: PreparedStatements? = nil) throws
        -> [(CaseRecord, [DispatchRecord])] {
        var ids: [String] = needs.cases
        // Prepared once per connection: a batch of SUBMITs asks these a few thousand times.
        let byDispatch = try db.statement(Store.caseByDispatch, prepared)
        let byRef = try db.statement(Store.caseByRef, prepared)
        let byMergeKey = try db.statement(Store.casesByMergeKey, prepared)
        for d in needs.dispatches {
            var b = Binder(byDispatch); b.bind(d)
            try b.rows { ids.append($0.text(0)) }
        }
        for r in needs.refs {
            var b = Binder(byRef); b.bind(r.source.rawValue); b.bind(r.ref)
            try b.rows { ids.append($0.text(0)) }
        }
        for k in needs.mergeKeys {
            var b = Binder(byMergeKey); b.bind(k.text)
            try b.rows { ids.append($0.text(0)) }
        }
        let byRepeatKey = try db.statement(Store.casesByRepeatKey, prepared)
        for k in needs.repeatKeys {
            var b = Binder(byRepeatKey); b.bind(k)
            try b.rows { ids.append($0.text(0)) }
        }
        return try Store.casesWithDispatches(db, ids, prepared)
    }

    public func timers(dueAfter after: Date?, through: Date?) throws -> [LadderTimer] {
        try pool.read { db in
            try Store.timers(db, dueAfter: after, through: through)
        }
    }

    static func timers(_ db: Database, sql: String, arguments: StatementArguments) throws -> [LadderTimer] {
        var list: [LadderTimer] = []
        let rows = try Row.fetchCursor(db.cachedStatement(sql: sql), arguments: arguments)
        while let row = try rows.next() {
            let clock: String = row["clock"], recipients: String = row["recipients"]
            guard let c = ClockKind(rawValue: clock) else { throw StoreError.corrupt("timers.clock = \(clock)") }
            list.append(LadderTimer(id: row["id"], caseID: row["case_id"], dispatchID: row["dispatch_id"], agency: codes(row["agency"] as String?),
                                    clock: c, rung: row["rung"], level: row["level"], notice: codes(row["notice"] as String),
                                    to: Store.list(recipients), due: Date(ms: row["due"]), deadline: Date(ms: row["deadline"])))
        }
        return list
    }

    static func loadModes(_ db: Database, into ledger: inout Ledger) throws {
        for row in try Row.fetchAll(db, sql: "SELECT scope, mode FROM modes") {
            if let m = ManagementMode(rawValue: row["mode"]) { ledger.modes[row["scope"]] = m }
        }
    }

    /// Every push not yet received, in delivery order; bodies only for the first `bodies` (the
    /// rest come back empty, to be read with `pushBody` when sent).
    public func pendingPushes(bodies: Int) throws -> [Batch.Push] {
        try pool.read { db in
            let rows = try Row.fetchCursor(db, sql: "SELECT delivery, target, command, dispatch_id, created_at, grid FROM outbox ORDER BY delivery")
            var pushes: [Batch.Push] = []
            while let row = try rows.next() {
                pushes.append(Batch.Push(delivery: row[0], target: Store.codes(row[1] as String), command: Store.codes(row[2] as String), body: [],
                                         dispatchID: row[3], createdAt: Date(ms: row[4]), grid: Store.codes(row[5] as String?)))
            }
            let stmt = try db.cachedStatement(sql: "SELECT body FROM outbox WHERE delivery = ?")
            for i in pushes.indices.prefix(bodies) {
                pushes[i].body = try Data.fetchOne(stmt, arguments: [pushes[i].delivery]).map(Array.init) ?? []
            }
            return pushes
        }
    }

    /// A push's body, read back when it was not kept in memory.
    public func pushBody(delivery: Int64) throws -> [UInt8]? {
        try pool.read { db in
            try Data.fetchOne(db, sql: "SELECT body FROM outbox WHERE delivery = ?", arguments: [delivery]).map(Array.init)
        }
    }

    /// The submitted bytes of the case whose id is the SQL expression `caseID`: on the log's row
    /// of its `case.accepted` fact, or, for a case whose acceptance the log lost before v15, kept
    /// apart (Schema, v15).
    static func submittedSQL(of caseID: String) -> String {
        """
        coalesce((SELECT a.submitted FROM events a WHERE a.case_id = \(caseID) AND a.type = 'case.accepted' ORDER BY a.seq LIMIT 1),
                 (SELECT u.submitted FROM submitted_unlogged u WHERE u.case_id = \(caseID)))
        """
    }

    /// The case's submitted bytes, for building a DISPATCH of a later round (assigned, returned,
    /// redone, routed from triage): a push sent again takes its outbox row's body.
    public func submitted(caseID: String) throws -> [UInt8]? {
        try pool.read { db in
            try Data.fetchOne(db, sql: "SELECT \(Store.submittedSQL(of: "c.case_id")) FROM cases c WHERE c.case_id = ?", arguments: [caseID]).map(Array.init)
        }
    }

    static func list(_ s: String) -> [String] { s.isEmpty ? [] : s.split(separator: ",").map { codes(String($0)) } }

    /// Codes read from rows, shared (see `Interner`).
    static let codes = Interner()

    static func caseRecord(_ row: Row) throws -> CaseRecord {
        func enumValue<E: RawRepresentable>(_ type: E.Type, _ column: String) throws -> E where E.RawValue == String {
            let raw: String = row[column]
            guard let v = E(rawValue: raw) else { throw StoreError.corrupt("cases.\(column) = \(raw)") }
            return v
        }
        let satisfaction: String? = row["satisfaction"]
        let resolveBy: Int64? = row["resolve_by"]
        let escalation: Int? = row["escalation"]
        return CaseRecord(
            caseID: row["case_id"], source: try enumValue(Source.self, "source"), externalRef: row["external_ref"],
            category: codes(row["category"] as String), grid: codes(row["grid"] as String), priority: try enumValue(Priority.self, "priority"),
            title: row["title"], address: row["address"], state: try enumValue(CaseState.self, "state"), round: row["round"],
            lead: codes(row["lead"] as String?), assists: list(row["assists"]), assigned: row["assigned"], returnedBy: list(row["returned_by"]),
            mergedInto: row["merged_into"], mergedReports: row["merged_reports"], acceptedAt: Date(ms: row["accepted_at"]),
            updatedAt: Date(ms: row["updated_at"]), resolveBy: resolveBy.map(Date.init(ms:)),
            satisfaction: satisfaction.flatMap(Satisfaction.init(rawValue:)), escalation: escalation, backlog: row["backlog"],
            petition: try (row["petition"] as String?).map(LogReader.petition))
    }

    static func dispatchRecord(_ row: Row) throws -> DispatchRecord {
        let role: String = row["role"], state: String = row["state"]
        guard let r = DispatchRole(rawValue: role), let s = DispatchState(rawValue: state) else {
            throw StoreError.corrupt("dispatches row \(row["dispatch_id"] as String? ?? "?")")
        }
        let ackedAt: Int64? = row["acked_at"], finishedAt: Int64? = row["finished_at"]
        let extensions: Int? = row["extensions"], firstResolveBy: Int64? = row["first_resolve_by"]
        return DispatchRecord(
            dispatchID: row["dispatch_id"], caseID: row["case_id"], agency: codes(row["agency"] as String), role: r, round: row["round"],
            state: s, sentAt: Date(ms: row["sent_at"]), ackBy: Date(ms: row["ack_by"]), resolveBy: Date(ms: row["resolve_by"]),
            returnBy: Date(ms: row["return_by"]), ackedAt: ackedAt.map(Date.init(ms:)),
            finishedAt: finishedAt.map(Date.init(ms:)), handler: row["handler"], extensions: extensions,
            firstResolveBy: firstResolveBy.map(Date.init(ms:)), milestones: try (row["milestones"] as String?).map(LogReader.milestones))
    }
}

public enum StoreError: Error, CustomStringConvertible {
    case corrupt(String)
    /// The store cannot commit as durably as it was asked to.
    case notDurable(String)
    public var description: String {
        switch self {
        case .corrupt(let what): "corrupt row: \(what)"
        case .notDurable(let what): what
        }
    }
}
