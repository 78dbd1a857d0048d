import Foundation
import MusterWire

/// 已知事件: an incident a department declared (an outage, a planned shut-off, a heating
/// failure), for some categories in some grids. While it is active, new reports that match join
/// it instead of making cases of their own (a burst of 1,000 停水 calls in one street is one
/// incident with 1,000 reporters), and are answered with its message and expected end.
public struct IncidentRecord: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable { case active, ended }

    public var incidentID: String
    /// The department's own id for it (its outage or notice number).
    public var ref: String
    /// The declaring department; nil when the centre declared it.
    public var agency: String?
    public var title: String
    public var categories: [String]
    /// Grid prefixes it covers.
    public var grids: [String]
    public var message: String
    public var cause: String?
    public var startsAt: Date
    public var expectedEnd: Date
    public var declaredAt: Date
    public var declaredBy: String
    public var state: State
    /// The reports that joined it, in order (their cases are `merged` into it).
    public var reports: [String]
    public var endedAt: Date?
    public var outcome: IncidentOutcome?
    public var note: String?

    public init(incidentID: String, ref: String, agency: String?, title: String, categories: [String], grids: [String],
                message: String, cause: String?, startsAt: Date, expectedEnd: Date, declaredAt: Date, declaredBy: String,
                state: State = .active, reports: [String] = [], endedAt: Date? = nil, outcome: IncidentOutcome? = nil, note: String? = nil) {
        self.incidentID = incidentID; self.ref = ref; self.agency = agency; self.title = title; self.categories = categories
        self.grids = grids; self.message = message; self.cause = cause; self.startsAt = startsAt; self.expectedEnd = expectedEnd
        self.declaredAt = declaredAt; self.declaredBy = declaredBy; self.state = state; self.reports = reports
        self.endedAt = endedAt; self.outcome = outcome; self.note = note
    }

    /// A report of `category` in `grid` at `now` joins it: active, begun, and covering both.
    public func covers(category: String, grid: String, at now: Date) -> Bool {
        state == .active && now >= startsAt && categories.contains(category) && grids.contains { GridMap.isPrefix($0, of: grid) }
    }
}
