import Foundation

/// The broker's events the hotline follows (SUBSCRIBE), read as the platform needs them: a
/// status change of its order (polled at GET /v1/updates), and — from the 回访 clock starting
/// when a case is finished — the follow-up calls to make, due when the broker says.
enum CaseEvents {
    static let types = ["case.dispatched", "dispatch.acked", "dispatch.progress", "case.resolved", "case.rework",
                        "case.evaluated", "case.closed", "case.rejected", "clock.scheduled", "case.report_merged"]

    // Unchecked: `data` is the event parsed by JSONSerialization, never changed after reading.
    struct Event: @unchecked Sendable {
        var seq: Int64
        var type: String
        var caseID: String
        var at: String
        var data: [String: Any]
    }

    static func parse(_ body: [UInt8]) -> Event? {
        guard let o = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
              let seq = (o["seq"] as? NSNumber)?.int64Value, let type = o["type"] as? String, let caseID = o["case_id"] as? String
        else { return nil }
        return Event(seq: seq, type: type, caseID: caseID, at: o["at"] as? String ?? "", data: o["data"] as? [String: Any] ?? [:])
    }

    /// The platform's status for an event (README.md's table), with the words worth showing.
    static func status(_ e: Event) -> (status: String, note: String?)? {
        let d = e.data
        switch e.type {
        case "case.dispatched":
            guard let x = d["dispatch"] as? [String: Any], x["role"] as? String == "lead" else { return nil }
            return ("dispatched", x["agency"] as? String)
        case "dispatch.acked": return ("signed", [d["handler"], d["note"]].compactMap { $0 as? String }.joined(separator: " ").nilIfEmpty)
        case "dispatch.progress": return ("in_progress", d["note"] as? String)
        case "case.resolved": return ("resolved", [d["result"], d["note"]].compactMap { $0 as? String }.joined(separator: " ").nilIfEmpty)
        case "case.rework": return ("rework", d["note"] as? String)
        case "case.evaluated": return ("evaluated", d["satisfaction"] as? String)
        case "case.closed": return ("closed", nil)
        case "case.rejected": return ("rejected", d["reason"] as? String)
        default: return nil
        }
    }

    /// The report merged into this event's case, if the event is that merge: the merged
    /// report's own case id.
    static func mergedReport(_ e: Event) -> String? {
        e.type == "case.report_merged" ? e.data["from_case"] as? String : nil
    }

    /// When the 回访 is due: the deadline of the `evaluate` clock a finish starts, if this event
    /// started one.
    static func followUpDue(_ e: Event) -> String? {
        guard e.type == "clock.scheduled", let rungs = e.data["rungs"] as? [[String: Any]] else { return nil }
        return rungs.first { $0["clock"] as? String == "evaluate" }?["deadline"] as? String
    }
}

private extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
