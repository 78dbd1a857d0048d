import Foundation

/// One 数字城管 class a category maps to (GB/T 30428.2 style: 大类 two digits + 小类 two digits,
/// an event 事件 or a component 部件), with the city's standard for it: when a case is filed
/// (立案条件), how long handling may take (处置时限), when it is done (结案条件), whether a finish
/// needs the after-photo (处置后照片), and for the staged classes (违法搭建) the stages in order,
/// each with its own limit.
public struct SzcgClass: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable { case event, component }

    public struct Stage: Sendable, Equatable {
        public var name: String
        public var limit: TimeLimit
        public init(name: String, limit: TimeLimit) { self.name = name; self.limit = limit }
    }

    public var code: String
    public var kind: Kind
    public var major: String
    public var minor: String
    public var filing: String
    public var limit: TimeLimit
    public var closing: String
    public var afterPhoto: Bool
    public var stages: [Stage]

    public init(code: String, kind: Kind = .event, major: String, minor: String, filing: String, limit: TimeLimit,
                closing: String, afterPhoto: Bool = true, stages: [Stage] = []) {
        self.code = code; self.kind = kind; self.major = major; self.minor = minor; self.filing = filing
        self.limit = limit; self.closing = closing; self.afterPhoto = afterPhoto; self.stages = stages
    }

    /// How the desk sees it named: 数字城管 0501 无照经营游商.
    public var title: String { "数字城管 \(code) \(minor)" }

    /// The work order's `szcg` member (Plugins/Chengguan/README.md); `stages` only for a staged class.
    public var workOrder: [String: Any] {
        var w: [String: Any] = ["code": code, "kind": kind.rawValue, "major": major, "minor": minor, "filing": filing,
                                "limit": limit.description, "closing": closing, "after_photo": afterPhoto]
        if !stages.isEmpty { w["stages"] = stages.map { ["name": $0.name, "limit": $0.limit.description] } }
        return w
    }
}
