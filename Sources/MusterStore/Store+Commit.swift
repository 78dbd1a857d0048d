import Foundation
import GRDB
import MusterCore

extension Store {
    /// Writes a sealed batch in one transaction: the facts to the hash-chained log, the
    /// projection rows, the pushes, the deliveries received, and the replies. Returns the logged
    /// facts with their seqs. On any error nothing is written and the log's head is as before.
    /// Called from one thread at a time (the broker's writer).
    @discardableResult
    public func commit(_ batch: Batch) throws -> [LoggedFact] {
        let savedSeq = lastSeq, savedHead = head
        var logged: [LoggedFact] = []
        logged.reserveCapacity(batch.facts.count)
        var ladders: [(owner: String, rungs: [LadderTimer]?)] = []
        do {
            try pool.writeWithoutTransaction { db in
                // Left due by the commit before, if nobody called `finishCheckpoint` since.
                _ = finishCheckpoint(db)
                // A Binder left unstepped by an error (a bug) would keep the arena from every later
                // statement; its stale bindings are cleared by the next Binder on its statement.
                bindArena.held = false
                try Store.inImmediateTransaction(db, writerStatements) {
                    var hashes: [Data] = []
                    hashes.reserveCapacity(batch.facts.count)
                    for fact in batch.facts {
                        let type = fact.type
                        let data = LogFormat.encode(fact.change, type: type)
                        lastSeq += 1
                        head = EventChain.hash(previous: head, seq: lastSeq, caseID: fact.caseID, type: type, at: fact.at.ms, actor: fact.actor, data: data)
                        hashes.append(head)
                        logged.append(LoggedFact(seq: lastSeq, fact: fact, type: type, data: data))
                    }
                    try Store.insertEvents.run(db, count: logged.count, arena: bindArena, writerStatements) { b, i in
                        // Fields read in place: `let l = logged[i]` copied the fact (a retain of
                        // each of its strings) for each row.
                        b.bind(logged[i].seq); b.bind(logged[i].fact.caseID); b.bind(logged[i].type); b.bind(logged[i].fact.at.ms)
                        b.bind(logged[i].fact.actor); b.bind(logged[i].data); b.bind(hashes[i])
                        // The submitted case, beside the fact that accepted it (Schema, v15).
                        let submitted: [UInt8]? = if case .accepted = logged[i].fact.change { batch.submitted[logged[i].fact.caseID] } else { nil }
                        b.bind(submitted)
                    }
                    try writeOutcomes(db, logged)
                    try writeProjections(db, batch)
                    try writeWhistles(db, batch.whistleRows)
                    try writeIncidents(db, batch.incidentRows)
                    try writeOutbox(db, batch)
                    ladders = try writeLadders(db, batch.timerChanges, newCases: batch.submitted)
                    if let modes = batch.modeRows {
                        try db.execute(sql: "DELETE FROM modes")
                        for (scope, mode) in modes {
                            try db.execute(sql: "INSERT INTO modes (scope, mode, set_at) VALUES (?, ?, ?)",
                                           arguments: [scope, mode.rawValue, batch.facts.last?.at.ms ?? 0])
                        }
                    }
                    try Store.insertReplies.run(db, count: batch.replies.count, arena: bindArena, writerStatements) { b, i in
                        let r = batch.replies[i]
                        b.bind(r.adapter); b.bind(r.requestID); b.bind(r.command.rawValue); b.bind(r.body); b.bind(r.at.ms)
                    }
                    if !batch.facts.isEmpty {
                        var b = Binder(try db.statement(Store.setHead, writerStatements), arena: bindArena); b.bind(lastSeq); b.bind(head); try b.step()
                    }
                }
            }
        } catch {
            lastSeq = savedSeq
            head = savedHead
            throw error
        }
        recentLadders.keep(ladders)
        return logged
    }

    static let insertEvents = MultiRowInsert("INSERT OR FAIL INTO events (seq, case_id, type, at, actor, data, hash, submitted) VALUES", columns: 8)
    static let insertReplies = MultiRowInsert("INSERT OR IGNORE INTO requests (adapter, request_id, command, reply, at) VALUES", columns: 5)
    static let setHead = StatementSQL("INSERT OR REPLACE INTO meta (key, value) VALUES ('head_seq', ?), ('head_hash', ?)")
    static let insertPushes = MultiRowInsert("INSERT OR FAIL INTO outbox (delivery, target, command, body, dispatch_id, created_at, grid) VALUES", columns: 7)

    static let insertCase = StatementSQL("""
            INSERT INTO cases (case_id, source, external_ref, category, grid, priority, title, address, state, round,
                lead, assists, assigned, returned_by, merged_into, merged_reports, accepted_at, updated_at, resolve_by,
                satisfaction, escalation, backlog, merge_key, petition, repeat_key)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
    static let updateCase = StatementSQL("""
            UPDATE cases SET state = ?, round = ?, lead = ?, assists = ?, assigned = ?, returned_by = ?, merged_into = ?,
                merged_reports = ?, updated_at = ?, resolve_by = ?, satisfaction = ?, escalation = ?, backlog = ?, petition = ? WHERE case_id = ?
            """)
    static let upsertDispatch = StatementSQL("""
            INSERT INTO dispatches (dispatch_id, case_id, agency, role, round, state, sent_at, ack_by, resolve_by, return_by,
                acked_at, finished_at, handler, extensions, first_resolve_by, milestones)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (dispatch_id) DO UPDATE SET state = excluded.state, ack_by = excluded.ack_by,
                resolve_by = excluded.resolve_by, return_by = excluded.return_by, acked_at = excluded.acked_at, finished_at = excluded.finished_at,
                handler = excluded.handler, extensions = excluded.extensions, first_resolve_by = excluded.first_resolve_by,
                milestones = excluded.milestones
            """)

    private func writeProjections(_ db: Database, _ batch: Batch) throws {
        let insertCase = try db.statement(Store.insertCase, writerStatements)
        let updateCase = try db.statement(Store.updateCase, writerStatements)
        for c in batch.caseRows {
            if batch.submitted[c.caseID] != nil {
                var b = Binder(insertCase, arena: bindArena)
                b.bind(c.caseID); b.bind(c.source.rawValue); b.bind(c.externalRef); b.bind(c.category)
                b.bind(c.grid); b.bind(c.priority.rawValue); b.bind(c.title); b.bind(c.address)
                b.bind(c.state.rawValue); b.bind(c.round); b.bind(c.lead); b.bind(c.assists.joined(separator: ","))
                b.bind(c.assigned); b.bind(c.returnedBy.joined(separator: ",")); b.bind(c.mergedInto); b.bind(c.mergedReports)
                b.bind(c.acceptedAt.ms); b.bind(c.updatedAt.ms); b.bind(c.resolveBy?.ms); b.bind(c.satisfaction?.rawValue)
                b.bind(c.escalation.map(Int64.init)); b.bind(c.backlog); b.bind(Ledger.mergeKeyText(c))
                b.bind(Store.petitionColumn(c)); b.bind(c.petition?.repeatKey)
                try b.step()
            } else {
                var b = Binder(updateCase, arena: bindArena)
                b.bind(c.state.rawValue); b.bind(c.round); b.bind(c.lead); b.bind(c.assists.joined(separator: ","))
                b.bind(c.assigned); b.bind(c.returnedBy.joined(separator: ",")); b.bind(c.mergedInto); b.bind(c.mergedReports)
                b.bind(c.updatedAt.ms); b.bind(c.resolveBy?.ms); b.bind(c.satisfaction?.rawValue)
                b.bind(c.escalation.map(Int64.init)); b.bind(c.backlog); b.bind(Store.petitionColumn(c)); b.bind(c.caseID)
                try b.step()
            }
        }
        let upsertDispatch = try db.statement(Store.upsertDispatch, writerStatements)
        for d in batch.dispatchRows {
            var b = Binder(upsertDispatch, arena: bindArena)
            b.bind(d.dispatchID); b.bind(d.caseID); b.bind(d.agency); b.bind(d.role.rawValue)
            b.bind(d.round); b.bind(d.state.rawValue); b.bind(d.sentAt.ms); b.bind(d.ackBy.ms)
            b.bind(d.resolveBy.ms); b.bind(d.returnBy.ms); b.bind(d.ackedAt?.ms); b.bind(d.finishedAt?.ms)
            b.bind(d.handler); b.bind(d.extensions.map(Int64.init)); b.bind(d.firstResolveBy?.ms)
            b.bind(d.milestones.map { String(decoding: LogWriter.milestonesJSON($0), as: UTF8.self) })
            try b.step()
        }
    }

    private func writeOutbox(_ db: Database, _ batch: Batch) throws {
        let withdrawn = batch.withdrawn.isEmpty ? [] : Set(batch.withdrawn)
        let pushes = withdrawn.isEmpty ? batch.pushes : batch.pushes.filter { !($0.dispatchID.map(withdrawn.contains) ?? false) }
        try Store.insertPushes.run(db, count: pushes.count, arena: bindArena, writerStatements) { b, i in
            let p = pushes[i]
            b.bind(p.delivery); b.bind(p.target); b.bind(p.command); b.bind(p.body)
            b.bind(p.dispatchID); b.bind(p.createdAt.ms); b.bind(p.grid)
        }
        let deleteDelivery = try db.statement(Store.deleteDelivery, writerStatements)
        for d in batch.received { var b = Binder(deleteDelivery); b.bind(d); try b.step() }
        for d in batch.withdrawnDeliveries { var b = Binder(deleteDelivery); b.bind(d); try b.step() }
        if !batch.pushes.isEmpty {
            // Delivery ids are never reused, even after their rows are deleted.
            var b = Binder(try db.statement(Store.setLastDelivery, writerStatements))
            b.bind(batch.lastDelivery)
            try b.step()
        }
        if let applied = batch.appliedCalendar {
            try db.execute(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES ('calendar_applied', ?)",
                           arguments: [Data(Self.encode(applied))])
        }
    }

    static let deleteDelivery = StatementSQL("DELETE FROM outbox WHERE delivery = ?")
    static let setLastDelivery = StatementSQL("INSERT OR REPLACE INTO meta (key, value) VALUES ('last_delivery', ?)")

    /// The stored replies to any of these request ids seen before: one read for a whole batch.
    public func storedReplies(_ keys: [RequestKey]) throws -> [RequestKey: (command: String, body: [UInt8])] {
        guard !keys.isEmpty else { return [:] }
        // Each look-up stands alone, so no read transaction is needed (BEGIN and COMMIT cost
        // more than the look-ups of a small batch).
        return try pool.unsafeRead { db in try Store.storedReplies(db, keys) }
    }

    static let storedReply = StatementSQL("SELECT command, reply FROM requests WHERE adapter = ? AND request_id = ?")

    static func storedReplies(_ db: Database, _ keys: [RequestKey], _ prepared: PreparedStatements? = nil) throws
        -> [RequestKey: (command: String, body: [UInt8])] {
        let stmt = try db.statement(Store.storedReply, prepared)
        var found: [RequestKey: (command: String, body: [UInt8])] = [:]
        for key in keys {
            var b = Binder(stmt); b.bind(key.adapter); b.bind(key.requestID)
            try b.rows { found[key] = ($0.text(0), $0.bytes(1)) }
        }
        return found
    }

    public func forEachStoredRequestKey(_ body: (RequestKey) -> Void) throws {
        try pool.read { db in
            let stmt = try db.makeStatement(sql: "SELECT adapter, request_id FROM requests")
            try Binder(stmt).rows { body(RequestKey(adapter: $0.text(0), requestID: $0.text(1))) }
        }
    }

    /// Both in one read. With the writer idle, on its connection: its pages are those the last
    /// commits wrote, where any other connection reads them again after each commit (4.5 `pread`
    /// calls a lone SUBMIT). Otherwise on the look-up connection (`lookUps`), so that look-ups
    /// and commits never wait for each other.
    public func lookUp(replies keys: [RequestKey], cases needs: Ledger.Needs, writerIdle: Bool) throws -> LookedUp {
        guard !keys.isEmpty || !needs.isEmpty else { return ([:], []) }
        func read(_ db: Database, _ prepared: PreparedStatements) throws -> LookedUp {
            try Store.inReadTransaction(db, prepared) {
                (keys.isEmpty ? [:] : try Store.storedReplies(db, keys, prepared),
                 needs.isEmpty ? [] : try Store.workingSet(db, needs, prepared))
            }
        }
        if writerIdle { return try pool.writeWithoutTransaction { db in try read(db, writerStatements) } }
        return try lookUps().inDatabase { db in try read(db, lookUpStatements) }
    }

    /// The connection the broker's look-ups use, opened at the first. Not a reader from the pool:
    /// taking one cost ~25,000 instructions (a semaphore, a lock, a key path made at run time, a
    /// queue hop), more than a lone SUBMIT's look-ups themselves.
    func lookUps() throws -> DatabaseQueue {
        try lookUpConnection.withLock { connection in
            if let connection { return connection }
            var config = Configuration()
            config.readonly = true
            // As the pool's readers: WAL's rare SQLITE_BUSY (a checkpoint restarting the log) waits.
            config.busyMode = .timeout(10)
            let opened = try DatabaseQueue(path: path, configuration: config)
            connection = opened
            return opened
        }
    }

    /// Forgets the request ids older than `before` among the `limit` keys after `after` (from the
    /// first key when nil): one slice of a sweep along the table's key, so that no index by age
    /// is written by every request (PROTOCOL.md keeps replies at least 7 days). Returns the
    /// slice's last key, where the next slice starts; nil once the sweep has passed the end.
    public func pruneRequests(before: Date, after: RequestKey?, limit: Int) throws -> RequestKey? {
        let from = after ?? RequestKey(adapter: "", requestID: "")
        return try pool.write { db in
            // The slice's end by the primary key's order; past the end, the rest is the slice.
            let end = try Row.fetchOne(db, sql: """
                SELECT adapter, request_id FROM requests WHERE (adapter, request_id) > (?, ?)
                ORDER BY adapter, request_id LIMIT 1 OFFSET ?
                """, arguments: [from.adapter, from.requestID, max(limit, 1) - 1]).map { RequestKey(adapter: $0[0], requestID: $0[1]) }
            if let end {
                try db.execute(sql: """
                    DELETE FROM requests WHERE (adapter, request_id) > (?, ?) AND (adapter, request_id) <= (?, ?) AND at < ?
                    """, arguments: [from.adapter, from.requestID, end.adapter, end.requestID, before.ms])
            } else {
                try db.execute(sql: "DELETE FROM requests WHERE (adapter, request_id) > (?, ?) AND at < ?",
                               arguments: [from.adapter, from.requestID, before.ms])
            }
            return end
        }
    }
}

extension Store {
    static let begin = StatementSQL("BEGIN")
    static let beginImmediate = StatementSQL("BEGIN IMMEDIATE")
    static let commit = StatementSQL("COMMIT")

    /// `db.inTransaction(.immediate)` with BEGIN and COMMIT prepared once per connection: GRDB
    /// parses both anew for every transaction, which at one SUBMIT a commit cost as much as
    /// writing its event row. Rolls back on any error, a failed COMMIT included.
    static func inImmediateTransaction(_ db: Database, _ prepared: PreparedStatements?, _ body: () throws -> Void) throws {
        try inTransaction(db, Store.beginImmediate, prepared, body)
    }

    /// One read transaction for all of a batch's look-ups: each statement on its own took and
    /// released the log's read lock (two or three `fcntl` calls) and checked the log's header again.
    static func inReadTransaction<T>(_ db: Database, _ prepared: PreparedStatements?, _ body: () throws -> T) throws -> T {
        try inTransaction(db, Store.begin, prepared, body)
    }

    private static func inTransaction<T>(_ db: Database, _ begin: StatementSQL, _ prepared: PreparedStatements?,
                                         _ body: () throws -> T) throws -> T {
        try Binder(db.statement(begin, prepared)).step()
        do {
            let result = try body()
            try Binder(db.statement(Store.commit, prepared)).step()
            return result
        } catch {
            try? db.rollback()
            throw error
        }
    }
}

/// A request id is unique per adapter.
public struct RequestKey: Hashable, Sendable {
    public let adapter: String
    public let requestID: String
    /// Both strings hashed once, here: the broker keeps requests in several dictionaries, and a
    /// dictionary's delete rehashes the entries after it (two strings each, ~2,600 instructions
    /// a delete before).
    private let hash: Int

    public init(adapter: String, requestID: String) {
        self.adapter = adapter; self.requestID = requestID
        var h = Hasher()
        h.combine(adapter); h.combine(requestID)
        hash = h.finalize()
    }

    /// The key's hash, the same for equal keys within this process (never stored).
    public var digest: Int { hash }

    public static func == (a: RequestKey, b: RequestKey) -> Bool {
        a.hash == b.hash && a.adapter == b.adapter && a.requestID == b.requestID
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(hash) }
}

extension Store {
    /// `cases.petition`: the petition's record in the log's JSON, null for other sources.
    static func petitionColumn(_ c: CaseRecord) -> String? {
        c.petition.map { String(decoding: LogWriter.petitionJSON($0), as: UTF8.self) }
    }
}
