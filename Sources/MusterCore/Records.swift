import Foundation
import MusterWire

/// The current state of one case: the projection its events fold into.
public struct CaseRecord: Codable, Sendable, Equatable {
    /// The case's values, behind one reference. A case is copied dozens of times a lifecycle
    /// (decided, batched, written, replied to), and a copy of the values is a retain of each of
    /// their dozen strings and arrays; a copy of the box is one. Copied on write, when shared.
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

    /// Mutated only when no other record shares it (`unique`), so never while another thread
    /// reads, and never while borrowed: no access needs checking at run time (a check was
    /// ~150 instructions a read of any field). That rests on a rule access control cannot
    /// state (the inlinable accessors need `box` visible in the module): nothing but this
    /// type's accessors, `==` and Codable touches `box`.
    // Usable from the inlinable accessors, so that another module reads a field in place
    // (a call returned it retained).
    @usableFromInline final class Box: @unchecked Sendable {
        @exclusivity(unchecked) @usableFromInline var values: Values
        @usableFromInline init(_ values: Values) { self.values = values }
    }

    @usableFromInline var box: Box

    @inlinable mutating func unique() {
        if !isKnownUniquelyReferenced(&box) { box = Box(box.values) }
    }

    @inlinable public var caseID: String { get { box.values.caseID } _modify { unique(); yield &box.values.caseID } }
    @inlinable public var source: Source { get { box.values.source } _modify { unique(); yield &box.values.source } }
    @inlinable public var externalRef: String { get { box.values.externalRef } _modify { unique(); yield &box.values.externalRef } }
    @inlinable public var category: String { get { box.values.category } _modify { unique(); yield &box.values.category } }
    @inlinable public var grid: String { get { box.values.grid } _modify { unique(); yield &box.values.grid } }
    @inlinable public var priority: Priority { get { box.values.priority } _modify { unique(); yield &box.values.priority } }
    @inlinable public var title: String { get { box.values.title } _modify { unique(); yield &box.values.title } }
    @inlinable public var address: String? { get { box.values.address } _modify { unique(); yield &box.values.address } }
    @inlinable public var state: CaseState { get { box.values.state } _modify { unique(); yield &box.values.state } }
    @inlinable public var round: Int { get { box.values.round } _modify { unique(); yield &box.values.round } }
    @inlinable public var lead: String? { get { box.values.lead } _modify { unique(); yield &box.values.lead } }
    @inlinable public var assists: [String] { get { box.values.assists } _modify { unique(); yield &box.values.assists } }
    @inlinable public var assigned: Bool { get { box.values.assigned } _modify { unique(); yield &box.values.assigned } }
    @inlinable public var returnedBy: [String] { get { box.values.returnedBy } _modify { unique(); yield &box.values.returnedBy } }
    @inlinable public var mergedInto: String? { get { box.values.mergedInto } _modify { unique(); yield &box.values.mergedInto } }
    @inlinable public var mergedReports: Int { get { box.values.mergedReports } _modify { unique(); yield &box.values.mergedReports } }
    @inlinable public var acceptedAt: Date { get { box.values.acceptedAt } _modify { unique(); yield &box.values.acceptedAt } }
    @inlinable public var updatedAt: Date { get { box.values.updatedAt } _modify { unique(); yield &box.values.updatedAt } }
    @inlinable public var resolveBy: Date? { get { box.values.resolveBy } _modify { unique(); yield &box.values.resolveBy } }
    @inlinable public var satisfaction: Satisfaction? { get { box.values.satisfaction } _modify { unique(); yield &box.values.satisfaction } }
    @inlinable public var escalation: Int? { get { box.values.escalation } _modify { unique(); yield &box.values.escalation } }
    @inlinable public var backlog: String? { get { box.values.backlog } _modify { unique(); yield &box.values.backlog } }
    @inlinable public var petition: PetitionRecord? { get { box.values.petition } _modify { unique(); yield &box.values.petition } }

    public init(caseID: String, source: Source, externalRef: String, category: String, grid: String, priority: Priority,
                title: String, address: String?, state: CaseState, round: Int, lead: String?, assists: [String],
                assigned: Bool, returnedBy: [String], mergedInto: String?, mergedReports: Int, acceptedAt: Date,
                updatedAt: Date, resolveBy: Date?, satisfaction: Satisfaction?, escalation: Int? = nil, backlog: String? = nil, petition: PetitionRecord? = nil) {
        box = Box(Values(caseID: caseID, source: source, externalRef: externalRef, category: category, grid: grid, priority: priority,
                         title: title, address: address, state: state, round: round, lead: lead, assists: assists,
                         assigned: assigned, returnedBy: returnedBy, mergedInto: mergedInto, mergedReports: mergedReports,
                         acceptedAt: acceptedAt, updatedAt: updatedAt, resolveBy: resolveBy, satisfaction: satisfaction,
                         escalation: escalation, backlog: backlog, petition: petition))
    }

    public init(from decoder: any Decoder) throws { box = Box(try Values(from: decoder)) }
    public func encode(to encoder: any Encoder) throws { try box.values.encode(to: encoder) }

    public static func == (a: CaseRecord, b: CaseRecord) -> Bool { a.box === b.box || a.box.values == b.box.values }
}

/// Printed (and shown by a failed test) as its values, not as its box.
extension CaseRecord: CustomReflectable {
    public var customMirror: Mirror { Mirror(self, children: Mirror(reflecting: box.values).children, displayStyle: .struct) }
}

extension DispatchRecord: CustomReflectable {
    public var customMirror: Mirror { Mirror(self, children: Mirror(reflecting: box.values).children, displayStyle: .struct) }
}

extension CaseRecord {
    /// Departments routing passes over: those that returned it, and those a petition is about
    /// (an accusation never goes to the accused; 信访工作条例).
    public var passedOver: [String] { returnedBy + (petition?.about ?? []) }
}

/// One dispatch of a case to one department, in one round.
public struct DispatchRecord: Codable, Sendable, Equatable {
    /// The dispatch's values, behind one reference, copied on write when shared (as
    /// `CaseRecord`'s): a dispatch is copied a score of times a lifecycle.
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

    /// Unchecked at run time for the reasons `CaseRecord.Box` gives.
    @usableFromInline final class Box: @unchecked Sendable {
        @exclusivity(unchecked) @usableFromInline var values: Values
        @usableFromInline init(_ values: Values) { self.values = values }
    }

    @usableFromInline var box: Box

    @inlinable mutating func unique() {
        if !isKnownUniquelyReferenced(&box) { box = Box(box.values) }
    }

    @inlinable public var dispatchID: String { get { box.values.dispatchID } _modify { unique(); yield &box.values.dispatchID } }
    @inlinable public var caseID: String { get { box.values.caseID } _modify { unique(); yield &box.values.caseID } }
    @inlinable public var agency: String { get { box.values.agency } _modify { unique(); yield &box.values.agency } }
    @inlinable public var role: DispatchRole { get { box.values.role } _modify { unique(); yield &box.values.role } }
    @inlinable public var round: Int { get { box.values.round } _modify { unique(); yield &box.values.round } }
    @inlinable public var state: DispatchState { get { box.values.state } _modify { unique(); yield &box.values.state } }
    @inlinable public var sentAt: Date { get { box.values.sentAt } _modify { unique(); yield &box.values.sentAt } }
    @inlinable public var ackBy: Date { get { box.values.ackBy } _modify { unique(); yield &box.values.ackBy } }
    @inlinable public var resolveBy: Date { get { box.values.resolveBy } _modify { unique(); yield &box.values.resolveBy } }
    @inlinable public var returnBy: Date { get { box.values.returnBy } _modify { unique(); yield &box.values.returnBy } }
    @inlinable public var ackedAt: Date? { get { box.values.ackedAt } _modify { unique(); yield &box.values.ackedAt } }
    @inlinable public var finishedAt: Date? { get { box.values.finishedAt } _modify { unique(); yield &box.values.finishedAt } }
    @inlinable public var handler: String? { get { box.values.handler } _modify { unique(); yield &box.values.handler } }
    @inlinable public var extensions: Int? { get { box.values.extensions } _modify { unique(); yield &box.values.extensions } }
    @inlinable public var firstResolveBy: Date? { get { box.values.firstResolveBy } _modify { unique(); yield &box.values.firstResolveBy } }
    @inlinable public var milestones: [Milestone]? { get { box.values.milestones } _modify { unique(); yield &box.values.milestones } }

    public init(dispatchID: String, caseID: String, agency: String, role: DispatchRole, round: Int, state: DispatchState,
                sentAt: Date, ackBy: Date, resolveBy: Date, returnBy: Date, ackedAt: Date? = nil, finishedAt: Date? = nil,
                handler: String? = nil, extensions: Int? = nil, firstResolveBy: Date? = nil, milestones: [Milestone]? = nil) {
        box = Box(Values(dispatchID: dispatchID, caseID: caseID, agency: agency, role: role, round: round, state: state,
                         sentAt: sentAt, ackBy: ackBy, resolveBy: resolveBy, returnBy: returnBy, ackedAt: ackedAt,
                         finishedAt: finishedAt, handler: handler, extensions: extensions, firstResolveBy: firstResolveBy,
                         milestones: milestones))
    }

    public init(from decoder: any Decoder) throws { box = Box(try Values(from: decoder)) }
    public func encode(to encoder: any Encoder) throws { try box.values.encode(to: encoder) }

    public static func == (a: DispatchRecord, b: DispatchRecord) -> Bool { a.box === b.box || a.box.values == b.box.values }
}
