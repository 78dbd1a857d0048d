import Foundation
import GRDB
import MusterCore

extension Store {
    /// Writes a batch in one transaction: the facts to the hash-chained log, the projections of
    /// every case and dispatch they touched (from `ledger`, already folded), the pushes, the
    /// deliveries received, and the replies. Returns the logged facts with their seqs. On any
    /// error nothing is written and the store's counters are as before.
    @discardableResult
    public func commit(_ batch: Batch, ledger: Ledger) throws -> [LoggedFact] {
        let savedSeq = lastSeq, savedHead = head
        var logged: [LoggedFact] = []
        logged.reserveCapacity(batch.facts.count)
        do {
            try pool.writeWithoutTransaction { db in
                try db.inTransaction(.immediate) {
                    let insertEvent = try db.cachedStatement(sql: "INSERT INTO events (seq, case_id, type, at, actor, data, hash) VALUES (?, ?, ?, ?, ?, ?, ?)")
                    for fact in batch.facts {
                        let data = Data(fact.change.json())
                        lastSeq += 1
                        let type = fact.type
                        let at = fact.at.ms
                        head = EventChain.hash(previous: head, seq: lastSeq, caseID: fact.caseID, type: type, at: at, actor: fact.actor, data: data)
                        try insertEvent.execute(arguments: [lastSeq, fact.caseID, type, at, fact.actor, data, head])
                        logged.append(LoggedFact(seq: lastSeq, fact: fact, type: type, data: Array(data)))
                    }
                    try writeProjections(db, batch, ledger)
                    try writeOutbox(db, batch)
                    let insertReply = try db.cachedStatement(sql: "INSERT OR IGNORE INTO requests (adapter, request_id, command, reply, at) VALUES (?, ?, ?, ?, ?)")
                    for r in batch.replies {
                        try insertReply.execute(arguments: [r.adapter, r.requestID, r.command, Data(r.body), r.at.ms])
                    }
                    if !batch.facts.isEmpty {
                        let setHead = try db.cachedStatement(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES ('head_seq', ?), ('head_hash', ?)")
                        try setHead.execute(arguments: [lastSeq, head])
                    }
                    return .commit
                }
            }
        } catch {
            lastSeq = savedSeq
            head = savedHead
            throw error
        }
        return logged
    }

    private func writeProjections(_ db: Database, _ batch: Batch, _ ledger: Ledger) throws {
        let insertCase = try db.cachedStatement(sql: """
            INSERT INTO cases (case_id, source, external_ref, category, grid, priority, title, address, state, round,
                lead, assists, assigned, returned_by, merged_into, merged_reports, accepted_at, updated_at, resolve_by,
                satisfaction, submitted)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        let updateCase = try db.cachedStatement(sql: """
            UPDATE cases SET state = ?, round = ?, lead = ?, assists = ?, assigned = ?, returned_by = ?, merged_into = ?,
                merged_reports = ?, updated_at = ?, resolve_by = ?, satisfaction = ? WHERE case_id = ?
            """)
        var seen = Set<String>()
        for id in batch.touchedCases where seen.insert(id).inserted {
            guard let c = ledger.cases[id] else { continue }
            if let submitted = batch.submitted[id] {
                try insertCase.execute(arguments: [
                    c.caseID, c.source.rawValue, c.externalRef, c.category, c.grid, c.priority.rawValue, c.title, c.address,
                    c.state.rawValue, c.round, c.lead, c.assists.joined(separator: ","), c.assigned,
                    c.returnedBy.joined(separator: ","), c.mergedInto, c.mergedReports, c.acceptedAt.ms, c.updatedAt.ms,
                    c.resolveBy?.ms, c.satisfaction?.rawValue, Data(submitted)])
            } else {
                try updateCase.execute(arguments: [
                    c.state.rawValue, c.round, c.lead, c.assists.joined(separator: ","), c.assigned,
                    c.returnedBy.joined(separator: ","), c.mergedInto, c.mergedReports, c.updatedAt.ms, c.resolveBy?.ms,
                    c.satisfaction?.rawValue, c.caseID])
            }
        }
        let upsertDispatch = try db.cachedStatement(sql: """
            INSERT INTO dispatches (dispatch_id, case_id, agency, role, round, state, sent_at, ack_by, resolve_by, return_by,
                acked_at, finished_at, handler)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (dispatch_id) DO UPDATE SET state = excluded.state, ack_by = excluded.ack_by,
                resolve_by = excluded.resolve_by, acked_at = excluded.acked_at, finished_at = excluded.finished_at,
                handler = excluded.handler
            """)
        seen.removeAll()
        for id in batch.touchedDispatches where seen.insert(id).inserted {
            guard let d = ledger.dispatches[id] else { continue }
            try upsertDispatch.execute(arguments: [
                d.dispatchID, d.caseID, d.agency, d.role.rawValue, d.round, d.state.rawValue, d.sentAt.ms, d.ackBy.ms,
                d.resolveBy.ms, d.returnBy.ms, d.ackedAt?.ms, d.finishedAt?.ms, d.handler])
        }
    }

    private func writeOutbox(_ db: Database, _ batch: Batch) throws {
        let insertPush = try db.cachedStatement(sql: "INSERT INTO outbox (delivery, target, command, body, dispatch_id, created_at) VALUES (?, ?, ?, ?, ?, ?)")
        for p in batch.pushes {
            try insertPush.execute(arguments: [p.delivery, p.target, p.command, Data(p.body), p.dispatchID, p.createdAt.ms])
        }
        let deleteDelivery = try db.cachedStatement(sql: "DELETE FROM outbox WHERE delivery = ?")
        for d in batch.received { try deleteDelivery.execute(arguments: [d]) }
        let deleteDispatch = try db.cachedStatement(sql: "DELETE FROM outbox WHERE dispatch_id = ?")
        for d in batch.withdrawn { try deleteDispatch.execute(arguments: [d]) }
        if !batch.pushes.isEmpty {
            // Delivery ids are never reused, even after their rows are deleted.
            try db.execute(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES ('last_delivery', ?)", arguments: [lastDelivery])
        }
    }

    /// The stored replies to any of these request ids seen before: one read for a whole batch.
    public func storedReplies(_ keys: [RequestKey]) throws -> [RequestKey: (command: String, body: [UInt8])] {
        guard !keys.isEmpty else { return [:] }
        return try pool.read { db in
            let stmt = try db.cachedStatement(sql: "SELECT command, reply FROM requests WHERE adapter = ? AND request_id = ?")
            var found: [RequestKey: (command: String, body: [UInt8])] = [:]
            for key in keys {
                if let row = try Row.fetchOne(stmt, arguments: [key.adapter, key.requestID]) {
                    let body: Data = row["reply"]
                    found[key] = (row["command"], Array(body))
                }
            }
            return found
        }
    }

    /// Forgets request ids older than `before` (PROTOCOL.md keeps them at least 7 days).
    public func pruneRequests(before: Date) throws {
        try pool.write { db in try db.execute(sql: "DELETE FROM requests WHERE at < ?", arguments: [before.ms]) }
    }
}

/// A request id is unique per adapter.
public struct RequestKey: Hashable, Sendable {
    public var adapter: String
    public var requestID: String
    public init(adapter: String, requestID: String) { self.adapter = adapter; self.requestID = requestID }
}
