import Crypto
import Foundation
import MusterAdapterKit
import MusterWire

/// The department's status codes and Muster's, both ways (in the manner of mySociety's
/// open311-adapter). Reverse — every code the department's system sends → the act it means —
/// must be total: an update whose code it does not name is refused, never guessed. Forward —
/// what Muster sends → the department's own code — may be partial: unmapped, nothing is added.
public struct StatusMap: Sendable {
    /// What a department status means on the bus.
    public enum Meaning: String, CaseIterable, Sendable {
        case ack, progress, resolve, `return`, extend, backlog, enRoute = "en_route", onSite = "on_site", ignore
    }

    var reverse: [String: Meaning]
    /// `dispatch`, `summon`, `notice` → the department's code, sent as `department_status`.
    var forward: [String: String]

    static let forwardKeys = ["dispatch", "summon", "notice"]

    /// An update the map or the adapter cannot take: the HTTP status to answer, and the field.
    public struct Refusal: Error, Equatable {
        public var status: Int
        public var field: String
        public var message: String
        /// A refusal of the update's `field` (422 unless said), with the reason the desk sees.
        public init(status: Int = 422, field: String, message: String) { self.status = status; self.field = field; self.message = message }
    }

    /// One update of the department's (Plugins/Webhook/README.md) as an act, or nil for a status
    /// that means nothing on the bus (`ignore`). `at` names the update in errors (`updates[1]`).
    /// `lookUp` finds the dispatch or summon of the department's own work-order id; `refOf`
    /// the department's id of a dispatch or summon, if it gave one.
    func act(_ doc: Any, at prefix: String,
             lookUp: (String) throws -> String?, refOf: (String) throws -> String?) throws -> Act? {
        func field(_ name: String) -> String { prefix.isEmpty ? name : "\(prefix).\(name)" }
        func refuse(_ name: String, _ message: String, status: Int = 422) -> Refusal {
            Refusal(status: status, field: field(name), message: message)
        }
        guard let u = doc as? [String: Any] else { throw refuse("", "an update is a JSON object") }
        func text(_ name: String) throws -> String? {
            switch u[name] {
            case nil, is NSNull: return nil
            case let s as String: return s.isEmpty ? nil : s
            case let n as NSNumber where name == "status": return n.stringValue  // 30 and "30" are one code
            default: throw refuse(name, "\(name) must be a string")
            }
        }
        guard let update = try text("update_id") else {
            throw refuse("update_id", "update_id is required: your system's own key for this status change")
        }
        guard update.utf8.count <= 256 else { throw refuse("update_id", "update_id is longer than 256 bytes") }
        guard let status = try text("status") else { throw refuse("status", "status is required") }
        guard let meaning = reverse[status] else {
            throw refuse("status", "unknown status \"\(status)\": the adapter's statuses map must name every status your system sends")
        }
        var subject = try text("dispatch_id") ?? text("summon_id")
        let workOrder = try text("work_order")
        if subject == nil, let workOrder {
            guard let known = try lookUp(workOrder) else {
                throw refuse("work_order", "no work order \"\(workOrder)\" was taken by this adapter", status: 404)
            }
            subject = known
        }
        guard let subject else { throw refuse("dispatch_id", "name the work: dispatch_id, summon_id or work_order") }
        if meaning == .ignore { return nil }

        // The act's request id comes from the department's key: an update sent twice is one act.
        let id = "wh-" + SHA256.hash(data: Array(update.utf8)).prefix(16).map { String(format: "%02x", $0) }.joined()
        let note = try text("note")
        var attachments: [[String: String]] = []
        if let list = u["attachments"] {
            guard let items = list as? [Any] else { throw refuse("attachments", "attachments is a list of {url, sha256?}") }
            for (i, item) in items.enumerated() {
                guard let a = item as? [String: Any], let url = a["url"] as? String, !url.isEmpty else {
                    throw refuse("attachments[\(i)].url", "each attachment needs its url")
                }
                attachments.append(["url": url, "sha256": a["sha256"] as? String].compactMapValues { $0 })
            }
        }
        let act: Act
        switch meaning {
        case .ack: act = .ack(id: id, dispatchID: subject, handler: try text("handler"), note: note)
        case .progress:
            act = .progress(id: id, dispatchID: subject, note: note ?? "status \(status)", attachments: attachments, milestone: try text("milestone"))
        case .resolve: act = .resolve(id: id, dispatchID: subject, result: try text("result") ?? "resolved", note: note, attachments: attachments)
        case .return:
            let reason = try text("reason").map { r in
                guard let reason = ReturnReason(rawValue: r) else {
                    throw refuse("reason", "unknown reason \"\(r)\": one of \(ReturnReason.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return reason
            } ?? .notOurDuty
            act = .giveBack(id: id, dispatchID: subject, reason: reason, note: note)
        case .extend:
            guard let by = try text("by") else { throw refuse("by", "an extension (延期) needs by, how long: 3d, 48h") }
            guard let note else { throw refuse("note", "an extension (延期) needs its reason in note") }
            act = .extend(id: id, dispatchID: subject, by: by, reason: note)
        case .backlog:
            guard let note else { throw refuse("note", "挂账 needs its explanation in note") }
            act = .backlog(id: id, dispatchID: subject, explanation: note)
        case .enRoute, .onSite:
            guard let slash = subject.firstIndex(of: "/") else {
                throw refuse("summon_id", "status \(status) is a report (报到): name the summon (summon_id W…/agency)")
            }
            act = .report(id: id, whistleID: String(subject[..<slash]), status: meaning == .onSite ? .onSite : .enRoute, note: note)
        case .ignore: return nil
        }
        return act.from(DownstreamRef(status: status, ref: try workOrder ?? refOf(subject), update: update))
    }
}
