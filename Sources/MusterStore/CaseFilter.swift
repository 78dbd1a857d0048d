import Foundation

/// Which cases a `cases` query wants (QUERY `cases`, `muster cases`).
public struct CaseFilter: Sendable, Equatable {
    public var state: String?
    /// The current lead.
    public var agency: String?
    /// A grid path prefix, segment-wise.
    public var grid: String?
    /// Open cases past their resolve-by at `now`, most overdue first.
    public var overdueAt: Date?
    /// Paging: cases after this id.
    public var after: String?
    public var limit: Int
    /// Only this source's cases (an intake adapter's own: the hotline's Open311 lists).
    public var source: String?
    /// Only cases changed at or after this time.
    public var updatedSince: Date?
    /// Only cases whose reporter gave this phone (digits and +; blanks and dashes ignored).
    public var phone: String?
    public init(state: String? = nil, agency: String? = nil, grid: String? = nil, overdueAt: Date? = nil, after: String? = nil, limit: Int = 100,
                source: String? = nil, updatedSince: Date? = nil, phone: String? = nil) {
        self.state = state; self.agency = agency; self.grid = grid; self.overdueAt = overdueAt; self.after = after; self.limit = limit
        self.source = source; self.updatedSince = updatedSince; self.phone = phone
    }

    /// A phone as compared: without blanks and dashes.
    public static func normalized(phone: String) -> String { phone.filter { $0 != " " && $0 != "-" } }
}
