import Foundation
import MusterAdapterKit
import MusterWire
import WebhookDepartment

/// 公安's work on the bus (12345–110 联动): a case the centre gives the police is handed to the 110
/// 接处警 system as a work order; 110's answer — its 警情号 — is the 签收, in the log at once as
/// the dispatch's downstream reference; a case 110 finds is not police business (非警务) comes
/// back with its reason and is re-routed by the broker (退单 → 重新研判).
public struct GonganRules: DepartmentRules {
    let settings: GonganSettings

    init(_ settings: GonganSettings) { self.settings = settings }

    /// The 110 system took the work order and answered its 警情号: 110 接警 is the police's 签收,
    /// so the plugin signs at once (an urgent case's 15-minute clock is met in seconds). The act id
    /// derives from the dispatch id: a redelivery of the same dispatch is the same act.
    public func delivered(_ dispatch: [String: Any], ref: String?, _ acts: ActSink) async throws {
        guard let ref, !ref.isEmpty, let act = signature(dispatch, incident: ref) else { return }
        try await acts.send(act)
    }

    /// The ACK for a dispatch 110 took under 警情号 `incident`; nil without a dispatch id.
    func signature(_ dispatch: [String: Any], incident: String) -> Act? {
        guard let dispatchID = dispatch["dispatch_id"] as? String else { return nil }
        return Act.ack(id: "ga-110-ack-\(dispatchID)", dispatchID: dispatchID, handler: settings.signAs,
                       note: "110已接警，警情号 \(incident)")
            .from(DownstreamRef(status: "accepted", ref: incident, update: "110-accepted-\(dispatchID)"))
    }

    /// What 110 needs beyond the webhook's work order: the hand-over (联动), the 警情级别, whether
    /// it is an emergency, and whom to call back (回拨报警人) — the reporter's contacts when the
    /// centre lets 公安 see them (routing.yaml `contacts_reporters`), else why not.
    public func workOrderFields(_ dispatch: [String: Any]) async -> [String: Any] {
        let c = dispatch["case"] as? [String: Any] ?? [:]
        let priority = (c["priority"] as? String).flatMap(Priority.init(rawValue:)) ?? .normal
        var fields: [String: Any] = [
            "linkage": settings.linkage,
            "level": settings.levels[priority] ?? GonganSettings.defaultLevels[priority] ?? "",
            "emergency": settings.emergencyPriorities.contains(priority),
            "callback": Self.callback(c["reporter"] as? [String: Any]),
        ]
        if let source = c["source"] as? String { fields["source"] = source }
        if let at = c["reported_at"] as? String { fields["reported_at"] = at }
        if let loc = c["location"] as? [String: Any], let lat = loc["lat"], let lon = loc["lon"] { fields["position"] = ["lat": lat, "lon": lon] }
        return fields
    }

    /// Whom 110 may call back: `{phone, name}` when the broker shows the phone in full; otherwise
    /// `{available: false, why}` — a masked or anonymous reporter is not a number to dial.
    static func callback(_ reporter: [String: Any]?) -> [String: Any] {
        guard let r = reporter else { return ["available": false, "why": "无报警人信息"] }
        if r["anonymous"] as? Bool == true { return ["available": false, "why": "匿名反映"] }
        guard let phone = r["phone"] as? String, !phone.isEmpty else { return ["available": false, "why": "无联系电话"] }
        if phone.contains("*") { return ["available": false, "why": "联系电话已遮蔽（公安未获授权查看报警人联系方式）"] }
        var out: [String: Any] = ["available": true, "phone": phone]
        if let name = r["name"] as? String { out["name"] = name }
        return out
    }

    /// 非警务: the 110 code for it must mean a return, carry 110's reason in `note` (the centre
    /// re-routes on it), and be returned as `not_our_duty` — a code for "not police business"
    /// returned as, say, a duplicate would send the case to the wrong desk.
    public func check(_ update: [String: Any], meaning: StatusMap.Meaning, subject: String, dispatch: [String: Any]?) throws(StatusMap.Refusal) {
        guard let code = settings.nonPoliceStatus, Self.status(update) == code else { return }
        guard meaning == .return else {
            throw StatusMap.Refusal(field: "status", message: "status \(code) is 非警务 (gongan.non_police_status) but the statuses map has it as \(meaning.rawValue): list it under return")
        }
        if let reason = update["reason"] as? String, reason != ReturnReason.notOurDuty.rawValue {
            throw StatusMap.Refusal(field: "reason", message: "a 非警务 return is not_our_duty, not \(reason)")
        }
        guard let note = update["note"] as? String, !note.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw StatusMap.Refusal(field: "note", message: "a 非警务 return needs its reason in note (e.g. 经核实系物业纠纷，不属公安管辖), for the centre to re-route it")
        }
    }

    static func status(_ update: [String: Any]) -> String? {
        (update["status"] as? String) ?? (update["status"] as? NSNumber)?.stringValue
    }
}
