import Foundation
import MusterWire

/// The current state of one case: the projection its events fold into.
public struct CaseRecord: Codable, Sendable, Equatable {
    public var caseID: String
    public var source: Source
    public var externalRef: String
    public var category: String
    public var grid: String
    public var priority: Priority
    public var title: String
    public var address: String?
    public var state: CaseState
    /// 1 for the first dispatch; +1 after each return, rework or redo.
    public var round: Int
    public var lead: String?
    public var assists: [String]
    /// ASSIGNed by the centre after a dispute: the lead may not return it.
    public var assigned: Bool
    /// Agencies that returned it; re-routing passes them over.
    public var returnedBy: [String]
    public var mergedInto: String?
    /// Reports merged into this case (并单).
    public var mergedReports: Int
    public var acceptedAt: Date
    public var updatedAt: Date
    public var resolveBy: Date?
    public var satisfaction: Satisfaction?
    /// The highest ladder level reached (1 催办, 2 督办, 3 通报 …), for the overdue lists.
    public var escalation: Int?
    /// 挂账: the lead's written explanation, once the case is on the backlog.
    public var backlog: String?
    /// A petition's (信访) own course, beside the handling; nil for every other source.
    public var petition: PetitionRecord?

    public init(caseID: String, source: Source, externalRef: String, category: String, grid: String, priority: Priority,
                title: String, address: String?, state: CaseState, round: Int, lead: String?, assists: [String],
                assigned: Bool, returnedBy: [String], mergedInto: String?, mergedReports: Int, acceptedAt: Date,
                updatedAt: Date, resolveBy: Date?, satisfaction: Satisfaction?, escalation: Int? = nil, backlog: String? = nil, petition: PetitionRecord? = nil) {
        self.escalation = escalation
        self.petition = petition
        self.backlog = backlog
        self.caseID = caseID; self.source = source; self.externalRef = externalRef; self.category = category
        self.grid = grid; self.priority = priority; self.title = title; self.address = address; self.state = state
        self.round = round; self.lead = lead; self.assists = assists; self.assigned = assigned
        self.returnedBy = returnedBy; self.mergedInto = mergedInto; self.mergedReports = mergedReports
        self.acceptedAt = acceptedAt; self.updatedAt = updatedAt; self.resolveBy = resolveBy
        self.satisfaction = satisfaction
    }
}

extension CaseRecord {
    /// Departments routing passes over: those that returned it, and those a petition is about
    /// (an accusation never goes to the accused; 信访工作条例).
    public var passedOver: [String] { returnedBy + (petition?.about ?? []) }
}

/// One dispatch of a case to one department, in one round.
public struct DispatchRecord: Codable, Sendable, Equatable {
    public var dispatchID: String
    public var caseID: String
    public var agency: String
    public var role: DispatchRole
    public var round: Int
    public var state: DispatchState
    public var sentAt: Date
    public var ackBy: Date
    public var resolveBy: Date
    public var returnBy: Date
    public var ackedAt: Date?
    public var finishedAt: Date?
    public var handler: String?
    /// Extensions approved (延期), and the deadline before the first one.
    public var extensions: Int?
    public var firstResolveBy: Date?
    /// Staged limits (Milestone): the stages in order, each reached or not.
    public var milestones: [Milestone]?

    public init(dispatchID: String, caseID: String, agency: String, role: DispatchRole, round: Int, state: DispatchState,
                sentAt: Date, ackBy: Date, resolveBy: Date, returnBy: Date, ackedAt: Date? = nil, finishedAt: Date? = nil,
                handler: String? = nil, extensions: Int? = nil, firstResolveBy: Date? = nil, milestones: [Milestone]? = nil) {
        self.extensions = extensions; self.firstResolveBy = firstResolveBy; self.milestones = milestones
        self.dispatchID = dispatchID; self.caseID = caseID; self.agency = agency; self.role = role; self.round = round
        self.state = state; self.sentAt = sentAt; self.ackBy = ackBy; self.resolveBy = resolveBy; self.returnBy = returnBy
        self.ackedAt = ackedAt; self.finishedAt = finishedAt; self.handler = handler
    }
}
