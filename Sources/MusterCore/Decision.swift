import Foundation
import MusterWire

/// What the broker answers once the decision is durable.
public enum Reply: Sendable, Equatable {
    /// `ACCEPTED {case_id, state, merged_into?, due?}`
    case accepted(caseID: String, state: CaseState, mergedInto: String?, due: Date?)
    /// `OK {case_id, state, dispatch_id?}`
    case ok(caseID: String, state: CaseState, dispatchID: String?)
    /// `OK {case_id, dispatch_id, resolve_by}` (延期 approved)
    case extended(caseID: String, dispatchID: String, resolveBy: Date)
    /// `OK {mode, scope}`
    case modeSet(mode: ManagementMode, scope: String)
    /// `OK {whistle_id, state, case_id?, summoned, report_by?}`: blown, more summoned, stood down, one released.
    case whistle(WhistleRecord, summoned: [String])
    /// `OK {whistle_id, agency, state, on_time?}`: a department's REPORT (报到).
    case reported(whistleID: String, agency: String, state: SummonState, onTime: Bool?)
    /// `ACCEPTED {case_id, state: merged, merged_into: I…, incident}`: the report joined a known incident.
    case acceptedIntoIncident(caseID: String, IncidentRecord)
    /// `OK {incident}`: INCIDENT declared, INCIDENT_END taken.
    case incident(IncidentRecord)
    /// `OK {adapter, state, changed}`: HEALTH taken.
    case health(AdapterHealth, changed: Bool)
    /// `ACCEPTED {case_id, state, merged_into?, due?, petition, standing?}`: a petition registered;
    /// a repeat merged is told where the petition it repeats stands (Art. 19).
    case acceptedPetition(caseID: String, state: CaseState, mergedInto: String?, due: Date?, PetitionRecord, standing: PetitionRecord?)
    /// `OK {case_id, state, petition}`: PETITION taken.
    case petition(caseID: String, state: CaseState, PetitionRecord)
}

/// What the shell carries out for a decision, besides logging its facts (in the style of
/// swift-nio's state machines that return actions): the core never touches a socket or a file.
public enum Action: Sendable, Equatable {
    /// DISPATCH the new dispatch to its department: stored in the outbox with the batch, sent
    /// once it is durable, redelivered until RECEIVED.
    case push(DispatchRecord)
    /// A rung fired: NOTICE to whom the rung names.
    case notice(LadderTimer)
    /// Rungs to wait for.
    case schedule([LadderTimer])
    /// A dispatch withdrawn: its pushes not yet received are dropped.
    case withdraw(dispatchID: String)
    /// Keep the submitted case's bytes beside its `accepted` fact (and pass them to DISPATCH).
    case keepSubmitted(caseID: String)
    /// SUMMON the department to the whistle: stored, sent once durable, redelivered until
    /// RECEIVED (withdrawn as a dispatch is, by its summon id).
    case summon(SummonRecord)
    /// An adapter's downstream went down or came back: NOTICE `kind` to the centre's operators.
    case alert(AdapterHealth, kind: String)
}

/// What applying facts changed in the ledger: the rows the commit must write.
public struct Footprint: Sendable, Equatable {
    /// Cases and dispatches whose projection changed (in order; may repeat).
    public var cases: [String] = []
    public var dispatches: [String] = []
    /// What happened to waiting rungs, in order: the store applies the same, so its timers
    /// table stays right for rungs that are not in memory (only near-term ones are).
    public var timers: [TimerChange] = []
    /// A management mode changed.
    public var modes = false
    /// Whistles whose record (or a department's) changed.
    public var whistles: [String] = []
    /// Incidents whose record changed.
    public var incidents: [String] = []

    public init() {}

    public mutating func formUnion(_ other: Footprint) {
        cases += other.cases
        dispatches += other.dispatches
        timers += other.timers
        modes = modes || other.modes
        whistles += other.whistles
        incidents += other.incidents
    }
}

/// A change to the waiting rungs.
public enum TimerChange: Sendable, Equatable {
    /// Scheduled (replacing one of the same id).
    case add(LadderTimer)
    /// Fired.
    case remove(id: String, owner: String)
    /// These clocks of a dispatch or a case stopped: all their rungs go, in memory or not.
    case stop(owner: String, clocks: [ClockKind])
}

/// A decision: the facts to append (in order), what they touched, what the shell must do, and
/// the reply to send after they commit.
public struct Decision: Sendable, Equatable {
    public var facts: [Fact] = []
    public var actions: [Action] = []
    public var touched = Footprint()
    public var reply: Reply?

    public init(facts: [Fact] = [], actions: [Action] = [], touched: Footprint = Footprint(), reply: Reply? = nil) {
        self.facts = facts; self.actions = actions; self.touched = touched; self.reply = reply
    }
}
