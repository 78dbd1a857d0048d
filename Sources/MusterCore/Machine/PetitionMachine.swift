/// A petition's statutory course as one table (信访工作条例 2022; ../DOMAIN.md §3): 登记 →
/// 转送/交办 and 告知 within 15 日 → the unit objects within 5 工作日 or accepts (受理) → handled
/// within 60 日 (+ ≤ 30 日) → 答复意见书 → 复查 asked within 30 日, decided in 30 日 → 复核 asked
/// within 30 日, decided in 30 日 → 终结. The case's own table runs the handling; the facts of its
/// lead dispatch (forwarded, accepted, answered, returned) are this table's triggers too.
public enum PetitionMachine {
    public enum Trigger: String, Sendable, CaseIterable {
        /// The case dispatched to a lead (转送/交办), or reassigned.
        case forward
        /// The lead says it is not responsible (Art. 23); the office overrules or upholds it
        /// (upheld: the lead's dispatch is returned).
        case object, overrule, uphold
        /// The lead signs for it: 受理.
        case accept
        /// The lead resolves it: 办结.
        case answer
        /// The centre REJECTs its case (不予受理).
        case reject
        /// Documents served: 受理告知书, 延期告知书, 答复意见书, 复查意见书, 复核意见书.
        case tell, tellExtension = "tell_extension", serveReply = "serve_reply", serveReview = "serve_review", serveRecheck = "serve_recheck"
        /// The petitioner asks for 复查 / 复核.
        case requestReview = "request_review", requestRecheck = "request_recheck"
        /// A request window (复查 or 复核) closes with nothing asked.
        case windowCloses = "window_closes"
        /// A repeat (Art. 19) merged; confirmed by the operator, or split off to be its own.
        case merge, confirm, split
        /// A rung of one of its ladders (转送, 告知, 复查, 复核) comes due.
        case rungDue = "rung_due"
    }

    public enum Guard: String, Sendable, CaseIterable {
        /// The petitioner has not been told yet (受理告知书).
        case untold
        /// An extension of its handling the petitioner has not been told of.
        case extensionUntold = "extension_untold"
        /// The request comes inside its window (30 日 from the document served).
        case windowOpen = "window_open"
    }

    public enum Effect: Hashable, Sendable {
        /// Stop these clocks of the petition.
        case stop([ClockKind])
        /// Start the clocks of the state it is now in (转送 and 告知 when registered; the
        /// request window after a document; the decision's clock after a request).
        case startClocks
        /// 60 日 from acceptance: the lead dispatch's finish deadline moves (Art. 34).
        case handleFromAcceptance
        /// The rung's escalation fact and its NOTICE.
        case escalate

        public var name: String {
            switch self {
            case .stop(let clocks): "stop(" + clocks.map(\.rawValue).joined(separator: ",") + ")"
            case .startClocks: "start_clocks"
            case .handleFromAcceptance: "handle_from_acceptance"
            case .escalate: "escalate"
            }
        }
    }

    public typealias Row = Transition<PetitionState, Trigger, Guard, Effect>

    /// The clocks each state runs (`startClocks`).
    public static func clocks(of state: PetitionState) -> [ClockKind] {
        switch state {
        case .registered: [.transfer, .notify]
        case .replied: [.reviewRequest]
        case .reviewing: [.review]
        case .reviewed: [.recheckRequest]
        case .rechecking: [.recheck]
        default: []
        }
    }

    /// The clocks that are windows: their end is a trigger (`window_closes`), not a rung.
    public static let windows: Set<ClockKind> = [.reviewRequest, .recheckRequest]

    /// The 受理告知书 may come late, at any point after forwarding: its clock escalates until it does.
    private static let tellable: [PetitionState] = [.forwarded, .objected, .accepted, .answered, .replied, .reviewing, .reviewed, .rechecking]

    private static let rows: [Row] = [
        Row(.registered, .forward, to: .forwarded, [.stop([.transfer])], label: "转送/交办"),
        Row(.forwarded, .forward, to: .forwarded, label: "改派"),
        // Reassigned (改派) after 受理 or while objected to: the new unit accepts it anew.
        Row(.accepted, .forward, to: .forwarded, label: "改派"),
        Row(.objected, .forward, to: .forwarded, label: "改派"),
        Row(.forwarded, .object, to: .objected, label: "异议（非本单位职责）"),
        Row(.objected, .overrule, to: .forwarded, label: "异议不成立"),
        Row(.objected, .uphold, to: .registered, [.startClocks], label: "异议成立，退回"),
        Row(.registered, .reject, to: .rejected, [.stop([.transfer, .notify])], label: "不予受理"),
        Row(.forwarded, .accept, to: .accepted, [.handleFromAcceptance], label: "受理"),
        Row(.accepted, .tellExtension, [.extensionUntold], to: .accepted, label: "延期告知"),
        Row(.accepted, .answer, to: .answered, label: "办结"),
        Row(.answered, .serveReply, to: .replied, [.startClocks], label: "送达答复意见书"),
        Row(.replied, .requestReview, [.windowOpen], to: .reviewing, [.stop([.reviewRequest]), .startClocks], label: "申请复查"),
        Row(.replied, .windowCloses, to: .settled, [.stop([.reviewRequest])], label: "复查期满未申请"),
        Row(.reviewing, .serveReview, to: .reviewed, [.stop([.review]), .startClocks], label: "送达复查意见书"),
        Row(.reviewed, .requestRecheck, [.windowOpen], to: .rechecking, [.stop([.recheckRequest]), .startClocks], label: "申请复核"),
        Row(.reviewed, .windowCloses, to: .settled, [.stop([.recheckRequest])], label: "复核期满未申请"),
        Row(.rechecking, .serveRecheck, to: .concluded, [.stop([.recheck])], label: "送达复核意见书，终结"),
        Row(.registered, .merge, to: .merged, [.stop([.transfer, .notify])], label: "重复信访并入"),
        Row(.merged, .confirm, to: .merged, label: "确认重复"),
        Row(.merged, .split, to: .registered, [.startClocks], label: "拆分为新信访"),
    ] + tellable.map {
        Row($0, .tell, [.untold], to: $0, [.stop([.notify])], label: "受理告知")
    } + PetitionState.allCases.filter { !$0.isTerminal }.map {
        Row($0, .rungDue, to: $0, [.escalate], label: "催办/督办")
    }

    public static let table = MachineTable(rows)

    /// Graphviz source of the table, guards in brackets.
    public static func dot() -> String {
        table.dot(name: "petition", states: PetitionState.allCases, id: { "p_" + $0.rawValue },
                  stateLabel: { "\($0.rawValue)\\n\($0.chinese)" }, terminal: \.isTerminal,
                  trigger: \.rawValue, guardName: \.rawValue)
    }
}
