import Foundation
import GRDB
import MusterCore

extension Store {
    public func caseRecord(_ caseID: String) throws -> CaseRecord? {
        try pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM cases WHERE case_id = ?", arguments: [caseID]).map(Store.caseRecord)
        }
    }

    public func dispatches(ofCase caseID: String) throws -> [DispatchRecord] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM dispatches WHERE case_id = ? ORDER BY dispatch_id", arguments: [caseID]).map(Store.dispatchRecord)
        }
    }

    // The names these had while they were Store's own; call sites still use them.
    public typealias CaseFilter = MusterStore.CaseFilter
    public typealias Stats = CaseStats
    public typealias AgencyFigures = MusterStore.AgencyFigures

    /// Cases matching a filter, in case id order (time order), paged by `after`.
    public func cases(_ f: CaseFilter) throws -> [CaseRecord] {
        var clauses: [String] = []
        var args: [(any DatabaseValueConvertible)?] = []
        if let s = f.state { clauses.append("state = ?"); args.append(s) }
        if let a = f.agency { clauses.append("lead = ?"); args.append(a) }
        if let g = f.grid { clauses.append("(grid = ? OR grid LIKE ? ESCAPE '\\')"); args.append(g); args.append(Store.likeEscape(g) + "/%") }
        if let now = f.overdueAt {
            clauses.append("state IN ('dispatched', 'handling') AND resolve_by < ?"); args.append(now.ms)
        }
        if let a = f.after { clauses.append("case_id > ?"); args.append(a) }
        if let s = f.source { clauses.append("source = ?"); args.append(s) }
        if let t = f.updatedSince { clauses.append("updated_at >= ?"); args.append(t.ms) }
        if let p = f.phone {
            // The reporter as submitted (kept byte for byte beside the `case.accepted` fact): read
            // only for the rows the other clauses leave, so give `updated_since` or a state with it.
            // A petitioner is never found by phone: who petitioned stays with the handling desk (信访).
            clauses.append("""
                source <> 'petition' AND replace(replace(json_extract(CAST(\(Store.submittedSQL(of: "cases.case_id")) AS TEXT),
                    '$.reporter.phone'), ' ', ''), '-', '') = ?
                """)
            args.append(CaseFilter.normalized(phone: p))
        }
        // Overdue lists put the latest first (挂账 and 督办 lists are read that way).
        let order = f.overdueAt != nil && f.after == nil ? "resolve_by, case_id" : "case_id"
        let sql = "SELECT * FROM cases" + (clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND "))
            + " ORDER BY \(order) LIMIT \(max(1, min(f.limit, 10_000)))"
        return try pool.read { db in
            try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args)).map(Store.caseRecord)
        }
    }

    static func likeEscape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
    }

    /// Figures over [since, until): cases by `accepted_at`, dispatches by `sent_at`, and
    /// verifications and follow-up calls by their time (the `outcomes` projection).
    public func stats(since: Date?, until: Date?) throws -> CaseStats {
        let lo = since?.ms ?? Int64.min, hi = until?.ms ?? Int64.max
        return try pool.read { db in
            var byState: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT state, count(*) AS n FROM cases WHERE accepted_at >= ? AND accepted_at < ? GROUP BY state", arguments: [lo, hi]) {
                byState[row["state"]] = row["n"]
            }
            let agencies = try Row.fetchAll(db, sql: """
                SELECT d.agency AS agency, count(*) AS n,
                    sum(d.acked_at IS NOT NULL) AS acked,
                    sum(d.acked_at IS NOT NULL AND d.acked_at <= d.ack_by) AS acked_on_time,
                    sum(d.state = 'finished') AS finished,
                    sum(d.state = 'finished' AND d.finished_at <= d.resolve_by) AS finished_on_time,
                    sum(d.state = 'returned') AS returned
                FROM dispatches d WHERE d.sent_at >= ? AND d.sent_at < ? GROUP BY d.agency ORDER BY d.agency
                """, arguments: [lo, hi]).map { r in
                AgencyFigures(agency: r["agency"], dispatches: r["n"], acked: r["acked"], ackedOnTime: r["acked_on_time"],
                              finished: r["finished"], finishedOnTime: r["finished_on_time"], returned: r["returned"])
            }
            var byAgency = Dictionary(agencies.map { ($0.agency, $0) }, uniquingKeysWith: { a, _ in a })
            for r in try Row.fetchAll(db, sql: """
                SELECT c.lead AS agency,
                    sum(o.kind = 'verify' AND o.verdict = 'failed') AS reworked,
                    sum(o.kind = 'evaluate' AND o.verdict = 'dissatisfied') AS redone,
                    sum(o.kind = 'evaluate') AS rated,
                    sum(o.kind = 'evaluate' AND o.verdict <> 'dissatisfied') AS satisfied
                FROM outcomes o JOIN cases c ON c.case_id = o.case_id
                WHERE o.at >= ? AND o.at < ? AND c.lead IS NOT NULL
                GROUP BY c.lead
                """, arguments: [lo, hi]) {
                let a: String = r["agency"]
                var f = byAgency[a] ?? AgencyFigures(agency: a, dispatches: 0, acked: 0, ackedOnTime: 0, finished: 0, finishedOnTime: 0, returned: 0)
                f.reworked = r["reworked"]; f.redone = r["redone"]; f.rated = r["rated"]; f.satisfied = r["satisfied"]
                byAgency[a] = f
            }
            let figures = byAgency.values.sorted { $0.agency < $1.agency }
            let rated = try Int.fetchOne(db, sql: "SELECT count(*) FROM cases WHERE satisfaction IS NOT NULL AND accepted_at >= ? AND accepted_at < ?", arguments: [lo, hi]) ?? 0
            let satisfied = try Int.fetchOne(db, sql: "SELECT count(*) FROM cases WHERE satisfaction IN ('satisfied', 'basically_satisfied') AND accepted_at >= ? AND accepted_at < ?", arguments: [lo, hi]) ?? 0
            return CaseStats(accepted: byState.values.reduce(0, +), byState: byState, agencies: figures, rated: rated, satisfied: satisfied,
                             petitions: try Store.petitionFigures(db, lo, hi))
        }
    }
}

extension Store {
    /// PetitionFigures from the petitions' records (`cases.petition`) and their lead dispatches.
    static func petitionFigures(_ db: Database, _ lo: Int64, _ hi: Int64) throws -> PetitionFigures {
        let lead = "SELECT 1 FROM dispatches d WHERE d.case_id = c.case_id AND d.role = 'lead'"
        guard let r = try Row.fetchOne(db, sql: """
            SELECT count(*) AS n,
                sum(EXISTS(\(lead) AND d.acked_at IS NOT NULL)) AS accepted,
                sum(EXISTS(\(lead) AND d.acked_at IS NOT NULL AND d.acked_at <= d.ack_by)) AS accepted_on_time,
                sum(EXISTS(\(lead) AND d.state = 'finished')) AS finished,
                sum(EXISTS(\(lead) AND d.state = 'finished' AND d.finished_at <= d.resolve_by)) AS finished_on_time,
                sum(c.satisfaction IS NOT NULL) AS rated,
                sum(coalesce(c.satisfaction IN ('satisfied', 'basically_satisfied'), 0)) AS satisfied,
                sum(EXISTS(SELECT 1 FROM json_each(c.petition, '$.notices') WHERE json_extract(value, '$.kind') = 'reply')) AS replied,
                sum(json_extract(c.petition, '$.review_requested_at') IS NOT NULL) AS review_requested,
                sum(json_extract(c.petition, '$.repeat_of') IS NOT NULL) AS repeats
            FROM cases c WHERE c.source = 'petition' AND c.petition IS NOT NULL AND c.accepted_at >= ? AND c.accepted_at < ?
            """, arguments: [lo, hi]) else { return PetitionFigures() }
        var f = PetitionFigures()
        f.registered = r["n"]
        guard f.registered > 0 else { return f }
        f.accepted = r["accepted"]; f.acceptedOnTime = r["accepted_on_time"]; f.finished = r["finished"]; f.finishedOnTime = r["finished_on_time"]
        f.rated = r["rated"]; f.satisfied = r["satisfied"]; f.replied = r["replied"]; f.reviewRequested = r["review_requested"]; f.repeats = r["repeats"]
        return f
    }
}
