import Foundation
import MusterAdapterKit
import MusterWire

/// A heating outage as the company's feed reports it (停暖: a failed heat-exchange station, a
/// burst primary pipe): where, why, until when — and, once over, how it ended. On the bus it is a
/// known incident (已知事件): the 暖气不热 reports it causes join it instead of becoming cases.
struct Outage: Sendable, Equatable {
    var id: String
    var grids: [String]
    /// The company's words for the area (民主路3号院、5号院); the grids otherwise.
    var area: String?
    var cause: String
    var expectedRestore: Date
    var startedAt: Date?
    var ended: Bool
    var outcome: IncidentOutcome
    var note: String?

    struct Invalid: Error, Equatable, CustomStringConvertible {
        var description: String
    }

    /// One entry of `{"outages": [...]}`; what is not an outage is said so (and left out).
    static func parse(_ doc: Any) -> Result<Outage, Invalid> {
        guard let o = doc as? [String: Any] else { return .failure(.init(description: "an outage is an object")) }
        // The id becomes the incident's ref and the acts' ids: a name, as MUSTER/1 has them.
        guard let id = o["id"] as? String, !id.isEmpty, id.utf8.count <= 40, !id.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }) else {
            return .failure(.init(description: "id must be 1–40 characters without spaces"))
        }
        func fail(_ why: String) -> Result<Outage, Invalid> { .failure(.init(description: "outage \(id): \(why)")) }
        guard let grids = o["grids"] as? [String], !grids.isEmpty, grids.allSatisfy({ !$0.isEmpty }) else { return fail("grids must list grid prefixes") }
        guard let cause = o["cause"] as? String, !cause.trimmingCharacters(in: .whitespaces).isEmpty else { return fail("cause is required") }
        guard let restore = (o["expected_restore"] as? String).flatMap(moment) else { return fail("expected_restore must be an RFC 3339 time") }
        var started: Date?
        if let s = o["started_at"], !(s is NSNull) {
            guard let d = (s as? String).flatMap(moment) else { return fail("started_at must be an RFC 3339 time") }
            started = d
        }
        let outcome = IncidentOutcome(rawValue: o["outcome"] as? String ?? "resolved")
        guard let outcome else { return fail("outcome is resolved or hand_back") }
        return .success(Outage(id: id, grids: grids, area: (o["area"] as? String).flatMap { $0.isEmpty ? nil : $0 }, cause: cause,
                               expectedRestore: restore, startedAt: started, ended: o["ended"] as? Bool ?? false, outcome: outcome,
                               note: (o["note"] as? String).flatMap { $0.isEmpty ? nil : $0 }))
    }

    /// Its act now: INCIDENT while it lasts, INCIDENT_END once ended. Ids from the outage's id, so
    /// that each poll's snapshot of the same outage is the same act (the queue drops the repeat).
    /// An outage first seen ended is only ended: there is nothing to join any more, and the
    /// broker refuses the end of one it never had (the kit logs it and drops it).
    func act(categories: [String], zone: TimeZone, now: Date) -> Act {
        if ended {
            return .endIncident(id: "rl-outage-end-\(id)", ref: id, outcome: outcome,
                                note: note ?? (outcome == .resolved ? "已恢复供暖" : "停暖结束，来电逐件转办"))
        }
        let place = area ?? grids.joined(separator: "、")
        // The broker wants the expected end after the start: an outage already past its promised
        // time is declared with a provisional end two hours on (on site ≤ 2 h) and says so.
        let start = startedAt ?? now
        let overdue = expectedRestore <= max(start, now)
        let end = overdue ? now.addingTimeInterval(2 * 3600) : expectedRestore
        let when = overdue ? "恢复时间待定（原预计 \(Self.clock(expectedRestore, zone: zone, now: now)) 恢复）"
                           : "预计 \(Self.clock(expectedRestore, zone: zone, now: now)) 恢复供暖"
        return .incident(id: "rl-outage-\(id)", ref: id, title: "\(place)停暖（\(cause)）", categories: categories, grids: grids,
                         message: "\(area ?? "您所在区域")因\(cause)停暖，\(when)，热力公司正在抢修", expectedEnd: end,
                         startsAt: startedAt, cause: cause)
    }

    /// "22:00" on the same local day as `now`, else "12月3日 22:00".
    static func clock(_ d: Date, zone: TimeZone, now: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let c = calendar.dateComponents([.month, .day, .hour, .minute], from: d)
        let time = String(format: "%02d:%02d", c.hour ?? 0, c.minute ?? 0)
        return calendar.isDate(d, inSameDayAs: now) ? time : "\(c.month ?? 0)月\(c.day ?? 0)日 \(time)"
    }

    /// RFC 3339 with or without fractional seconds.
    static func moment(_ text: String) -> Date? {
        let f = ISO8601DateFormatter()
        if let d = f.date(from: text) { return d }
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.date(from: text)
    }
}
