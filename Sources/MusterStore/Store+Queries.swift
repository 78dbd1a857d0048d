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

    public struct CaseFilter: Sendable {
        public var state: String?
        /// The current lead.
        public var agency: String?
        /// A grid path prefix.
        public var grid: String?
        /// Open cases past their resolve-by at `now`.
        public var overdueAt: Date?
        public var after: String?
        public var limit: Int
        public init(state: String? = nil, agency: String? = nil, grid: String? = nil, overdueAt: Date? = nil, after: String? = nil, limit: Int = 100) {
            self.state = state; self.agency = agency; self.grid = grid; self.overdueAt = overdueAt; self.after = after; self.limit = limit
        }
    }

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

    public struct AgencyFigures: Sendable, Equatable {
        public var agency: String
        public var dispatches: Int
        public var acked: Int
        public var ackedOnTime: Int
        public var finished: Int
        public var finishedOnTime: Int
        public var returned: Int
        /// 返工: verifications failed on its cases; 重办: dissatisfied call-backs; 回访: all call-backs.
        public var reworked: Int = 0
        public var redone: Int = 0
        public var rated: Int = 0
        public var satisfied: Int = 0
    }

    public struct Stats: Sendable, Equatable {
        public var accepted: Int
        public var byState: [String: Int]
        public var agencies: [AgencyFigures]
        public var rated: Int
        public var satisfied: Int
    }

    /// Basic figures over cases accepted in [since, until).
    public func stats(since: Date?, until: Date?) throws -> Stats {
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
                    sum(e.type = 'case.rework') AS reworked,
                    sum(e.type = 'case.evaluated' AND CAST(e.data AS TEXT) LIKE '%"dissatisfied"%') AS redone,
                    sum(e.type = 'case.evaluated') AS rated,
                    sum(e.type = 'case.evaluated' AND CAST(e.data AS TEXT) NOT LIKE '%"dissatisfied"%') AS satisfied
                FROM events e JOIN cases c ON c.case_id = e.case_id
                WHERE e.type IN ('case.rework', 'case.evaluated') AND e.at >= ? AND e.at < ? AND c.lead IS NOT NULL
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
            return Stats(accepted: byState.values.reduce(0, +), byState: byState, agencies: figures, rated: rated, satisfied: satisfied)
        }
    }
}
