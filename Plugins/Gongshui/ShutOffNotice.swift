import Foundation
import MusterAdapterKit
import MusterWire

/// A water shut-off as the company's notice feed reports it (停水通知): planned (计划停水: works on
/// the network, announced ahead) or unplanned (a burst main, a failed pump station). On the bus it
/// is a known incident: the 停水 reports it causes join it instead of becoming cases.
struct ShutOffNotice: Sendable, Equatable {
    enum Kind: String, Sendable { case planned, unplanned }

    var id: String
    var kind: Kind
    var grids: [String]
    /// The company's words for the area (解放路一带); the grids otherwise.
    var area: String?
    /// When the water goes off (planned: required; unplanned: when it went off, if known).
    var startsAt: Date?
    var expectedEnd: Date
    var reason: String
    var publishedAt: Date?
    var ended: Bool
    var note: String?

    struct Invalid: Error, Equatable, CustomStringConvertible {
        var description: String
    }

    /// One entry of `{"notices": [...]}`; what is not a notice is said so (and left out).
    static func parse(_ doc: Any) -> Result<ShutOffNotice, Invalid> {
        guard let n = doc as? [String: Any] else { return .failure(.init(description: "a notice is an object")) }
        // The id becomes the incident's ref and the acts' ids: a name, as MUSTER/1 has them.
        guard let id = n["id"] as? String, !id.isEmpty, id.utf8.count <= 40, !id.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }) else {
            return .failure(.init(description: "id must be 1–40 characters without spaces"))
        }
        func fail(_ why: String) -> Result<ShutOffNotice, Invalid> { .failure(.init(description: "notice \(id): \(why)")) }
        guard let kind = (n["kind"] as? String).flatMap(Kind.init) else { return fail("kind is planned or unplanned") }
        guard let grids = n["grids"] as? [String], !grids.isEmpty, grids.allSatisfy({ !$0.isEmpty }) else { return fail("grids must list grid prefixes") }
        guard let reason = n["reason"] as? String, !reason.trimmingCharacters(in: .whitespaces).isEmpty else { return fail("reason is required") }
        func time(_ key: String) -> Result<Date?, Invalid> {
            guard let v = n[key], !(v is NSNull) else { return .success(nil) }
            guard let d = (v as? String).flatMap(moment) else { return .failure(.init(description: "notice \(id): \(key) must be an RFC 3339 time")) }
            return .success(d)
        }
        let starts: Date?, end: Date?, published: Date?
        do { starts = try time("starts_at").get(); end = try time("expected_end").get(); published = try time("published_at").get() }
        catch { return .failure(error) }
        guard let end else { return fail("expected_end is required") }
        if kind == .planned, starts == nil { return fail("a planned shut-off needs starts_at") }
        if let starts, end <= starts { return fail("expected_end is not after starts_at") }
        return .success(ShutOffNotice(id: id, kind: kind, grids: grids, area: (n["area"] as? String).flatMap { $0.isEmpty ? nil : $0 },
                                      startsAt: starts, expectedEnd: end, reason: reason, publishedAt: published,
                                      ended: n["ended"] as? Bool ?? false, note: (n["note"] as? String).flatMap { $0.isEmpty ? nil : $0 }))
    }

    /// A planned shut-off published less than `ahead` seconds before it starts (or without saying
    /// when it was published): why, for the incident's cause; nil when the notice was in time.
    func lateness(ahead: Double, zone: TimeZone, now: Date) -> String? {
        guard kind == .planned, let startsAt else { return nil }
        let rule = "未按规定提前\(GongshuiSettings.chinese(ahead))通知"
        guard let publishedAt else { return "\(rule)（通知未注明发布时间）" }
        guard startsAt.timeIntervalSince(publishedAt) < ahead else { return nil }
        return "\(rule)（\(Self.clock(publishedAt, zone: zone, now: now)) 发布，\(Self.clock(startsAt, zone: zone, now: now)) 停水）"
    }

    /// Its act now: INCIDENT while it lasts (or before it begins), INCIDENT_END once ended. Ids
    /// from the notice's id, so that each read of the same notice is the same act. A notice first
    /// seen already ended is only ended (the broker answers that it never had it; the kit drops it).
    func act(categories: [String], emergencyAfter: String, lateness: String?, zone: TimeZone, now: Date) -> Act {
        if ended {
            return .endIncident(id: "gs-notice-end-\(id)", ref: id, outcome: .resolved, note: note ?? "已恢复供水")
        }
        let place = area ?? grids.joined(separator: "、")
        let who = area ?? "您所在区域"
        // An outage already past its promised time says so. The broker wants the expected end
        // after the start (now, when the notice gives none): then a provisional end two hours on.
        let start = startsAt ?? now
        let overdue = expectedEnd <= now
        let end = overdue && startsAt == nil ? now.addingTimeInterval(2 * 3600) : expectedEnd
        let until = Self.clock(expectedEnd, zone: zone, now: now)
        let title: String, message: String
        switch kind {
        case .planned:
            title = "\(place)计划停水（\(reason)）"
            message = "\(who)因\(reason)计划停水，停水时间 \(Self.clock(start, zone: zone, now: now))至\(until)（停水通知 \(id)），请提前储水"
        case .unplanned:
            title = "\(place)停水（\(reason)）"
            message = overdue ? "\(who)因\(reason)停水，恢复时间待定（原预计 \(until) 恢复），供水公司正在抢修"
                              : "\(who)因\(reason)停水，预计 \(until) 恢复供水，供水公司正在抢修"
        }
        return .incident(id: "gs-notice-\(id)", ref: id, title: title, categories: categories, grids: grids, message: message,
                         expectedEnd: end, startsAt: startsAt, cause: lateness.map { "\(reason)；\($0)" } ?? reason,
                         notifyAfter: emergencyAfter, notice: GongshuiSettings.emergencyNotice)
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
