import Foundation
import GRDB
import MusterCore

/// The `outcomes` projection: one row per verification (核实) and follow-up call (回访), with
/// its verdict in a column, so that stats count 返工, 重办 and 满意 by agency and period without
/// reading the log's JSON. A row per event rather than counters on `cases`, because stats count
/// these by the time they happened (PROTOCOL.md, QUERY `stats`). Written with the facts, in the
/// same transaction; the migration that made the table filled it from the log (Schema, v4).
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
        // By index: a row that held its fact copied each fact of the batch.
        let rows = logged.indices.compactMap { i in Self.outcome(logged[i].fact.change).map { (i, $0.kind, $0.verdict) } }
        try Self.insertOutcomes.run(db, count: rows.count, arena: bindArena) { b, r in
            let (i, kind, verdict) = rows[r]
            b.bind(logged[i].seq); b.bind(logged[i].fact.caseID); b.bind(logged[i].fact.at.ms); b.bind(kind); b.bind(verdict)
        }
    }

    static let insertOutcomes = MultiRowInsert("INSERT OR FAIL INTO outcomes (seq, case_id, at, kind, verdict) VALUES", columns: 5)
}
