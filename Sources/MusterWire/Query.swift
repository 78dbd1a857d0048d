/// QUERY: what a peer asks of the broker's durable state (PROTOCOL.md, "QUERY").

public struct Query: Request {
    public enum What: String, Decodable, Sendable { case `case`, cases, stats, modes, whistle, whistles, incidents }
    public var id: String
    public var what: What
    public var caseID: String?
    public var whistleID: String?
    public var state: String?
    public var agency: String?
    public var grid: String?
    public var overdue: Bool?
    public var limit: Int?
    public var after: String?
    public var since: String?
    public var until: String?
    public var by: String?
    /// QUERY cases: only this source's; only cases changed at or after this time.
    public var source: Source?
    public var updatedSince: String?
    /// QUERY case: each timeline entry with its hash-chain link, checked by the broker.
    public var chain: Bool?
    /// QUERY cases: only cases whose reporter gave this phone (role ops only: it finds people).
    public var phone: String?
    enum CodingKeys: String, CodingKey {
        case id, what, caseID = "case_id", whistleID = "whistle_id", state, agency, grid, overdue, limit, after, since, until, by
        case source, updatedSince = "updated_since", chain, phone
    }
    public func validate() throws(WireError) {
        if what == .case, caseID == nil { throw .badField("case_id", "QUERY case needs case_id") }
        if what == .whistle, whistleID == nil { throw .badField("whistle_id", "QUERY whistle needs whistle_id") }
        if what == .whistles, let state, !["open", "all"].contains(state) { throw .badField("state", "QUERY whistles takes state open (the default) or all") }
        if what == .incidents, let state, !["active", "all"].contains(state) { throw .badField("state", "QUERY incidents takes state active (the default) or all") }
        for (value, field) in [(caseID, "case_id"), (whistleID, "whistle_id"), (state, "state"), (agency, "agency"), (after, "after"), (by, "by")] {
            if let value { try Check.name(value, field) }
        }
        if let grid { try Check.text(grid, "grid", max: 256) }
        if let phone, phone.range(of: #"^\+?[0-9][0-9 -]{4,22}$"#, options: .regularExpression) == nil {
            throw .badField("phone", "phone: digits, optionally + first and blanks or dashes between")
        }
        if let limit, !(1...10_000).contains(limit) { throw .badField("limit", "limit must be 1…10000") }
        if let s = since, !Check.isRFC3339(s) { throw .badField("since", "not an RFC 3339 time with offset") }
        if let s = until, !Check.isRFC3339(s) { throw .badField("until", "not an RFC 3339 time with offset") }
        if let s = updatedSince, !Check.isRFC3339(s) { throw .badField("updated_since", "not an RFC 3339 time with offset") }
    }
}
