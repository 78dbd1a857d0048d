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
    public init(state: String? = nil, agency: String? = nil, grid: String? = nil, overdueAt: Date? = nil, after: String? = nil, limit: Int = 100) {
        self.state = state; self.agency = agency; self.grid = grid; self.overdueAt = overdueAt; self.after = after; self.limit = limit
    }
}
