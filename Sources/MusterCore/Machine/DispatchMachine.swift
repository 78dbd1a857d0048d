/// The lifecycle of one dispatch (to one department), the same way: dispatch state × trigger,
/// guarded → next state + effects. Acts on a dispatch that the table does not allow are
/// `invalid_transition` with the dispatch's state.
public enum DispatchMachine {
    public enum Trigger: String, Sendable, CaseIterable {
        case ack, progress, resolve, `return`
        /// A stage of a staged limit reached (with a PROGRESS naming it).
        case reachMilestone = "reach_milestone"
        /// Withdrawn by the centre (reassignment, a new round, 结案).
        case cancel
        /// 延期 and 挂账 move or stop the resolve clock; the state stays.
        case extend, backlog
        /// The holiday schedule changed under it: deadlines recomputed.
        case moveDeadlines = "move_deadlines"
        /// A timeout: a rung of its ack or resolve ladder comes due.
        case rungDue = "rung_due"
    }

    /// Conditions on a row, read from the dispatch, its case and the time of the act.
    public enum Guard: String, Sendable, CaseIterable {
        /// The centre ASSIGNed the case to this lead after a dispute: it may not return it.
        case notAssignedLead = "not_assigned_lead"
        /// Before `return_by`: the department may still hand it back.
        case returnWindowOpen = "return_window_open"
        /// Before the (extended) resolve-by: 延期 is asked in time.
        case beforeDeadline = "before_deadline"
        /// Past the resolve-by: only then 挂账.
        case pastDeadline = "past_deadline"
    }

    public enum Effect: Hashable, Sendable {
        /// Stop these clocks of the dispatch.
        case stop([ClockKind])
        /// The rung's escalation fact and its NOTICE.
        case escalate

        public var name: String {
            switch self {
            case .stop(let clocks): "stop(" + clocks.map(\.rawValue).joined(separator: ",") + ")"
            case .escalate: "escalate"
            }
        }
    }

    public typealias Row = Transition<DispatchState, Trigger, Guard, Effect>

    private static let both: Effect = .stop([.ack, .resolve, .milestone])

    private static let rows: [Row] = [
        Row(.sent, .ack, to: .acked, [.stop([.ack])], label: "签收"),
        Row(.sent, .return, [.notAssignedLead, .returnWindowOpen], to: .returned, [both], label: "退单"),
        Row(.sent, .cancel, to: .cancelled, [both], label: "撤回"),
        Row(.acked, .progress, to: .acked, label: "处置反馈"),
        Row(.acked, .reachMilestone, to: .acked, [.stop([.milestone])], label: "阶段完成"),
        Row(.acked, .resolve, to: .finished, [both], label: "办结"),
        Row(.acked, .return, [.notAssignedLead, .returnWindowOpen], to: .returned, [both], label: "退单"),
        Row(.acked, .cancel, to: .cancelled, [both], label: "撤回"),
    ] + [DispatchState.sent, .acked].flatMap { s in [
        Row(s, .extend, [.beforeDeadline], to: s, [.stop([.resolve])], label: "延期"),
        Row(s, .backlog, [.pastDeadline], to: s, [.stop([.resolve])], label: "挂账"),
        // A new holiday schedule moves the signing, finishing and return deadlines, not a stage's.
        Row(s, .moveDeadlines, to: s, [.stop([.ack, .resolve])], label: "节假日调整"),
        Row(s, .rungDue, to: s, [.escalate], label: "催办/督办"),
    ] }

    public static let table = MachineTable(rows)

    public static func dot() -> String {
        table.dot(name: "dispatch_lifecycle", states: DispatchState.allCases, id: { "d_" + $0.rawValue },
                  stateLabel: { "\($0.rawValue)\\n\($0.chinese)" }, terminal: { !$0.isOpen },
                  trigger: \.rawValue, guardName: \.rawValue)
    }
}
