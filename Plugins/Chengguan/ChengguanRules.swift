import Foundation
import MusterAdapterKit
import WebhookDepartment

/// 城管's rules on the webhook's transport: each work order carries its 数字城管 class (`szcg`),
/// a finish (办结) of a class that needs it is refused without the after-photo, and a stage
/// reported done must be one of the class's stages. Categories without a class pass unchanged.
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

    /// A stage reported done (阶段完成): on a PROGRESS, one of the class's stages by name, named in
    /// the note too so that the case's log says which stage it was. The order of the stages and
    /// their own deadlines are not checked here: they need state across restarts that only the
    /// broker keeps (README.md, "Staged limits").
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
        guard let note, note.contains(name) else {
            throw StatusMap.Refusal(field: "note", message: "阶段完成须在 note 中写明阶段，如“阶段完成：\(name)” — name the stage in the note")
        }
    }
}
