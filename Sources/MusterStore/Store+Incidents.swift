import Foundation
import GRDB
import MusterCore

/// Known incidents in the store: a row per incident, written with the batch of its facts and
/// read back at start (the active ones are always in memory: a city has a handful at a time).
extension Store {
    func writeIncidents(_ db: Database, _ rows: [IncidentRecord]) throws {
        guard !rows.isEmpty else { return }
        let upsert = try db.cachedStatement(sql: """
            INSERT INTO incidents (incident_id, agency, ref, state, expected_end, reports, record) VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (incident_id) DO UPDATE SET state = excluded.state, reports = excluded.reports, record = excluded.record
            """)
        // Rare and small next to cases: the whole record as JSON keeps the table simple.
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .millisecondsSince1970
        for r in rows {
            let record = try encoder.encode(r)  // before the Binder: nothing may throw between its binds and its step
            var b = Binder(upsert, arena: bindArena)
            b.bind(r.incidentID); b.bind(r.agency); b.bind(r.ref); b.bind(r.state.rawValue); b.bind(r.expectedEnd.ms)
            b.bind(Int64(r.reports.count)); b.bind(String(decoding: record, as: UTF8.self))
            try b.step()
        }
    }

    static func incidents(_ db: Database, activeOnly: Bool) throws -> [IncidentRecord] {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .millisecondsSince1970
        let sql = "SELECT record FROM incidents \(activeOnly ? "WHERE state = 'active'" : "") ORDER BY incident_id"
        return try String.fetchAll(db, sql: sql).map { try decoder.decode(IncidentRecord.self, from: Data($0.utf8)) }
    }

    /// Incidents newest first: active ones only, or all; at most `limit`.
    public func incidents(activeOnly: Bool, limit: Int = 1000) throws -> [IncidentRecord] {
        try pool.read { db in Array(try Store.incidents(db, activeOnly: activeOnly).reversed().prefix(limit)) }
    }
}
