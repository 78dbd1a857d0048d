import Foundation
import GRDB
import MusterCore

/// The `outcomes` projection: one row per verification (核实) and follow-up call (回访), with
/// its verdict in a column, so that stats count 返工, 重办 and 满意 by agency and period without
/// reading the log's JSON. A row per event rather than counters on `cases`, because stats count
/// these by the time they happened (PROTOCOL.md, QUERY `stats`). Written with the facts, in the
/// same transaction; the migration that made the table filled it from the log.
extension Store {
    /// `verify` with `passed` or `failed`; `evaluate` with the satisfaction.
    static func outcome(_ change: Fact.Change) -> (kind: String, verdict: String)? {
        switch change {
        case .verified(let passed, _): ("verify", passed ? "passed" : "failed")
        case .evaluated(let s, _): ("evaluate", s.rawValue)
        default: nil
        }
    }

    func writeOutcomes(_ db: Database, _ logged: [LoggedFact]) throws {
        let insert = try db.cachedStatement(sql: "INSERT INTO outcomes (seq, case_id, at, kind, verdict) VALUES (?, ?, ?, ?, ?)")
        for l in logged {
            guard let (kind, verdict) = Self.outcome(l.fact.change) else { continue }
            var b = Binder(insert)
            b.bind(l.seq); b.bind(l.fact.caseID); b.bind(l.fact.at.ms); b.bind(kind); b.bind(verdict)
            try b.step()
        }
    }

    /// Fills the table from the log as it is (any log version), in the migration that adds it.
    /// A row that cannot be read is left out rather than stopping the upgrade (and the broker):
    /// `muster verify-log` and replay report it.
    static func fillOutcomes(_ db: Database) throws {
        let reader = LogFormat.Reader()
        let rows = try Row.fetchCursor(db, sql: """
            SELECT seq, case_id, type, at, data FROM events
            WHERE type IN ('case.verified', 'case.rework', 'case.evaluated') ORDER BY seq
            """)
        while let row = try rows.next() {
            guard let change = try? reader.change(seq: row["seq"], type: row["type"], data: row["data"]),
                  let (kind, verdict) = outcome(change) else { continue }
            try db.execute(sql: "INSERT INTO outcomes (seq, case_id, at, kind, verdict) VALUES (?, ?, ?, ?, ?)",
                           arguments: [row["seq"], row["case_id"], row["at"], kind, verdict])
        }
    }
}
