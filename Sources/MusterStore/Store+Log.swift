import Foundation
import GRDB
import MusterCore

extension Store {
    /// Logged facts after `seq`, in order (SUBSCRIBE, replay); of one case (with its whistles)
    /// or one whistle when `caseID` names it.
    public func facts(after seq: Int64, limit: Int, caseID: String?) throws -> [LoggedFact] {
        try pool.read { db in
            let rows: [Row]
            if let caseID {
                // A case's record includes the whistles blown on it.
                rows = try Row.fetchAll(db, sql: """
                    SELECT seq, case_id, type, at, actor, data FROM events WHERE case_id IN (SELECT ? UNION ALL SELECT whistle_id FROM whistles WHERE case_id = ?)
                    AND seq > ? ORDER BY seq LIMIT ?
                    """, arguments: [caseID, caseID, seq, limit])
            } else {
                rows = try Row.fetchAll(db, sql: "SELECT seq, case_id, type, at, actor, data FROM events WHERE seq > ? ORDER BY seq LIMIT ?", arguments: [seq, limit])
            }
            let reader = LogFormat.Reader()
            return try rows.map { row in
                let data: Data = row["data"]
                let change = try reader.change(seq: row["seq"], type: row["type"], data: data)
                let fact = Fact(caseID: row["case_id"], at: Date(ms: row["at"]), actor: row["actor"], change: change)
                return LoggedFact(seq: row["seq"], fact: fact, type: row["type"], data: Array(data))
            }
        }
    }

    public typealias ChainReport = MusterStore.ChainReport

    /// Recomputes the hash chain over every row: an edited, deleted or inserted row, or a
    /// truncated tail, is reported with its seq.
    /// Each named event's link in the hash chain, checked here: its hash, the hash of the event
    /// before it in the log, and whether SHA-256 of that and its stored fields gives its hash —
    /// a case's course is verifiable link by link without reading the whole log.
    public func chainLinks(_ seqs: [Int64]) throws -> [Int64: ChainLink] {
        guard !seqs.isEmpty else { return [:] }
        return try pool.read { db in
            var links: [Int64: ChainLink] = [:]
            for page in stride(from: 0, to: seqs.count, by: 500).map({ Array(seqs[$0..<min($0 + 500, seqs.count)]) }) {
                let rows = try Row.fetchAll(db, sql: """
                    SELECT e.seq, e.case_id, e.type, e.at, e.actor, e.data, e.hash, p.hash AS prev
                    FROM events e LEFT JOIN events p ON p.seq = e.seq - 1
                    WHERE e.seq IN (\(page.map { _ in "?" }.joined(separator: ",")))
                    """, arguments: StatementArguments(page))
                for row in rows {
                    let seq: Int64 = row["seq"]
                    let previous: Data = seq == 1 ? EventChain.genesis : (row["prev"] as Data?) ?? Data()
                    let stored: Data = row["hash"]
                    let computed = EventChain.hash(previous: previous, seq: seq, caseID: row["case_id"], type: row["type"],
                                                   at: row["at"], actor: row["actor"], data: row["data"])
                    links[seq] = ChainLink(hash: stored, previous: previous, intact: !previous.isEmpty && computed == stored)
                }
            }
            return links
        }
    }

    public func verifyLog() throws -> ChainReport {
        try pool.read { db in
            var previous = EventChain.genesis
            var expectedSeq: Int64 = 1
            var problems: [String] = []
            var checked: Int64 = 0
            let rows = try Row.fetchCursor(db, sql: "SELECT seq, case_id, type, at, actor, data, hash FROM events ORDER BY seq")
            while let row = try rows.next() {
                let seq: Int64 = row["seq"]
                let stored: Data = row["hash"]
                if seq != expectedSeq {
                    problems.append("seq \(expectedSeq)…\(seq - 1) missing (deleted rows)")
                }
                let computed = EventChain.hash(previous: previous, seq: seq, caseID: row["case_id"], type: row["type"],
                                               at: row["at"], actor: row["actor"], data: row["data"])
                if computed != stored {
                    problems.append("seq \(seq) (case \(row["case_id"] as String)): hash mismatch — row edited, or the chain before it broken")
                    if problems.count >= 20 { break }
                }
                previous = stored
                expectedSeq = seq + 1
                checked += 1
            }
            let headSeq = try Int64.fetchOne(db, sql: "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'head_seq'") ?? 0
            let headHash = try Data.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'head_hash'") ?? EventChain.genesis
            if headSeq != expectedSeq - 1 || (headSeq > 0 && headHash != previous) {
                problems.append("log ends at seq \(expectedSeq - 1) but the recorded head is seq \(headSeq): rows removed from the end or head altered")
            }
            return ChainReport(checked: checked, problems: problems)
        }
    }
}
