import Foundation
import MusterAdapterKit
import WebhookDepartment

/// 城管's rules on the webhook's transport: each work order carries its 数字城管 class (`szcg`),
/// a finish (办结) of a class that needs it is refused without the after-photo, and a stage
/// reported done (`stage`) must be one of the class's stages; it goes to the broker as the
/// PROGRESS's `milestone`, whose staged-limit clocks keep the order and each stage's deadline.
/// Categories without a class pass unchanged.
public struct ChengguanRules: DepartmentRules {
    /// category → its 数字城管 class (the `chengguan.codes` settings).
    public let classes: [String: SzcgClass]

    public init(classes: [String: SzcgClass]) { self.classes = classes }

    /// The class of a DISPATCH as the broker sent it (`case.category`), if configured.
    func szcgClass(of dispatch: [String: Any]?) -> SzcgClass? {
        guard let category = (dispatch?["case"] as? [String: Any])?["category"] as? String else { return nil }
        return classes[category]
    }

    public func workOrderFields(_ dispatch: [String: Any]) async -> [String: Any] {
        guard let c = szcgClass(of: dispatch) else { return [:] }
        return ["szcg": c.workOrder]
    }

    public func check(_ update: [String: Any], meaning: StatusMap.Meaning, subject: String,
                      dispatch: [String: Any]?) throws(StatusMap.Refusal) {
        // Without the dispatch (a SUMMON's report, or a push the adapter no longer keeps) the class
        // is unknown: nothing to check by.
        guard let c = szcgClass(of: dispatch) else { return }
        if let stage = update["stage"], !(stage is NSNull) {
            try checkStage(stage, meaning: meaning, note: update["note"] as? String, c)
        }
        if meaning == .resolve, c.afterPhoto, (update["attachments"] as? [Any] ?? []).isEmpty {
            throw StatusMap.Refusal(field: "attachments", message:
                "办结需上传处置后照片（\(c.title) 结案条件：\(c.closing)）— a finish (RESOLVE) of this class needs at least one after-photo in attachments")
        }
    }

    /// A stage reported done (阶段完成): on a PROGRESS, one of the class's stages by name. Its
    /// order and deadline are the broker's to judge (it keeps the stages reached across restarts:
    /// README.md, "Staged limits"); an out-of-order stage is refused there, and the adapter logs it.
    func checkStage(_ stage: Any, meaning: StatusMap.Meaning, note: String?, _ c: SzcgClass) throws(StatusMap.Refusal) {
        guard let name = stage as? String, !name.isEmpty else {
            throw StatusMap.Refusal(field: "stage", message: "stage 须为阶段名称 — stage must be a stage's name (a string)")
        }
        guard meaning == .progress else {
            throw StatusMap.Refusal(field: "stage", message: "阶段完成以处置反馈报送 — a stage is reported done with a progress update, not with \(meaning.rawValue)")
        }
        guard !c.stages.isEmpty else {
            throw StatusMap.Refusal(field: "stage", message: "\(c.title) 不分阶段，无“\(name)”阶段 — this class has no stages")
        }
        guard c.stages.contains(where: { $0.name == name }) else {
            let order = c.stages.map { "\($0.name)（\($0.limit.chinese)）" }.joined(separator: " → ")
            throw StatusMap.Refusal(field: "stage", message: "\(c.title) 无“\(name)”阶段，其阶段为 \(order) — unknown stage")
        }
    }

    /// A stage reported done becomes the act's `milestone`, and the note says which stage it was
    /// (`阶段完成：停工`, before the desk's own words) so that the case's log reads without the code.
    public func amend(_ update: [String: Any], meaning: StatusMap.Meaning, dispatch: [String: Any]?) -> [String: Any] {
        guard meaning == .progress, szcgClass(of: dispatch)?.stages.isEmpty == false, let stage = update["stage"] as? String else { return update }
        var u = update
        u["milestone"] = stage
        let note = (update["note"] as? String) ?? ""
        if !note.contains(stage) { u["note"] = note.isEmpty ? "阶段完成：\(stage)" : "阶段完成：\(stage) — \(note)" }
        return u
    }
}
