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
        let rows = logged.compactMap { l in Self.outcome(l.fact.change).map { (l, $0.kind, $0.verdict) } }
        try Self.insertOutcomes.run(db, count: rows.count, arena: bindArena) { b, i in
            let (l, kind, verdict) = rows[i]
            b.bind(l.seq); b.bind(l.fact.caseID); b.bind(l.fact.at.ms); b.bind(kind); b.bind(verdict)
        }
    }

    static let insertOutcomes = MultiRowInsert("INSERT OR FAIL INTO outcomes (seq, case_id, at, kind, verdict) VALUES", columns: 5)
}
