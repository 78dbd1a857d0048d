import Foundation

/// QUERY `stats`: figures over a period (PROTOCOL.md, "QUERY").
public struct CaseStats: Sendable, Equatable {
    /// Cases accepted in the period, and how many are in each state now.
    public var accepted: Int
    public var byState: [String: Int]
    public var agencies: [AgencyFigures]
    /// Of the cases accepted in the period: rated at their follow-up call, and satisfied.
    public var rated: Int
    public var satisfied: Int
    public init(accepted: Int, byState: [String: Int], agencies: [AgencyFigures], rated: Int, satisfied: Int) {
        self.accepted = accepted; self.byState = byState; self.agencies = agencies; self.rated = rated; self.satisfied = satisfied
    }
}

/// One agency's figures: its dispatches sent in the period, and the verifications and
/// follow-up calls made in the period on the cases it now leads.
public struct AgencyFigures: Sendable, Equatable {
    public var agency: String
    public var dispatches: Int
    public var acked: Int
    public var ackedOnTime: Int
    public var finished: Int
    public var finishedOnTime: Int
    public var returned: Int
    /// 返工: verifications failed on its cases; 重办: dissatisfied call-backs; 回访: all call-backs.
    public var reworked: Int = 0
    public var redone: Int = 0
    public var rated: Int = 0
    public var satisfied: Int = 0
    public init(agency: String, dispatches: Int, acked: Int, ackedOnTime: Int, finished: Int, finishedOnTime: Int, returned: Int,
                reworked: Int = 0, redone: Int = 0, rated: Int = 0, satisfied: Int = 0) {
        self.agency = agency; self.dispatches = dispatches; self.acked = acked; self.ackedOnTime = ackedOnTime
        self.finished = finished; self.finishedOnTime = finishedOnTime; self.returned = returned
        self.reworked = reworked; self.redone = redone; self.rated = rated; self.satisfied = satisfied
    }
}
