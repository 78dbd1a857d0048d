/// The case lifecycle as one table: state × trigger → next state + effects. Readable by a
/// department head; `muster lifecycle --dot` draws it. A pair not in the table is refused with
/// `invalid_transition` and the current state (the catch-all row).
public enum Lifecycle {
    /// What happened, as the table sees it. `Ledger` turns commands into triggers (a return
    /// becomes `returnToTriage` or `returnToConsultation` by how often the case came back).
    public enum Trigger: String, Sendable, CaseIterable {
        case accept, merge, route, assign, reject
        case ack, progress, resolve
        case returnToTriage = "return", returnToConsultation = "return_again"
        case verifyPassed = "verify_passed", verifyFailed = "verify_failed"
        case rated, ratedDissatisfied = "rated_dissatisfied"

        /// The act in words, for refusals ("cannot verify (passed) case …").
        public var verb: String {
            switch self {
            case .returnToTriage, .returnToConsultation: "return"
            case .verifyPassed: "verify (passed)"
            case .verifyFailed: "verify (failed)"
            case .rated: "rate"
            case .ratedDissatisfied: "rate (dissatisfied)"
            default: rawValue
            }
        }
    }

    /// What the transition makes happen besides the state change.
    public enum Effect: String, Sendable {
        /// Dispatch to the lead and assists the routing rules name (excluding returners).
        case dispatchRouted = "dispatch_routed"
        /// Dispatch to the lead and assists the centre named.
        case dispatchAssigned = "dispatch_assigned"
        /// Withdraw the dispatches still open (reassignment, return).
        case withdrawOpen = "withdraw_open"
        /// A new round to the same lead (返工 rework, 重办 redo).
        case newRoundToLead = "new_round_to_lead"
        /// Route again at once, passing over the departments that returned it.
        case reroute
        /// Count one more reporter on the case merged into.
        case countReport = "count_report"
        /// 结案 follows the rating.
        case close
    }

    public struct Row: Sendable {
        public var from: CaseState
        public var trigger: Trigger
        public var to: CaseState
        public var effects: [Effect]
        /// 中文 label for the drawn graph.
        public var label: String
    }

    public static let table: [Row] = [
        Row(from: .new, trigger: .accept, to: .triage, effects: [], label: "受理"),
        Row(from: .triage, trigger: .merge, to: .merged, effects: [.countReport], label: "并案"),
        Row(from: .triage, trigger: .route, to: .dispatched, effects: [.dispatchRouted], label: "派单"),
        Row(from: .triage, trigger: .assign, to: .dispatched, effects: [.dispatchAssigned], label: "指派"),
        Row(from: .triage, trigger: .reject, to: .rejected, effects: [], label: "不予受理"),
        Row(from: .consultation, trigger: .assign, to: .dispatched, effects: [.dispatchAssigned], label: "会商指派"),
        Row(from: .consultation, trigger: .reject, to: .rejected, effects: [], label: "不予受理"),
        Row(from: .dispatched, trigger: .ack, to: .handling, effects: [], label: "签收"),
        Row(from: .dispatched, trigger: .returnToTriage, to: .triage, effects: [.withdrawOpen, .reroute], label: "退单"),
        Row(from: .dispatched, trigger: .returnToConsultation, to: .consultation, effects: [.withdrawOpen], label: "再次退单"),
        Row(from: .dispatched, trigger: .assign, to: .dispatched, effects: [.withdrawOpen, .dispatchAssigned], label: "改派"),
        Row(from: .handling, trigger: .progress, to: .handling, effects: [], label: "处置反馈"),
        Row(from: .handling, trigger: .resolve, to: .finished, effects: [], label: "办结"),
        Row(from: .handling, trigger: .returnToTriage, to: .triage, effects: [.withdrawOpen, .reroute], label: "退单"),
        Row(from: .handling, trigger: .returnToConsultation, to: .consultation, effects: [.withdrawOpen], label: "再次退单"),
        Row(from: .handling, trigger: .assign, to: .dispatched, effects: [.withdrawOpen, .dispatchAssigned], label: "改派"),
        Row(from: .finished, trigger: .verifyPassed, to: .verified, effects: [], label: "核实通过"),
        Row(from: .finished, trigger: .verifyFailed, to: .dispatched, effects: [.newRoundToLead], label: "返工"),
        Row(from: .finished, trigger: .rated, to: .closed, effects: [.close], label: "回访满意"),
        Row(from: .finished, trigger: .ratedDissatisfied, to: .dispatched, effects: [.newRoundToLead], label: "重办"),
        Row(from: .verified, trigger: .rated, to: .closed, effects: [.close], label: "回访满意"),
        Row(from: .verified, trigger: .ratedDissatisfied, to: .dispatched, effects: [.newRoundToLead], label: "重办"),
    ]

    private static let index: [String: Row] = Dictionary(
        table.map { ("\($0.from.rawValue)|\($0.trigger.rawValue)", $0) }, uniquingKeysWith: { a, _ in a })

    /// The row for a state and trigger; nil is the catch-all: `invalid_transition`.
    public static func row(_ from: CaseState, _ trigger: Trigger) -> Row? {
        index["\(from.rawValue)|\(trigger.rawValue)"]
    }

    /// Graphviz source of the table.
    public static func dot() -> String {
        var out = "digraph lifecycle {\n  rankdir=LR;\n  node [shape=box, fontname=\"Noto Sans CJK SC\"];\n"
        for s in CaseState.allCases {
            out += "  \(s.rawValue) [label=\"\(s.rawValue)\\n\(s.chinese)\"\(s.isTerminal ? ", peripheries=2" : "")];\n"
        }
        for r in table {
            out += "  \(r.from.rawValue) -> \(r.to.rawValue) [label=\"\(r.trigger.rawValue)\\n\(r.label)\"];\n"
        }
        return out + "}\n"
    }
}

/// The lifecycle of one dispatch, the same way: dispatch state × act → next state.
public enum DispatchLifecycle {
    public enum Act: String, Sendable, CaseIterable { case ack, progress, resolve, `return`, cancel }

    public static let table: [(from: DispatchState, act: Act, to: DispatchState)] = [
        (.sent, .ack, .acked),
        (.sent, .return, .returned),
        (.sent, .cancel, .cancelled),
        (.acked, .progress, .acked),
        (.acked, .resolve, .finished),
        (.acked, .return, .returned),
        (.acked, .cancel, .cancelled),
    ]

    public static func next(_ from: DispatchState, _ act: Act) -> DispatchState? {
        table.first { $0.from == from && $0.act == act }?.to
    }
}
