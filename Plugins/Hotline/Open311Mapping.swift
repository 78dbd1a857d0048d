import Foundation

/// A case as Open311 tells it (pure: the broker's QUERY answers in, records out).
///
/// `status` is `closed` once the department has finished it (办结) — and after that verified,
/// closed or rejected (不予受理) — and `open` otherwise, also after a rework or a redo reopens it:
/// the spec's `closed` is "it has been resolved", which for the caller is 办结, not the centre's
/// later 结案. A report merged into another case (并案) has the status, deadline and department of
/// the case it joined.
enum Open311Mapping {
    static let closedStates: Set<String> = ["finished", "verified", "closed", "rejected"]

    static func status(ofState state: String) -> String { closedStates.contains(state) ? "closed" : "open" }

    /// One `<request>` of GET requests / GET requests/{id}, in the spec's element order.
    /// `joined`: the case a merged report joined; `timeline`/`dispatches` (from QUERY case)
    /// give `status_notes`, absent in lists.
    static func request(_ c: [String: Any], joined: [String: Any]? = nil, timeline: [[String: Any]] = [], dispatches: [[String: Any]] = [],
                        catalog: Open311Catalog) -> Open311Document.Record {
        let live = joined ?? c
        let code = c["category"] as? String ?? ""
        var notes = updates(c, timeline: timeline, dispatches: dispatches, catalog: catalog).last?.description
        if let j = joined?["case_id"] as? String { notes = "已与 \(j) 并案办理" + (notes.map { "；" + $0 } ?? "") }
        func text(_ v: Any?) -> Open311Document.Value { (v as? String).map { .text($0) } ?? .null }
        return [
            ("service_request_id", text(c["case_id"])),
            ("status", .text(status(ofState: live["state"] as? String ?? ""))),
            ("status_notes", text(notes)),
            ("service_name", .text(catalog.service(code)?.name ?? (code == "unclassified" ? "待分类" : code))),
            ("service_code", .text(code)),
            ("description", text(c["title"])),
            ("agency_responsible", text((live["lead"] as? String).map { catalog.agencies[$0] ?? $0 })),
            ("service_notice", text(live["state_zh"])),
            ("requested_datetime", text(c["accepted_at"])),
            ("updated_datetime", text(live["updated_at"])),
            ("expected_datetime", text(live["resolve_by"])),
            ("address", text(c["address"])),
            ("address_id", .null), ("zipcode", .null), ("lat", .null), ("long", .null), ("media_url", .null),
        ]
    }

    /// An update of mySociety's servicerequestupdates: what the caller should hear of one event.
    struct Update: Equatable {
        var seq: Int
        var caseID: String
        var at: String
        var status: String
        var description: String
        var mediaURL: String?

        var record: Open311Document.Record {
            [("update_id", .text(String(seq))), ("service_request_id", .text(caseID)), ("status", .text(status)),
             ("updated_datetime", .text(at)), ("description", .text(description)), ("media_url", mediaURL.map { .text($0) } ?? .null)]
        }
    }

    /// The case's timeline as the caller's updates, in order: accepted, dispatched, signed for,
    /// progress, finished, verified, rated, closed … — the lead's acts only (an assist's do not
    /// move the case), the clocks and escalations left out (the centre's business). Each carries
    /// the status after it; `update_id` is the event's seq, the same on every read.
    static func updates(_ c: [String: Any], timeline: [[String: Any]], dispatches: [[String: Any]], catalog: Open311Catalog) -> [Update] {
        let caseID = c["case_id"] as? String ?? ""
        var agencyOf: [String: String] = [:], lead: Set<String> = []
        func learn(_ d: [String: Any]) {
            guard let id = d["dispatch_id"] as? String else { return }
            if let a = d["agency"] as? String { agencyOf[id] = catalog.agencies[a] ?? a }
            if d["role"] as? String == "lead" { lead.insert(id) }
        }
        dispatches.forEach(learn)
        var status = "open"
        var out: [Update] = []
        for e in timeline {
            let data = e["data"] as? [String: Any] ?? [:]
            let type = e["type"] as? String ?? ""
            if type == "case.dispatched", let d = data["dispatch"] as? [String: Any] { learn(d) }
            let dispatch = data["dispatch_id"] as? String
            if type.hasPrefix("dispatch."), let dispatch, !lead.contains(dispatch) { continue }
            let who = dispatch.flatMap { agencyOf[$0] } ?? ""
            let note = (data["note"] as? String).flatMap { $0.isEmpty ? nil : $0 }
            func with(_ s: String, _ n: String?) -> String { n.map { s + "：" + $0 } ?? s }
            let media = ((data["attachments"] as? [[String: Any]])?.first?["url"] as? String)
            var text: String?
            switch type {
            case "case.accepted": text = "已受理"
            case "case.dispatched":
                guard let d = data["dispatch"] as? [String: Any], d["role"] as? String == "lead" else { continue }
                status = "open"
                text = "已派单至" + (agencyOf[d["dispatch_id"] as? String ?? ""] ?? "")
            case "case.triage": text = data["reason"] as? String == "returned" ? "退回中心重新研判" : "待中心研判分派"
            case "case.consultation": text = "多部门会商中"
            case "case.merged": text = "同一问题已在办理，并案至 " + (data["merged_into"] as? String ?? "")
            case "dispatch.acked": text = with(who + "已签收", note)
            case "dispatch.progress": text = with(who + "处置中", note)
            case "dispatch.returned": text = with(who + "退单", note)
            case "dispatch.extended": text = with("延期至 " + (data["resolve_by"] as? String ?? ""), data["reason"] as? String)
            case "case.resolved":
                status = "closed"
                text = with(who + "已办结", [data["result"] as? String, note].compactMap { $0 }.joined(separator: "；").nilIfEmpty)
            case "case.verified": status = "closed"; text = with("现场核实通过", note)
            case "case.rework": status = "open"; text = with("核实未通过，返工", note)
            case "case.evaluated":
                let s = data["satisfaction"] as? String ?? ""
                status = s == "dissatisfied" ? "open" : "closed"
                text = with(["satisfied": "回访：满意", "basically_satisfied": "回访：基本满意"][s] ?? "回访：不满意，重办", note)
            case "case.closed": status = "closed"; text = "已结案"
            case "case.rejected": status = "closed"; text = with("不予受理", data["reason"] as? String)
            default: continue
            }
            guard let text, let seq = e["seq"] as? Int, let at = e["at"] as? String else { continue }
            out.append(Update(seq: seq, caseID: caseID, at: at, status: status, description: text, mediaURL: media))
        }
        return out
    }

    /// What the caller is told when the case is accepted (POST's `service_notice`).
    static func notice(_ accepted: [String: Any]) -> String {
        switch accepted["state"] as? String {
        case "merged": "同一问题已在办理，已并案至 \(accepted["merged_into"] as? String ?? "")" + ((accepted["due"] as? String).map { "，预计 \($0) 前办结" } ?? "")
        case "triage": "已受理，待中心研判分派"
        default: "已受理并派单" + ((accepted["due"] as? String).map { "，预计 \($0) 前办结" } ?? "")
        }
    }
}

private extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
