import Foundation
import GRDB
import MusterCore
import MusterWire

/// Whistles in the store: their rows (written with the batch of their facts), read back at
/// start and when a command names one that is not in memory, and the 双考核 figures.
extension Store {
    func writeWhistles(_ db: Database, _ rows: [WhistleRecord]) throws {
        guard !rows.isEmpty else { return }
        let upsertWhistle = try db.cachedStatement(sql: """
            INSERT INTO whistles (whistle_id, grid, kind, reason, case_id, blown_by, street, blown_at, report_within_ms, state, closed_at, override)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (whistle_id) DO UPDATE SET state = excluded.state, closed_at = excluded.closed_at, override = excluded.override
            """)
        let upsertSummon = try db.cachedStatement(sql: """
            INSERT INTO summons (summon_id, whistle_id, agency, state, summoned_at, report_by, en_route_at, on_site_at, ended_at,
                escalation, note, lat, lon)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (summon_id) DO UPDATE SET state = excluded.state, en_route_at = excluded.en_route_at,
                on_site_at = excluded.on_site_at, ended_at = excluded.ended_at, escalation = excluded.escalation,
                note = excluded.note, lat = excluded.lat, lon = excluded.lon
            """)
        for w in rows {
            var b = Binder(upsertWhistle, arena: bindArena)
            b.bind(w.whistleID); b.bind(w.grid); b.bind(w.kind.rawValue); b.bind(w.reason); b.bind(w.caseID)
            b.bind(w.blownBy); b.bind(w.street); b.bind(w.blownAt.ms); b.bind(w.reportWithinMs); b.bind(w.state.rawValue)
            b.bind(w.closedAt?.ms); b.bind(w.override)
            try b.step()
            for s in w.summons {
                var b = Binder(upsertSummon, arena: bindArena)
                b.bind(s.summonID); b.bind(s.whistleID); b.bind(s.agency); b.bind(s.state.rawValue)
                b.bind(s.summonedAt.ms); b.bind(s.reportBy.ms); b.bind(s.enRouteAt?.ms); b.bind(s.onSiteAt?.ms)
                b.bind(s.endedAt?.ms); b.bind(s.escalation.map(Int64.init)); b.bind(s.note); b.bind(s.lat); b.bind(s.lon)
                try b.step()
            }
        }
    }

    /// Whistles by id, with their departments (those the store has).
    public func whistles(_ ids: [String]) throws -> [WhistleRecord] {
        guard !ids.isEmpty else { return [] }
        return try pool.read { db in try Store.whistles(db, where: "whistle_id = ?", ids.map { [$0] }) }
    }

    /// The open whistles, oldest first (all are kept in memory: a city has tens, not thousands).
    public func openWhistles() throws -> [WhistleRecord] {
        try pool.read { db in try Store.whistles(db, where: "state = 'open'", [[]]) }
    }

    /// Whistles newest first: open ones only, or all; at most `limit`.
    public func recentWhistles(openOnly: Bool, limit: Int) throws -> [WhistleRecord] {
        try pool.read { db in
            let ids = try String.fetchAll(db, sql: "SELECT whistle_id FROM whistles \(openOnly ? "WHERE state = 'open'" : "") ORDER BY whistle_id DESC LIMIT ?",
                                          arguments: [limit])
            return try Store.whistles(db, where: "whistle_id = ?", ids.map { [$0] })
        }
    }

    static func lastWhistleID(_ db: Database) throws -> String? {
        try String.fetchOne(db, sql: "SELECT max(whistle_id) FROM whistles")
    }

    static func whistles(_ db: Database, where condition: String, _ argumentSets: [StatementArguments]) throws -> [WhistleRecord] {
        let stmt = try db.cachedStatement(sql: "SELECT * FROM whistles WHERE \(condition) ORDER BY whistle_id")
        let summonRows = try db.cachedStatement(sql: "SELECT * FROM summons WHERE whistle_id = ? ORDER BY rowid")
        var list: [WhistleRecord] = []
        for args in argumentSets {
            for row in try Row.fetchAll(stmt, arguments: args) {
                var w = try whistleRecord(row)
                w.summons = try Row.fetchAll(summonRows, arguments: [w.whistleID]).map(summonRecord)
                list.append(w)
            }
        }
        return list
    }

    static func whistleRecord(_ row: Row) throws -> WhistleRecord {
        let kind: String = row["kind"], state: String = row["state"]
        guard let k = WhistleKind(rawValue: kind), let s = WhistleState(rawValue: state) else {
            throw StoreError.corrupt("whistles row \(row["whistle_id"] as String? ?? "?")")
        }
        let closedAt: Int64? = row["closed_at"]
        return WhistleRecord(whistleID: row["whistle_id"], grid: codes(row["grid"] as String), kind: k, reason: row["reason"],
                             caseID: row["case_id"], blownBy: codes(row["blown_by"] as String), street: row["street"], blownAt: Date(ms: row["blown_at"]),
                             reportWithinMs: row["report_within_ms"], state: s, closedAt: closedAt.map(Date.init(ms:)), override: row["override"])
    }

    static func summonRecord(_ row: Row) throws -> SummonRecord {
        let state: String = row["state"]
        guard let s = SummonState(rawValue: state) else { throw StoreError.corrupt("summons row \(row["summon_id"] as String? ?? "?")") }
        func time(_ c: String) -> Date? { (row[c] as Int64?).map(Date.init(ms:)) }
        return SummonRecord(summonID: row["summon_id"], whistleID: row["whistle_id"], agency: codes(row["agency"] as String), state: s,
                            summonedAt: Date(ms: row["summoned_at"]), reportBy: Date(ms: row["report_by"]), enRouteAt: time("en_route_at"),
                            onSiteAt: time("on_site_at"), endedAt: time("ended_at"), escalation: row["escalation"], note: row["note"],
                            lat: row["lat"], lon: row["lon"])
    }

    /// 双考核 over [since, until): departments by when they were summoned, whistles by when
    /// they were blown (docs/PROTOCOL.md, "Figures").
    public func whistleStats(since: Date?, until: Date?) throws -> WhistleStats {
        let lo = since?.ms ?? Int64.min, hi = until?.ms ?? Int64.max
        return try pool.read { db in
            var agencies: [WhistleStats.Department] = []
            for r in try Row.fetchAll(db, sql: """
                SELECT agency, count(*) AS n,
                    sum(on_site_at IS NOT NULL AND on_site_at <= report_by) AS on_time,
                    sum(on_site_at IS NOT NULL AND on_site_at > report_by) AS late,
                    sum(on_site_at IS NULL AND ended_at IS NOT NULL AND ended_at > report_by) AS never,
                    sum(on_site_at IS NULL AND ended_at IS NOT NULL AND ended_at <= report_by) AS released,
                    sum(on_site_at IS NULL AND state IN ('summoned', 'en_route')) AS waiting
                FROM summons WHERE summoned_at >= ? AND summoned_at < ? GROUP BY agency ORDER BY agency
                """, arguments: [lo, hi]) {
                let agency: String = r["agency"]
                let times = try Int64.fetchAll(db, sql: """
                    SELECT on_site_at - summoned_at FROM summons
                    WHERE agency = ? AND on_site_at IS NOT NULL AND summoned_at >= ? AND summoned_at < ? ORDER BY 1
                    """, arguments: [agency, lo, hi])
                agencies.append(WhistleStats.Department(agency: agency, summoned: r["n"], onTime: r["on_time"], late: r["late"],
                                                        never: r["never"], released: r["released"], waiting: r["waiting"],
                                                        medianToOnSiteMs: times.isEmpty ? nil : WhistleStats.median(times)))
            }
            var grids: [WhistleStats.Place] = []
            for r in try Row.fetchAll(db, sql: """
                SELECT w.grid AS grid, count(*) AS n,
                    sum(w.kind = 'emergency') AS emergency, sum(w.kind = 'enforcement') AS enforcement,
                    sum(w.kind = 'resident_concern') AS resident_concern,
                    sum(w.state = 'closed') AS closed,
                    sum(w.state = 'closed' AND w.override IS NULL) AS solved,
                    sum(EXISTS (SELECT 1 FROM summons s WHERE s.whistle_id = w.whistle_id
                                AND s.on_site_at IS NULL AND s.ended_at IS NOT NULL AND s.ended_at > s.report_by)) AS no_show
                FROM whistles w WHERE w.blown_at >= ? AND w.blown_at < ? GROUP BY w.grid ORDER BY w.grid
                """, arguments: [lo, hi]) {
                grids.append(WhistleStats.Place(place: r["grid"], blown: r["n"],
                                                byKind: ["emergency": r["emergency"], "enforcement": r["enforcement"],
                                                         "resident_concern": r["resident_concern"]],
                                                closed: r["closed"], closedSolved: r["solved"], withNoShow: r["no_show"]))
            }
            return WhistleStats(departments: agencies, grids: grids)
        }
    }
}
