/// Where a case stands in the 12345 / 数字城管 closed loop (docs/PROTOCOL.md, "The case lifecycle").
public enum CaseState: String, Codable, Sendable, CaseIterable {
    /// Not yet stored: the row of the table a SUBMIT starts from.
    case new
    /// 研判: at the operations centre's triage queue (no rule matched, or returned).
    case triage
    /// 会商: returned more than once; waits for the centre to ASSIGN lead and assists.
    case consultation
    /// 派单: dispatched to a lead; waiting for it to sign for.
    case dispatched
    /// 处置: the lead signed for it (签收/报到) and is handling it.
    case handling
    /// 办结: the lead finished it; waiting for on-site verification or the follow-up call.
    case finished
    /// 核实: verified on site; waiting for the follow-up call.
    case verified
    /// 结案
    case closed
    /// 不予受理
    case rejected
    /// 并案: the same problem was already open; this report joined that case.
    case merged

    public var chinese: String {
        switch self {
        case .new: "新建"
        case .triage: "研判"
        case .consultation: "会商"
        case .dispatched: "已派单"
        case .handling: "处置中"
        case .finished: "已办结"
        case .verified: "已核实"
        case .closed: "已结案"
        case .rejected: "不予受理"
        case .merged: "已并案"
        }
    }

    /// No act changes a terminal case.
    public var isTerminal: Bool { self == .closed || self == .rejected || self == .merged }
}

/// Where one dispatch (to one department) stands.
public enum DispatchState: String, Codable, Sendable, CaseIterable {
    /// Sent; waiting for 签收.
    case sent
    /// Signed for; being handled.
    case acked
    /// 办结 by this department.
    case finished
    /// 退单: handed back with a reason.
    case returned
    /// Withdrawn by the centre (reassigned) or superseded by a later round.
    case cancelled

    public var chinese: String {
        switch self {
        case .sent: "待签收"
        case .acked: "已签收"
        case .finished: "已办结"
        case .returned: "已退单"
        case .cancelled: "已撤回"
        }
    }

    public var isOpen: Bool { self == .sent || self == .acked }
}

public enum DispatchRole: String, Codable, Sendable {
    /// 主办
    case lead
    /// 协办
    case assist
}
