import Foundation
import MusterWire

/// Something that happened to a case: one row of its event log, and one `EVENT` for
/// subscribers. Folding a case's facts in order (`Ledger.apply`) rebuilds its projection.
public struct Fact: Codable, Sendable, Equatable {
    public var caseID: String
    public var at: Date
    /// The adapter that caused it (`broker` for the broker's own decisions).
    public var actor: String
    public var change: Change

    public init(caseID: String, at: Date, actor: String, change: Change) {
        self.caseID = caseID
        self.at = at
        self.actor = actor
        self.change = change
    }

    public enum Change: Codable, Sendable, Equatable {
        /// 受理. Carries the whole first projection; the submitted bytes are stored beside it.
        case accepted(CaseRecord)
        /// 并案: this report joined an open case.
        case merged(into: String)
        /// The open case a report was merged into counts one more reporter.
        case reportMerged(from: String)
        /// At the triage queue, with why (`unclassified`, `no_route`, `returned`); for an
        /// unclassified SUBMIT, the classifier's top three guesses for the dispatcher.
        case triage(reason: String, suggestions: [CategorySuggestion] = [])
        /// 会商 after repeated returns.
        case consultation
        /// 派单 to one department.
        case dispatched(DispatchRecord)
        /// ASSIGN by the centre: names lead and assists; the lead may not return.
        case assigned(lead: String, assists: [String], note: String?)
        case rejected(reason: String)
        /// 签收
        case acked(dispatchID: String, handler: String?, note: String?)
        case progressed(dispatchID: String, note: String?, attachments: [Attachment])
        /// 办结 by one department; the lead's finishes the case.
        case resolved(dispatchID: String, lead: Bool, result: String?, note: String?, attachments: [Attachment])
        /// A stage of a staged limit reached (阶段完成), with a PROGRESS: its clock stops, and the
        /// next stage's starts with the deadline given here (nil after the last stage).
        case milestoneReached(dispatchID: String, milestone: String, late: Bool, nextDueBy: Date?)
        /// 退单
        case returned(dispatchID: String, reason: ReturnReason, note: String?)
        /// A dispatch withdrawn (reassignment, new round).
        case cancelled(dispatchID: String)
        /// 核实: passed, or failed → 返工 rework.
        case verified(passed: Bool, note: String?)
        /// 回访评价: dissatisfied → 重办 redo.
        case evaluated(Satisfaction, note: String?)
        /// 结案
        case closed
        /// A clock started: the rungs of its ladder.
        case scheduled([LadderTimer])
        /// A rung fired: 催办, 督办, 通报 … (a NOTICE goes with it).
        case escalated(LadderTimer)
        /// 延期: the dispatch's resolve-by moved.
        case extended(dispatchID: String, resolveBy: Date, by: String, reason: String)
        /// The holiday schedule changed under a dispatch (the State Council's notice replaced a
        /// provisional year): its deadlines recomputed from when it was sent.
        case deadlinesMoved(dispatchID: String, ackBy: Date, resolveBy: Date, returnBy: Date, reason: String)
        /// 挂账: past its deadline, kept on the list with an explanation; its ladder stops.
        case backlogged(dispatchID: String, explanation: String)
        /// A management mode for a grid prefix (平时, 节假日, 重大活动, 应急). Not a case's: `caseID` is "".
        case modeSet(ManagementMode, scope: String)
        /// 吹哨. The facts below are the whistle's: their `caseID` is the whistle id (W…); the
        /// case it was blown on, if any, is the record's `caseID`. Its departments follow as `summoned`.
        case whistleBlown(WhistleRecord)
        /// A department summoned (SUMMON goes to it), with its on-site deadline.
        case summoned(SummonRecord)
        /// 报到: a department's REPORT, on its way or on site.
        case reported(summonID: String, status: ReportStatus, note: String?, lat: Double?, lon: Double?)
        /// A department let go before the whistle stands down.
        case released(summonID: String, note: String?)
        /// 撤哨: every department still there stands down. `override`: the centre's reason for
        /// standing down while the case is unfinished.
        case stoodDown(note: String?, override: String?)
        /// A department's act came from its own system with this raw status and keys (a
        /// plugin's status map): kept beside the act's own fact. `subject`: the dispatch or summon.
        case downstream(subject: String, DownstreamRef)
        /// An agency adapter's downstream changed health (HEALTH). Not a case's: `caseID` is "".
        case adapterHealth(AdapterHealth)
        /// 已知事件 declared (INCIDENT); its `caseID` is the incident id (I…). Reports that join
        /// it are `merged` into it, and it counts them (`reportMerged` with the incident's id).
        case incidentDeclared(IncidentRecord)
        /// The incident is over (INCIDENT_END); `caseID` is the incident id.
        case incidentEnded(outcome: IncidentOutcome, note: String?)
        /// A report merged into an incident becomes a case of its own again (the incident ended
        /// with `hand_back`), to be routed.
        case handedBack(incidentID: String)
        /// 信访: a document served on the petitioner (告知), with its date.
        case petitionNotified(PetitionNotice)
        /// The unit a petition was forwarded to says it is not responsible (Art. 23).
        case petitionObjected(PetitionObjection)
        /// The petition office's ruling on the objection; upheld, the lead's `returned` follows.
        case petitionRuled(upheld: Bool, reason: String?)
        /// The petitioner asks for 复查 or 复核; it is to be decided by `decideBy`.
        case petitionRequested(PetitionRequestKind, reason: String?, decideBy: Date)
        /// A request window (`review_request`, `recheck_request`) closed with nothing asked.
        case petitionWindowClosed(ClockKind)
        /// A petition merged as a repeat (Art. 19): confirmed, or split off to be handled on its own.
        case petitionRepeat(split: Bool, reason: String?)
    }

    /// The `type` of the `EVENT` (PROTOCOL.md).
    public var type: String {
        switch change {
        case .accepted: "case.accepted"
        case .merged: "case.merged"
        case .reportMerged: "case.report_merged"
        case .triage: "case.triage"
        case .consultation: "case.consultation"
        case .dispatched: "case.dispatched"
        case .assigned: "case.assigned"
        case .rejected: "case.rejected"
        case .acked: "dispatch.acked"
        case .progressed: "dispatch.progress"
        case .resolved(_, let lead, _, _, _): lead ? "case.resolved" : "dispatch.resolved"
        case .milestoneReached: "dispatch.milestone_reached"
        case .returned: "dispatch.returned"
        case .cancelled: "dispatch.cancelled"
        case .verified(let passed, _): passed ? "case.verified" : "case.rework"
        case .evaluated: "case.evaluated"
        case .closed: "case.closed"
        case .scheduled: "clock.scheduled"
        case .escalated(let t): t.clock == .whistle ? "whistle.escalated" : t.clock == .incident ? "incident.escalated" : "case.escalated"
        case .extended: "dispatch.extended"
        case .deadlinesMoved: "dispatch.deadlines_moved"
        case .backlogged: "dispatch.backlogged"
        case .modeSet: "mode.changed"
        case .whistleBlown: "whistle.blown"
        case .summoned: "whistle.summoned"
        case .reported: "whistle.reported"
        case .released: "whistle.released"
        case .stoodDown: "whistle.stood_down"
        case .downstream: "downstream.update"
        case .adapterHealth: "adapter.health"
        case .incidentDeclared: "incident.declared"
        case .incidentEnded: "incident.ended"
        case .handedBack: "case.handed_back"
        case .petitionNotified: "petition.notified"
        case .petitionObjected: "petition.objected"
        case .petitionRuled: "petition.ruled"
        case .petitionRequested: "petition.requested"
        case .petitionWindowClosed: "petition.window_closed"
        case .petitionRepeat(let split, _): split ? "petition.split" : "petition.repeat_confirmed"
        }
    }
}

extension Fact.Change {
    /// The trigger of a case's table this fact records, when it is one (a department's act on
    /// the lead dispatch is the dispatch's trigger first; see `Ledger.caseTrigger(of:)`).
    var caseTrigger: CaseMachine.Trigger? {
        switch self {
        case .accepted: .accept
        case .merged: .merge
        case .handedBack: .handBack
        case .dispatched(let d): d.role == .lead ? .route : nil  // from triage; after ASSIGN or a new round it is there already
        case .assigned: .assign
        case .rejected: .reject
        case .verified(let passed, _): passed ? .verifyPassed : .verifyFailed
        case .evaluated(let s, _): s == .dissatisfied ? .ratedDissatisfied : .rated
        case .escalated(let t): t.dispatchID == nil && t.clock != .whistle && t.clock != .incident && !ClockKind.petition.contains(t.clock) ? .rungDue : nil
        case .petitionRepeat(let split, _): split ? .handBack : nil
        default: nil
        }
    }

    /// The dispatch and the trigger of its table this fact records, when it is one.
    var dispatchTrigger: (String, DispatchMachine.Trigger)? {
        switch self {
        case .acked(let d, _, _): (d, .ack)
        case .progressed(let d, _, _): (d, .progress)
        case .resolved(let d, _, _, _, _): (d, .resolve)
        case .returned(let d, _, _): (d, .return)
        case .milestoneReached(let d, _, _, _): (d, .reachMilestone)
        case .cancelled(let d): (d, .cancel)
        case .extended(let d, _, _, _): (d, .extend)
        case .backlogged(let d, _): (d, .backlog)
        case .deadlinesMoved(let d, _, _, _, _): (d, .moveDeadlines)
        case .escalated(let t): t.clock == .whistle ? nil : t.dispatchID.map { ($0, .rungDue) }
        default: nil
        }
    }

    /// The whistle trigger this fact records, when it is one.
    var whistleTrigger: WhistleMachine.Trigger? {
        switch self {
        case .summoned: .summon
        case .stoodDown(_, let override): override == nil ? .standDown : .override
        default: nil
        }
    }

    /// The department and the trigger of its table this fact records, when it is one.
    var summonTrigger: (String, SummonMachine.Trigger)? {
        switch self {
        case .reported(let s, let status, _, _, _): (s, status == .onSite ? .onSite : .enRoute)
        case .released(let s, _): (s, .release)
        case .escalated(let t): t.clock == .whistle ? t.dispatchID.map { ($0, .rungDue) } : nil
        default: nil
        }
    }
}
