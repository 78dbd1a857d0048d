/// The case lifecycle as one table: state × trigger, guarded → next state + ordered effects.
/// Readable by a department head; `muster lifecycle --dot` draws it. `Ledger.apply` takes the
/// state from the row a fact triggers, so deciding and replaying cannot disagree; a pair not in
/// the table is refused with `invalid_transition` and the current state (the catch-all).
public enum CaseMachine {
    /// What happens to a case: a peer's act, the broker's own step, or a clock running out.
    public enum Trigger: String, Sendable, CaseIterable {
        case accept, merge, route, assign, reject
        /// Routing names no one: it waits at the triage queue for the centre.
        case hold
        case ack, progress, resolve
        case `return`
        case verifyPassed = "verify_passed", verifyFailed = "verify_failed"
        case rated, ratedDissatisfied = "rated_dissatisfied"
        /// A timeout: a rung of one of the case's own ladders (研判, 核实, 回访) comes due.
        case rungDue = "rung_due"
        /// The known incident a report joined ended with `hand_back`: the report is routed.
        case handBack = "hand_back"

        /// The act in words, for refusals ("cannot verify (passed) case …").
        public var verb: String {
            switch self {
            case .verifyPassed: "verify (passed)"
            case .verifyFailed: "verify (failed)"
            case .rated: "rate"
            case .ratedDissatisfied: "rate (dissatisfied)"
            case .rungDue: "escalate"
            default: rawValue
            }
        }
    }

    /// Conditions on a row, read from the case's projection (so replay takes the same row).
    public enum Guard: String, Sendable, CaseIterable {
        /// The same problem (category, grid cell, address) is open and inside the merge window.
        /// Known only while deciding a SUBMIT; both `accept` rows lead to triage, so replay
        /// needs not know it.
        case duplicateOpen = "duplicate_open"
        /// Returned for the first time: back to the triage queue to be routed again.
        case firstReturn = "first_return"
        /// Returned before: routing has failed twice, the centre decides in 会商.
        case returnedBefore = "returned_before"
    }

    /// What a transition makes happen besides the state change, in order.
    public enum Effect: Hashable, Sendable {
        /// Stop these clocks of the case: their rungs will never fire.
        case stop([ClockKind])
        /// Withdraw the dispatches still open (reassignment, return).
        case withdrawOpen
        /// Merge into the open case of the same problem (the `merge` row).
        case merge
        /// Record why it waits at the triage queue.
        case awaitTriage
        /// Record that it waits for 会商.
        case consult
        /// Dispatch by the routing rules if they name anyone (passing over departments that
        /// returned it); if not, wait at the triage queue.
        case route
        /// Route again at once if anyone is left; otherwise it stays where the row put it.
        case reroute
        /// Dispatch to the lead and assists the routing rules name.
        case dispatchRouted
        /// Dispatch to the lead and assists the centre named.
        case dispatchAssigned
        /// Withdraw what is open and dispatch a new round to the same lead only (返工, 重办).
        case newRoundToLead
        /// The case merged into counts one more report.
        case countReport
        /// Withdraw what is still open, then 结案.
        case close
        /// Start the clocks of the state the case is now in (研判 at triage and 会商; 核实 and 回访
        /// once finished), each once per stay.
        case startClocks
        /// The rung's escalation fact and its NOTICE.
        case escalate
        /// In 应急 mode, a category of the mode's `whistle_categories` blows a whistle by itself.
        case autoWhistle

        public var name: String {
            switch self {
            case .stop(let clocks): "stop(" + clocks.map(\.rawValue).joined(separator: ",") + ")"
            case .withdrawOpen: "withdraw_open"
            case .merge: "merge"
            case .awaitTriage: "await_triage"
            case .consult: "consult"
            case .route: "route"
            case .reroute: "reroute"
            case .dispatchRouted: "dispatch_routed"
            case .dispatchAssigned: "dispatch_assigned"
            case .newRoundToLead: "new_round_to_lead"
            case .countReport: "count_report"
            case .close: "close"
            case .startClocks: "start_clocks"
            case .escalate: "escalate"
            case .autoWhistle: "auto_whistle"
            }
        }
    }

    public typealias Row = Transition<CaseState, Trigger, Guard, Effect>

    private static let finishClocks: Effect = .stop([.verify, .evaluate])

    private static let rows: [Row] = [
        Row(.new, .accept, [.duplicateOpen], to: .triage, [.merge], label: "受理"),
        Row(.new, .accept, to: .triage, [.route, .autoWhistle], label: "受理"),
        Row(.triage, .merge, to: .merged, [.stop([.triage]), .countReport], label: "并案"),
        Row(.merged, .handBack, to: .triage, [.route], label: "事件结束转办"),
        Row(.triage, .route, to: .dispatched, [.stop([.triage]), .dispatchRouted], label: "派单"),
        Row(.triage, .hold, to: .triage, [.awaitTriage, .startClocks], label: "待研判"),
        Row(.triage, .assign, to: .dispatched, [.stop([.triage]), .dispatchAssigned], label: "指派"),
        Row(.triage, .reject, to: .rejected, [.stop([.triage])], label: "不予受理"),
        Row(.consultation, .assign, to: .dispatched, [.stop([.triage]), .dispatchAssigned], label: "会商指派"),
        Row(.consultation, .reject, to: .rejected, [.stop([.triage])], label: "不予受理"),
        Row(.dispatched, .ack, to: .handling, label: "签收"),
        Row(.dispatched, .return, [.firstReturn], to: .triage, [.withdrawOpen, .awaitTriage, .reroute, .startClocks], label: "退单"),
        Row(.dispatched, .return, [.returnedBefore], to: .consultation, [.withdrawOpen, .consult, .startClocks], label: "再次退单"),
        Row(.dispatched, .assign, to: .dispatched, [.withdrawOpen, .dispatchAssigned], label: "改派"),
        Row(.handling, .progress, to: .handling, label: "处置反馈"),
        Row(.handling, .resolve, to: .finished, [.startClocks], label: "办结"),
        Row(.handling, .return, [.firstReturn], to: .triage, [.withdrawOpen, .awaitTriage, .reroute, .startClocks], label: "退单"),
        Row(.handling, .return, [.returnedBefore], to: .consultation, [.withdrawOpen, .consult, .startClocks], label: "再次退单"),
        Row(.handling, .assign, to: .dispatched, [.withdrawOpen, .dispatchAssigned], label: "改派"),
        Row(.finished, .verifyPassed, to: .verified, [.stop([.verify])], label: "核实通过"),
        Row(.finished, .verifyFailed, to: .dispatched, [finishClocks, .newRoundToLead], label: "返工"),
        Row(.finished, .rated, to: .closed, [finishClocks, .close], label: "回访满意"),
        Row(.finished, .ratedDissatisfied, to: .dispatched, [finishClocks, .newRoundToLead], label: "重办"),
        Row(.verified, .rated, to: .closed, [finishClocks, .close], label: "回访满意"),
        Row(.verified, .ratedDissatisfied, to: .dispatched, [finishClocks, .newRoundToLead], label: "重办"),
    ] + CaseState.allCases.filter { $0 != .new && !$0.isTerminal }.map {
        Row($0, .rungDue, to: $0, [.escalate], label: "催办/督办")
    }

    public static let table = MachineTable(rows)

    /// Graphviz source of the table, guards in brackets.
    public static func dot() -> String {
        table.dot(name: "case_lifecycle", states: CaseState.allCases, id: \.rawValue,
                  stateLabel: { "\($0.rawValue)\\n\($0.chinese)" }, terminal: \.isTerminal,
                  trigger: \.rawValue, guardName: \.rawValue)
    }
}
