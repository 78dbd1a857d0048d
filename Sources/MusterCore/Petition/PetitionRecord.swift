import Foundation
import MusterWire

/// Where a petition (信访事项) stands on its statutory course (信访工作条例 2022), beside its
/// case: the case carries the handling (dispatch, 签收, 办结); the petition the 告知, the
/// objection, the written reply and the 复查 / 复核 that may follow it.
public enum PetitionState: String, Codable, Sendable, CaseIterable {
    /// 登记: registered; to be forwarded (转送/交办) and the petitioner told, each within 15 日.
    case registered
    /// 已转送: with the unit; it may object within 5 工作日 (Art. 23) or accept it.
    case forwarded
    /// 异议待定: the unit says it is not responsible; the petition office rules.
    case objected
    /// 已受理: the unit accepted it; handled within 60 日 of acceptance (Art. 34).
    case accepted
    /// 已办结: handled; the written reply (答复意见书) is to be served.
    case answered
    /// 已答复: the reply served; 复查 may be asked within 30 日 (Art. 35).
    case replied
    /// 复查中: the next-higher unit reviews it within 30 日.
    case reviewing
    /// 已复查: the review served; 复核 may be asked within 30 日 (Art. 36).
    case reviewed
    /// 复核中: the unit above re-checks it within 30 日.
    case rechecking
    /// 终结: re-checked; the same facts are not accepted again (Art. 36).
    case concluded
    /// 期满办结: the reply or the review stands, no 复查 or 复核 asked in time.
    case settled
    /// 重复信访: the same petition already in process; merged into it (Art. 19).
    case merged
    /// 不予受理: its case rejected by the centre.
    case rejected

    public var chinese: String {
        switch self {
        case .registered: "已登记"
        case .forwarded: "已转送"
        case .objected: "异议待定"
        case .accepted: "已受理"
        case .answered: "已办结待答复"
        case .replied: "已答复"
        case .reviewing: "复查中"
        case .reviewed: "已复查"
        case .rechecking: "复核中"
        case .concluded: "终结"
        case .settled: "期满办结"
        case .merged: "重复信访并入"
        case .rejected: "不予受理"
        }
    }

    public var isTerminal: Bool { self == .concluded || self == .settled || self == .merged || self == .rejected }
}

/// A petition's own projection, kept on its case (`CaseRecord.petition`). It holds no
/// identity of the petitioner: only a digest to find repeats by.
public struct PetitionRecord: Codable, Sendable, Equatable {
    public var state: PetitionState
    /// The petitioner and the petition's facts (category, grid, address) as one digest:
    /// the same petition again has the same key (`Ledger.repeatKey`). Nil when anonymous.
    public var repeatKey: String?
    /// The agencies it complains about: never its handlers, never told who petitioned.
    public var about: [String]
    /// The earlier petition of the same petitioner and facts, when this one repeats it.
    public var repeatOf: String?
    /// Documents served, in order.
    public var notices: [PetitionNotice]
    /// The unit's objection (Art. 23), while it stands or as it was ruled.
    public var objection: PetitionObjection?
    /// 受理, by the unit it was forwarded to.
    public var acceptedAt: Date?
    /// The request window open now (复查 or 复核), or the decision on a request, ends then.
    public var windowCloses: Date?
    public var decideBy: Date?
    /// Requests for 复查 and 复核, when made.
    public var reviewRequestedAt: Date?
    public var recheckRequestedAt: Date?
    /// 终结 or 期满办结.
    public var endedAt: Date?

    public init(state: PetitionState = .registered, repeatKey: String?, about: [String], repeatOf: String? = nil) {
        self.state = state; self.repeatKey = repeatKey; self.about = about; self.repeatOf = repeatOf
        self.notices = []
    }

    /// Extensions of its handling told to the petitioner.
    public var extensionsTold: Int { notices.filter { $0.kind == .extension }.count }
    public var told: Bool { notices.contains { $0.kind == .acceptance } }
}

/// A document served on the petitioner, as the bus records it: what, its number, who issued
/// it, when received. The text stays with the petition office (it names the petitioner).
public struct PetitionNotice: Codable, Sendable, Equatable {
    public var kind: PetitionNoticeKind
    public var number: String?
    public var title: String?
    public var issuer: String?
    public var url: String?
    public var sha256: String?
    public var servedAt: Date
    /// The window it opens (复查 after a reply, 复核 after a review) closes then.
    public var windowCloses: Date?

    public init(kind: PetitionNoticeKind, number: String?, title: String?, issuer: String?, url: String?, sha256: String?,
                servedAt: Date, windowCloses: Date?) {
        self.kind = kind; self.number = number; self.title = title; self.issuer = issuer; self.url = url; self.sha256 = sha256
        self.servedAt = servedAt; self.windowCloses = windowCloses
    }
}

public struct PetitionObjection: Codable, Sendable, Equatable {
    public var dispatchID: String
    public var agency: String
    public var reason: String
    public var at: Date
    /// The petition office's ruling: upheld (returned) or not; nil while pending.
    public var upheld: Bool?

    public init(dispatchID: String, agency: String, reason: String, at: Date, upheld: Bool? = nil) {
        self.dispatchID = dispatchID; self.agency = agency; self.reason = reason; self.at = at; self.upheld = upheld
    }
}

/// Which request of the petitioner.
public enum PetitionRequestKind: String, Codable, Sendable, CaseIterable {
    case review, recheck
    public var chinese: String { self == .review ? "复查" : "复核" }
}
