/// Bodies the broker sends, as a peer decodes them (the AdapterKit, tests, the CLI).

public struct Welcome: Decodable, Sendable {
    public struct BrokerInfo: Decodable, Sendable { public var name: String; public var version: String }
    public var re: String
    public var session: String
    public var heartbeatMs: Int
    public var broker: BrokerInfo
    public var pending: Int
    enum CodingKeys: String, CodingKey { case re, session, heartbeatMs = "heartbeat_ms", broker, pending }
}

public struct ErrorBody: Decodable, Sendable {
    public struct Detail: Decodable, Sendable { public var field: String?; public var state: String? }
    public var re: String?
    public var code: ErrorCode
    public var message: String
    public var detail: Detail?
}

/// `DISPATCH`: the case as submitted plus the broker's `case_id`, `category` and `grid`.
public struct DispatchMessage: Decodable, Sendable {
    public struct Case: Decodable, Sendable {
        public var caseID: String
        public var category: String
        public var grid: String
        public var source: Source
        public var externalRef: String
        public var title: String
        public var description: String?
        public var priority: Priority?
        public var location: Location?
        public var reporter: Reporter?
        enum CodingKeys: String, CodingKey {
            case caseID = "case_id", category, grid, source, externalRef = "external_ref", title, description, priority, location, reporter
        }
    }
    public struct Due: Decodable, Sendable {
        public var ackBy: String
        public var resolveBy: String
        public var returnBy: String
        enum CodingKeys: String, CodingKey { case ackBy = "ack_by", resolveBy = "resolve_by", returnBy = "return_by" }
    }
    public var delivery: String
    public var dispatchID: String
    public var role: String
    public var round: Int
    public var `case`: Case
    public var due: Due
    enum CodingKeys: String, CodingKey { case delivery, dispatchID = "dispatch_id", role, round, `case`, due }
}

/// `SUMMON` (吹哨): a department called to a place, to be on site by `report_by`.
public struct SummonMessage: Decodable, Sendable {
    public var delivery: String
    public var whistleID: String
    public var summonID: String
    public var agency: String
    public var kind: WhistleKind
    public var grid: String
    public var gridName: String?
    public var reason: String
    public var caseID: String?
    public var blownBy: String
    public var summonedAt: String
    public var reportBy: String
    enum CodingKeys: String, CodingKey {
        case delivery, whistleID = "whistle_id", summonID = "summon_id", agency, kind, grid, gridName = "grid_name", reason
        case caseID = "case_id", blownBy = "blown_by", summonedAt = "summoned_at", reportBy = "report_by"
    }
}

/// The `delivery` of any push, to acknowledge it without decoding the rest.
public struct DeliveryOnly: Decodable, Sendable {
    public var delivery: String
}

/// The `re` of any reply.
public struct ReplyHeader: Decodable, Sendable {
    public var re: String?
}
