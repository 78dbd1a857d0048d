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
    /// 信访 registered in the period.
    public var petitions = PetitionFigures()
    public init(accepted: Int, byState: [String: Int], agencies: [AgencyFigures], rated: Int, satisfied: Int, petitions: PetitionFigures = PetitionFigures()) {
        self.accepted = accepted; self.byState = byState; self.agencies = agencies; self.rated = rated; self.satisfied = satisfied
        self.petitions = petitions
    }
}

/// The petition figures of 国信发〔2022〕11号 (及时受理率, 按期办结率, 参评群众满意率, 群众参评率)
/// and 复查率, 重复信访率, over the petitions registered in the period.
public struct PetitionFigures: Sendable, Equatable {
    public var registered = 0
    /// 受理 by the unit (its lead dispatch signed for), and of those by its `ack_by`.
    public var accepted = 0
    public var acceptedOnTime = 0
    /// Finished by the lead (办结), and of those by its `resolve_by` (60 日 from 受理, extended).
    public var finished = 0
    public var finishedOnTime = 0
    /// Rated by the petitioner (回访), and satisfied or basically satisfied.
    public var rated = 0
    public var satisfied = 0
    /// A written reply served; of those, 复查 asked.
    public var replied = 0
    public var reviewRequested = 0
    /// Repeats: merged into one in process (Art. 19), or a new petition after a settled one.
    public var repeats = 0
    public init() {}
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
