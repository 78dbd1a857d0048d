/// Bodies of the requests peers send (PROTOCOL.md). Field names on the wire are snake_case.

/// Every request carries an `id`, unique per adapter, that makes it idempotent.
public protocol Request: Decodable, Sendable {
    var id: String { get }
    /// Checks beyond types: lengths, ranges. Throws `WireError.badField`.
    func validate() throws(WireError)
}

extension Request {
    public func validate() throws(WireError) {}
}

public struct Hello: Request {
    public var id: String
    public var adapter: String
    public var roles: [Role]
    public var agency: String?
    public var jurisdictions: [String]?
    public var window: Int?
    public var software: String?

    public init(id: String, adapter: String, roles: [Role], agency: String? = nil, jurisdictions: [String]? = nil,
                window: Int? = nil, software: String? = nil) {
        self.id = id; self.adapter = adapter; self.roles = roles; self.agency = agency
        self.jurisdictions = jurisdictions; self.window = window; self.software = software
    }

    public func validate() throws(WireError) {
        try Check.name(adapter, "adapter")
        try Check.line(software, "software", max: 200)
        if roles.isEmpty { throw .badField("roles", "at least one role is required") }
        if roles.contains(.agency) {
            guard let agency else { throw .badField("agency", "role agency needs an agency code") }
            try Check.name(agency, "agency")
        }
        if let window, !(1...100_000).contains(window) { throw .badField("window", "window must be 1…100000") }
        for (i, j) in (jurisdictions ?? []).enumerated() { try Check.text(j, "jurisdictions[\(i)]", max: 256) }
    }
}

public struct Received: Decodable, Sendable {
    public var deliveries: [String]
}

public struct Location: Codable, Sendable, Equatable {
    public var grid: String?
    public var address: String?
    public var lat: Double?
    public var lon: Double?
}

public struct Reporter: Codable, Sendable, Equatable {
    public var name: String?
    public var phone: String?
    /// 身份证号: a petitioner's (信访人), for telling repeat petitions apart.
    public var idNumber: String?
    public var anonymous: Bool?
    enum CodingKeys: String, CodingKey { case name, phone, idNumber = "id_number", anonymous }
}

/// What a petition's registration (登记) adds to a SUBMIT with `source: petition`.
public struct PetitionIntake: Codable, Sendable, Equatable {
    /// The agencies the petition complains about or accuses: never its handler, never shown
    /// the petitioner (信访工作条例 protects the accuser).
    public var about: [String]?
}

public struct Attachment: Codable, Sendable, Equatable {
    public var url: String
    public var sha256: String?
}

/// The case as submitted. Routing reads a few fields; the bytes themselves are kept and passed
/// through to DISPATCH.
public struct SubmittedCase: Decodable, Sendable {
    public var source: Source
    public var externalRef: String
    public var category: String?
    public var title: String
    public var description: String?
    public var priority: Priority?
    public var location: Location
    public var reporter: Reporter?
    public var reportedAt: String?
    public var attachments: [Attachment]?
    /// Only with `source: petition`.
    public var petition: PetitionIntake?

    enum CodingKeys: String, CodingKey {
        case source, externalRef = "external_ref", category, title, description, priority, location
        case reporter, reportedAt = "reported_at", attachments, petition
    }
}

public struct Submit: Request {
    public var id: String
    public var `case`: SubmittedCase

    public func validate() throws(WireError) {
        try Check.text(`case`.externalRef, "case.external_ref", max: 128)
        try Check.text(`case`.title, "case.title", max: 500)
        if let c = `case`.category { try Check.name(c, "case.category") }
        try Check.optional(`case`.description, "case.description")
        if let g = `case`.location.grid { try Check.text(g, "case.location.grid", max: 256) }
        try Check.optional(`case`.location.address, "case.location.address", max: 500)
        try Check.optional(`case`.reporter?.name, "case.reporter.name", max: 200)
        if let p = `case`.reporter?.phone { try Check.phone(p, "case.reporter.phone") }
        if let n = `case`.reporter?.idNumber { try Check.idNumber(n, "case.reporter.id_number") }
        if let p = `case`.petition {
            guard `case`.source == .petition else { throw .badField("case.petition", "case.petition is for source petition (信访) only") }
            for (i, a) in (p.about ?? []).enumerated() { try Check.name(a, "case.petition.about[\(i)]") }
        }
        if let lat = `case`.location.lat, !(-90...90).contains(lat) { throw .badField("case.location.lat", "latitude out of range") }
        if let lon = `case`.location.lon, !(-180...180).contains(lon) { throw .badField("case.location.lon", "longitude out of range") }
        if let t = `case`.reportedAt, !Check.isRFC3339(t) { throw .badField("case.reported_at", "not an RFC 3339 time with offset") }
        try Check.attachments(`case`.attachments, "case.attachments")
    }
}

public struct Ack: Request {
    public var id: String
    public var dispatchID: String
    public var handler: String?
    public var note: String?
    /// The department system's own status and keys for this act (a plugin's status map).
    public var downstream: DownstreamRef?
    enum CodingKeys: String, CodingKey { case id, dispatchID = "dispatch_id", handler, note, downstream }
    public func validate() throws(WireError) {
        try Check.name(dispatchID, "dispatch_id")
        try downstream?.validate()
        try Check.optional(handler, "handler", max: 200)
        try Check.optional(note, "note")
    }
}

public struct ProgressUpdate: Request {
    public var id: String
    public var dispatchID: String
    public var note: String?
    public var attachments: [Attachment]?
    /// The department system's own status and keys for this act (a plugin's status map).
    public var downstream: DownstreamRef?
    /// The stage of a staged limit this progress reaches (阶段完成), by its sla.yaml name.
    public var milestone: String?
    enum CodingKeys: String, CodingKey { case id, dispatchID = "dispatch_id", note, attachments, downstream, milestone }
    public func validate() throws(WireError) {
        try Check.name(dispatchID, "dispatch_id")
        try downstream?.validate()
        try Check.optional(note, "note")
        try Check.optional(milestone, "milestone")
        try Check.attachments(attachments, "attachments")
    }
}

public struct Resolve: Request {
    public var id: String
    public var dispatchID: String
    public var result: String?
    public var note: String?
    public var attachments: [Attachment]?
    /// The department system's own status and keys for this act (a plugin's status map).
    public var downstream: DownstreamRef?
    enum CodingKeys: String, CodingKey { case id, dispatchID = "dispatch_id", result, note, attachments, downstream }
    public func validate() throws(WireError) {
        try Check.name(dispatchID, "dispatch_id")
        try downstream?.validate()
        try Check.optional(result, "result")
        try Check.optional(note, "note")
        try Check.attachments(attachments, "attachments")
    }
}

public struct Return: Request {
    public var id: String
    public var dispatchID: String
    public var reason: ReturnReason
    public var note: String?
    /// The department system's own status and keys for this act (a plugin's status map).
    public var downstream: DownstreamRef?
    enum CodingKeys: String, CodingKey { case id, dispatchID = "dispatch_id", reason, note, downstream }
    public func validate() throws(WireError) {
        try Check.name(dispatchID, "dispatch_id")
        try downstream?.validate()
        try Check.optional(note, "note")
    }
}

public struct Extend: Request {
    public var id: String
    public var dispatchID: String
    public var by: String
    public var reason: String
    /// The department system's own status and keys for this act (a plugin's status map).
    public var downstream: DownstreamRef?
    enum CodingKeys: String, CodingKey { case id, dispatchID = "dispatch_id", by, reason, downstream }
    public func validate() throws(WireError) {
        try Check.name(dispatchID, "dispatch_id")
        try downstream?.validate()
        try Check.text(reason, "reason", max: Check.noteBytes)
    }
}

/// 挂账: a dispatch past even its extended deadline is kept on the list with a written
/// explanation (an addition to the shared contract; see docs/PROTOCOL.md).
public struct Backlog: Request {
    public var id: String
    public var dispatchID: String
    public var explanation: String
    /// The department system's own status and keys for this act (a plugin's status map).
    public var downstream: DownstreamRef?
    enum CodingKeys: String, CodingKey { case id, dispatchID = "dispatch_id", explanation, downstream }
    public func validate() throws(WireError) {
        try Check.name(dispatchID, "dispatch_id")
        try downstream?.validate()
        if explanation.trimmingCharacters(in: .whitespaces).count < 10 {
            throw .badField("explanation", "挂账 needs a written explanation (at least 10 characters)")
        }
        try Check.optional(explanation, "explanation")
    }
}

public struct Assign: Request {
    public var id: String
    public var caseID: String
    public var lead: String
    public var assists: [String]?
    public var note: String?
    enum CodingKeys: String, CodingKey { case id, caseID = "case_id", lead, assists, note }
    public func validate() throws(WireError) {
        try Check.name(caseID, "case_id")
        try Check.name(lead, "lead")
        for (i, a) in (assists ?? []).enumerated() { try Check.name(a, "assists[\(i)]") }
        if (assists ?? []).contains(lead) { throw .badField("assists", "the lead cannot also assist") }
        try Check.optional(note, "note")
    }
}

public struct Reject: Request {
    public var id: String
    public var caseID: String
    public var reason: String
    enum CodingKeys: String, CodingKey { case id, caseID = "case_id", reason }
    public func validate() throws(WireError) {
        try Check.name(caseID, "case_id")
        try Check.text(reason, "reason", max: Check.noteBytes)
    }
}

public struct Verify: Request {
    public var id: String
    public var caseID: String
    public var passed: Bool
    public var note: String?
    enum CodingKeys: String, CodingKey { case id, caseID = "case_id", passed, note }
    public func validate() throws(WireError) {
        try Check.name(caseID, "case_id")
        try Check.optional(note, "note")
    }
}

public struct Evaluate: Request {
    public var id: String
    public var caseID: String
    public var satisfaction: Satisfaction
    public var note: String?
    enum CodingKeys: String, CodingKey { case id, caseID = "case_id", satisfaction, note }
    public func validate() throws(WireError) {
        try Check.name(caseID, "case_id")
        try Check.optional(note, "note")
    }
}

public struct Subscribe: Request {
    public var id: String
    public var after: Int64?
    public var types: [String]?
    public func validate() throws(WireError) {
        if let types, types.count > 100 { throw .badField("types", "at most 100 event types") }
        for (i, t) in (types ?? []).enumerated() { try Check.name(t, "types[\(i)]") }
    }
}

// 吹哨报到 (docs/PROTOCOL.md, "Whistle").

/// WHISTLE: blow a whistle (`grid`, `reason`, `kind`), or with `whistle_id` summon more
/// departments to an open one. `summon` may be left out: the broker summons by the case, the
/// dedicated grid or the kind (PROTOCOL.md says how).
public struct WhistleRequest: Request {
    public var id: String
    public var whistleID: String?
    public var grid: String?
    public var reason: String?
    public var kind: WhistleKind?
    public var summon: [String]?
    public var reportWithin: String?
    public var caseID: String?
    public init(id: String, whistleID: String? = nil, grid: String? = nil, reason: String? = nil, kind: WhistleKind? = nil,
                summon: [String]? = nil, reportWithin: String? = nil, caseID: String? = nil) {
        self.id = id; self.whistleID = whistleID; self.grid = grid; self.reason = reason; self.kind = kind
        self.summon = summon; self.reportWithin = reportWithin; self.caseID = caseID
    }
    enum CodingKeys: String, CodingKey {
        case id, whistleID = "whistle_id", grid, reason, kind, summon, reportWithin = "report_within", caseID = "case_id"
    }
    public func validate() throws(WireError) {
        if let whistleID {
            try Check.name(whistleID, "whistle_id")
            for (value, field) in [(grid, "grid"), (kind?.rawValue, "kind"), (caseID, "case_id"), (reportWithin, "report_within")] where value != nil {
                throw .badField(field, "\(field) belongs to a new whistle; with whistle_id, WHISTLE only summons more departments")
            }
            if summon?.isEmpty ?? true { throw .badField("summon", "name the departments to add to whistle \(whistleID)") }
        } else {
            guard let grid else { throw .badField("grid", "grid is required") }
            try Check.text(grid, "grid", max: 256)
            guard reason != nil else { throw .badField("reason", "reason is required") }
            guard kind != nil else { throw .badField("kind", "kind is required: emergency, enforcement or resident_concern") }
        }
        if let reason { try Check.text(reason, "reason", max: Check.noteBytes) }
        if let summon {
            if summon.count > 50 { throw .badField("summon", "at most 50 agencies") }
            for (i, a) in summon.enumerated() { try Check.name(a, "summon[\(i)]") }
        }
        if let r = reportWithin { try Check.name(r, "report_within") }
        if let c = caseID { try Check.name(c, "case_id") }
    }
}

/// REPORT (报到): a summoned department on its way or on site.
public struct Report: Request {
    public var id: String
    public var whistleID: String
    public var status: ReportStatus
    public var note: String?
    public var lat: Double?
    public var lon: Double?
    public var downstream: DownstreamRef?
    public init(id: String, whistleID: String, status: ReportStatus, note: String? = nil, lat: Double? = nil, lon: Double? = nil) {
        self.id = id; self.whistleID = whistleID; self.status = status; self.note = note; self.lat = lat; self.lon = lon
    }
    enum CodingKeys: String, CodingKey { case id, whistleID = "whistle_id", status, note, lat, lon, downstream }
    public func validate() throws(WireError) {
        try Check.name(whistleID, "whistle_id")
        try downstream?.validate()
        try Check.optional(note, "note")
        if let lat, !(-90...90).contains(lat) { throw .badField("lat", "latitude must be within -90…90") }
        if let lon, !(-180...180).contains(lon) { throw .badField("lon", "longitude must be within -180…180") }
        if (lat == nil) != (lon == nil) { throw .badField(lat == nil ? "lat" : "lon", "lat and lon come together") }
    }
}

/// STAND_DOWN (撤哨): the whole whistle, or with `agency` one department released early.
/// `override` is the centre's reason for standing down while the case is unfinished.
public struct StandDown: Request {
    public var id: String
    public var whistleID: String
    public var note: String?
    public var agency: String?
    public var override: String?
    public init(id: String, whistleID: String, note: String? = nil, agency: String? = nil, override: String? = nil) {
        self.id = id; self.whistleID = whistleID; self.note = note; self.agency = agency; self.override = override
    }
    enum CodingKeys: String, CodingKey { case id, whistleID = "whistle_id", note, agency, override }
    public func validate() throws(WireError) {
        try Check.name(whistleID, "whistle_id")
        try Check.optional(note, "note")
        if let agency { try Check.name(agency, "agency") }
        if let override {
            try Check.text(override, "override", max: Check.noteBytes)
            if agency != nil { throw .badField("override", "override stands the whole whistle down; leave out agency") }
        }
    }
}

public struct ModeRequest: Request {
    public var id: String
    public var mode: ManagementMode
    public var scope: String?
    public func validate() throws(WireError) {
        if let scope { try Check.text(scope, "scope", max: 256) }
    }
}

/// Where a department's act came from in its own system: the raw status code its status map
/// turned into this act, its own id for the work (工单号, 警情号) and its key for the update. The
/// broker keeps it beside the act (event `downstream.update`), so the raw code is never lost.
/// A department's act that may carry where it came from in the department's own system.
public protocol FromDownstream {
    var downstream: DownstreamRef? { get }
    /// The dispatch or summon the act is on.
    var subjectID: String { get }
}

extension Ack: FromDownstream { public var subjectID: String { dispatchID } }
extension ProgressUpdate: FromDownstream { public var subjectID: String { dispatchID } }
extension Resolve: FromDownstream { public var subjectID: String { dispatchID } }
extension Return: FromDownstream { public var subjectID: String { dispatchID } }
extension Extend: FromDownstream { public var subjectID: String { dispatchID } }
extension Backlog: FromDownstream { public var subjectID: String { dispatchID } }
extension Report: FromDownstream { public var subjectID: String { whistleID } }

public struct DownstreamRef: Codable, Sendable, Equatable {
    public var status: String
    public var ref: String?
    public var update: String?
    public init(status: String, ref: String? = nil, update: String? = nil) { self.status = status; self.ref = ref; self.update = update }
    public func validate() throws(WireError) {
        try Check.text(status, "downstream.status", max: 64)
        try Check.optional(ref, "downstream.ref", max: 128)
        try Check.optional(update, "downstream.update", max: 256)
    }
}

/// HEALTH: an agency adapter says how its department's own system is. The broker logs a change
/// (event `adapter.health`) and tells the centre's operators when it goes down or comes back.
public struct HealthReport: Request {
    public enum State: String, Codable, Sendable, CaseIterable { case ok, degraded, down }
    public var id: String
    public var state: State
    public var detail: String?
    public var failures: Int?
    public init(id: String, state: State, detail: String? = nil, failures: Int? = nil) {
        self.id = id; self.state = state; self.detail = detail; self.failures = failures
    }
    public func validate() throws(WireError) {
        try Check.optional(detail, "detail", max: 1000)
        if let failures, failures < 0 { throw .badField("failures", "failures cannot be negative") }
    }
}

// Known incidents (docs/PROTOCOL.md, "Known incidents").

/// INCIDENT (已知事件): a department declares a known incident — an outage, a planned shut-off
/// (停水通知), a heating failure — for some categories in some grids. While it is active, new
/// reports that match join it instead of making cases of their own, and are answered with its
/// message and expected end. `ref` is the department's own id for it: declaring the same `ref`
/// again while it is active changes nothing.
public struct IncidentDeclaration: Request {
    public var id: String
    public var ref: String
    public var title: String
    public var categories: [String]
    public var grids: [String]
    public var message: String
    public var expectedEnd: String
    public var startsAt: String?
    public var cause: String?
    /// Still active this long after it began (a duration: 24h): NOTICE `notice` to the centre
    /// (an outage past 24 h calls for emergency water supply, 郑州市城市供水条例 Art. 30).
    public var notifyAfter: String?
    public var notice: String?
    public init(id: String, ref: String, title: String, categories: [String], grids: [String], message: String,
                expectedEnd: String, startsAt: String? = nil, cause: String? = nil, notifyAfter: String? = nil, notice: String? = nil) {
        self.id = id; self.ref = ref; self.title = title; self.categories = categories; self.grids = grids
        self.message = message; self.expectedEnd = expectedEnd; self.startsAt = startsAt; self.cause = cause
        self.notifyAfter = notifyAfter; self.notice = notice
    }
    enum CodingKeys: String, CodingKey {
        case id, ref, title, categories, grids, message, expectedEnd = "expected_end", startsAt = "starts_at", cause
        case notifyAfter = "notify_after", notice
    }
    public func validate() throws(WireError) {
        try Check.name(ref, "ref")
        try Check.text(title, "title", max: 500)
        try Check.text(message, "message", max: 2000)
        try Check.optional(cause, "cause", max: 2000)
        guard (1...50).contains(categories.count) else { throw .badField("categories", "1 to 50 categories") }
        for (i, c) in categories.enumerated() { try Check.name(c, "categories[\(i)]") }
        guard (1...200).contains(grids.count) else { throw .badField("grids", "1 to 200 grid prefixes") }
        for (i, g) in grids.enumerated() { try Check.text(g, "grids[\(i)]", max: 256) }
        guard Check.isRFC3339(expectedEnd) else { throw .badField("expected_end", "not an RFC 3339 time with offset") }
        if let s = startsAt, !Check.isRFC3339(s) { throw .badField("starts_at", "not an RFC 3339 time with offset") }
        if let n = notifyAfter { try Check.name(n, "notify_after") }
        if let n = notice { try Check.name(n, "notice") }
        if (notifyAfter == nil) != (notice == nil) { throw .badField("notify_after", "notify_after and notice go together") }
    }
}

public enum IncidentOutcome: String, Codable, Sendable, CaseIterable {
    /// 已恢复: the merged reports are finished with the incident.
    case resolved
    /// 转办: the merged reports are routed as cases of their own.
    case handBack = "hand_back"
}

/// INCIDENT_END: the incident is over — `resolved` (its reports closed with it) or `hand_back`
/// (each report becomes a case of its own, routed as usual). Names it by `incident_id` or by the
/// department's `ref`.
public struct IncidentEnd: Request {
    public var id: String
    public var incidentID: String?
    public var ref: String?
    public var outcome: IncidentOutcome
    public var note: String?
    public init(id: String, incidentID: String? = nil, ref: String? = nil, outcome: IncidentOutcome, note: String? = nil) {
        self.id = id; self.incidentID = incidentID; self.ref = ref; self.outcome = outcome; self.note = note
    }
    enum CodingKeys: String, CodingKey { case id, incidentID = "incident_id", ref, outcome, note }
    public func validate() throws(WireError) {
        guard (incidentID == nil) != (ref == nil) else { throw .badField("incident_id", "name the incident by incident_id or by ref, one of them") }
        if let incidentID { try Check.name(incidentID, "incident_id") }
        if let ref { try Check.name(ref, "ref") }
        try Check.optional(note, "note")
    }
}
