import Foundation
import GRDB
import MusterCore

/// The dispatcher's corrections (改派/研判): cases the centre routed by hand with ASSIGN — out of
/// the triage queue, or after a department returned them — with their text and what the
/// classifier had made of them, so that the centre can add them to config/classifier's examples.
extension Store {
    public struct Correction: Sendable, Equatable {
        public var caseID: String
        public var at: Date
        public var title: String
        public var description: String?
        /// The category the case had when the centre assigned it (`unclassified` from triage).
        public var category: String
        /// The classifier's top three, when it left the case to triage.
        public var suggestions: [CategorySuggestion]
        /// The department the centre chose, and why.
        public var lead: String
        public var note: String?
    }

    /// Every ASSIGN at or after `since`, oldest first.
    public func corrections(since: Date? = nil) throws -> [Correction] {
        let reader = LogFormat.Reader()
        return try pool.read { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT e.seq, e.case_id, e.at, e.type, e.data, c.title, c.category,
                    \(Store.submittedSQL(of: "e.case_id")) AS submitted
                FROM events e JOIN cases c ON c.case_id = e.case_id
                WHERE e.type = 'case.assigned' AND e.at >= ? ORDER BY e.seq
                """, arguments: [since?.ms ?? Int64.min])
            return try rows.map { r in
                let seq: Int64 = r["seq"], caseID: String = r["case_id"]
                guard case .assigned(let lead, _, let note) = try reader.change(seq: seq, type: r["type"], data: r["data"]) else {
                    throw StoreError.corrupt("event \(seq) is not an assignment")
                }
                // The classifier's suggestions: the case's last triage before this assignment.
                var suggestions: [CategorySuggestion] = []
                if let t = try Row.fetchOne(db, sql: "SELECT seq, type, data FROM events WHERE case_id = ? AND type = 'case.triage' AND seq < ? ORDER BY seq DESC LIMIT 1",
                                            arguments: [caseID, seq]),
                   case .triage(_, let s) = try reader.change(seq: t["seq"], type: t["type"], data: t["data"]) {
                    suggestions = s
                }
                let submitted: Data? = r["submitted"]
                let description = (submitted.flatMap { try? JSONSerialization.jsonObject(with: $0) } as? [String: Any])?["description"] as? String
                return Correction(caseID: caseID, at: Date(ms: r["at"]), title: r["title"], description: description,
                                  category: r["category"], suggestions: suggestions, lead: lead, note: note)
            }
        }
    }
}
