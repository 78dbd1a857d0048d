import Foundation
import MusterWire

/// The current state of one case: the projection its events fold into.
public struct CaseRecord: Codable, Sendable, Equatable {
    /// Its fields, behind one reference (`SharedValues`).
    public struct Values: Codable, Sendable, Equatable {
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
    }

    @usableFromInline var shared: SharedValues<Values>

    @inlinable public var caseID: String { get { shared.values.caseID } _modify { yield &shared.values.caseID } }
    @inlinable public var source: Source { get { shared.values.source } _modify { yield &shared.values.source } }
    @inlinable public var externalRef: String { get { shared.values.externalRef } _modify { yield &shared.values.externalRef } }
    @inlinable public var category: String { get { shared.values.category } _modify { yield &shared.values.category } }
    @inlinable public var grid: String { get { shared.values.grid } _modify { yield &shared.values.grid } }
    @inlinable public var priority: Priority { get { shared.values.priority } _modify { yield &shared.values.priority } }
    @inlinable public var title: String { get { shared.values.title } _modify { yield &shared.values.title } }
    @inlinable public var address: String? { get { shared.values.address } _modify { yield &shared.values.address } }
    @inlinable public var state: CaseState { get { shared.values.state } _modify { yield &shared.values.state } }
    @inlinable public var round: Int { get { shared.values.round } _modify { yield &shared.values.round } }
    @inlinable public var lead: String? { get { shared.values.lead } _modify { yield &shared.values.lead } }
    @inlinable public var assists: [String] { get { shared.values.assists } _modify { yield &shared.values.assists } }
    @inlinable public var assigned: Bool { get { shared.values.assigned } _modify { yield &shared.values.assigned } }
    @inlinable public var returnedBy: [String] { get { shared.values.returnedBy } _modify { yield &shared.values.returnedBy } }
    @inlinable public var mergedInto: String? { get { shared.values.mergedInto } _modify { yield &shared.values.mergedInto } }
    @inlinable public var mergedReports: Int { get { shared.values.mergedReports } _modify { yield &shared.values.mergedReports } }
    @inlinable public var acceptedAt: Date { get { shared.values.acceptedAt } _modify { yield &shared.values.acceptedAt } }
    @inlinable public var updatedAt: Date { get { shared.values.updatedAt } _modify { yield &shared.values.updatedAt } }
    @inlinable public var resolveBy: Date? { get { shared.values.resolveBy } _modify { yield &shared.values.resolveBy } }
    @inlinable public var satisfaction: Satisfaction? { get { shared.values.satisfaction } _modify { yield &shared.values.satisfaction } }
    @inlinable public var escalation: Int? { get { shared.values.escalation } _modify { yield &shared.values.escalation } }
    @inlinable public var backlog: String? { get { shared.values.backlog } _modify { yield &shared.values.backlog } }
    @inlinable public var petition: PetitionRecord? { get { shared.values.petition } _modify { yield &shared.values.petition } }

    public init(caseID: String, source: Source, externalRef: String, category: String, grid: String, priority: Priority,
                title: String, address: String?, state: CaseState, round: Int, lead: String?, assists: [String],
                assigned: Bool, returnedBy: [String], mergedInto: String?, mergedReports: Int, acceptedAt: Date,
                updatedAt: Date, resolveBy: Date?, satisfaction: Satisfaction?, escalation: Int? = nil, backlog: String? = nil, petition: PetitionRecord? = nil) {
        shared = SharedValues(Values(caseID: caseID, source: source, externalRef: externalRef, category: category, grid: grid, priority: priority,
                                     title: title, address: address, state: state, round: round, lead: lead, assists: assists,
                                     assigned: assigned, returnedBy: returnedBy, mergedInto: mergedInto, mergedReports: mergedReports,
                                     acceptedAt: acceptedAt, updatedAt: updatedAt, resolveBy: resolveBy, satisfaction: satisfaction,
                                     escalation: escalation, backlog: backlog, petition: petition))
    }

    public init(from decoder: any Decoder) throws { shared = try SharedValues(from: decoder) }
    public func encode(to encoder: any Encoder) throws { try shared.encode(to: encoder) }
}

/// Printed (and shown by a failed test) as its values.
extension CaseRecord: CustomReflectable {
    public var customMirror: Mirror { Mirror(self, children: Mirror(reflecting: shared.values).children, displayStyle: .struct) }
}

extension DispatchRecord: CustomReflectable {
    public var customMirror: Mirror { Mirror(self, children: Mirror(reflecting: shared.values).children, displayStyle: .struct) }
}

extension CaseRecord {
    /// Departments routing passes over: those that returned it, and those a petition is about
    /// (an accusation never goes to the accused; 信访工作条例).
    public var passedOver: [String] { returnedBy + (petition?.about ?? []) }
}

/// One dispatch of a case to one department, in one round.
public struct DispatchRecord: Codable, Sendable, Equatable {
    /// Its fields, behind one reference (`SharedValues`).
    public struct Values: Codable, Sendable, Equatable {
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
    }

    @usableFromInline var shared: SharedValues<Values>

    @inlinable public var dispatchID: String { get { shared.values.dispatchID } _modify { yield &shared.values.dispatchID } }
    @inlinable public var caseID: String { get { shared.values.caseID } _modify { yield &shared.values.caseID } }
    @inlinable public var agency: String { get { shared.values.agency } _modify { yield &shared.values.agency } }
    @inlinable public var role: DispatchRole { get { shared.values.role } _modify { yield &shared.values.role } }
    @inlinable public var round: Int { get { shared.values.round } _modify { yield &shared.values.round } }
    @inlinable public var state: DispatchState { get { shared.values.state } _modify { yield &shared.values.state } }
    @inlinable public var sentAt: Date { get { shared.values.sentAt } _modify { yield &shared.values.sentAt } }
    @inlinable public var ackBy: Date { get { shared.values.ackBy } _modify { yield &shared.values.ackBy } }
    @inlinable public var resolveBy: Date { get { shared.values.resolveBy } _modify { yield &shared.values.resolveBy } }
    @inlinable public var returnBy: Date { get { shared.values.returnBy } _modify { yield &shared.values.returnBy } }
    @inlinable public var ackedAt: Date? { get { shared.values.ackedAt } _modify { yield &shared.values.ackedAt } }
    @inlinable public var finishedAt: Date? { get { shared.values.finishedAt } _modify { yield &shared.values.finishedAt } }
    @inlinable public var handler: String? { get { shared.values.handler } _modify { yield &shared.values.handler } }
    @inlinable public var extensions: Int? { get { shared.values.extensions } _modify { yield &shared.values.extensions } }
    @inlinable public var firstResolveBy: Date? { get { shared.values.firstResolveBy } _modify { yield &shared.values.firstResolveBy } }
    @inlinable public var milestones: [Milestone]? { get { shared.values.milestones } _modify { yield &shared.values.milestones } }

    public init(dispatchID: String, caseID: String, agency: String, role: DispatchRole, round: Int, state: DispatchState,
                sentAt: Date, ackBy: Date, resolveBy: Date, returnBy: Date, ackedAt: Date? = nil, finishedAt: Date? = nil,
                handler: String? = nil, extensions: Int? = nil, firstResolveBy: Date? = nil, milestones: [Milestone]? = nil) {
        shared = SharedValues(Values(dispatchID: dispatchID, caseID: caseID, agency: agency, role: role, round: round, state: state,
                                     sentAt: sentAt, ackBy: ackBy, resolveBy: resolveBy, returnBy: returnBy, ackedAt: ackedAt,
                                     finishedAt: finishedAt, handler: handler, extensions: extensions, firstResolveBy: firstResolveBy,
                                     milestones: milestones))
    }

    public init(from decoder: any Decoder) throws { shared = try SharedValues(from: decoder) }
    public func encode(to encoder: any Encoder) throws { try shared.encode(to: encoder) }
}
