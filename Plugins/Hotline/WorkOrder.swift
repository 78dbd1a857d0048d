import Foundation
import MusterWire
import WebhookDepartment

/// A work order (工单) of the 12345 platform, as it POSTs it (README.md), turned into the case of
/// a SUBMIT. Only its shape is checked here — required members, types, the 诉求类型 — and every
/// problem names its member; what the broker checks anyway (grid, phone, lengths) it checks, and
/// its answer is mapped back to the platform's member names (`platformField`).
struct WorkOrder: Equatable {
    /// 诉求类型: 咨询 is a consultation (its own deadlines); the rest are ordinary cases.
    enum Kind: String, CaseIterable { case consult = "咨询", help = "求助", complaint = "投诉", report = "举报", suggestion = "建议" }

    typealias Refusal = FormReader.Refusal

    var orderNo: String
    var calledAt: String
    var kind: Kind
    var content: String
    var title: String
    var address: String?
    var grid: String?
    var category: String?
    var urgent: Bool
    var contactName: String?
    var contactPhone: String?
    var anonymous: Bool
    var callback: Bool
    var attachments: [[String: String]]
    var lat: Double?
    var lon: Double?

    static let members: Set<String> = ["order_no", "called_at", "kind", "content", "title", "address", "grid", "category", "urgent",
                                       "contact", "anonymous", "callback", "attachments", "lat", "lon"]

    /// The body as the platform sent it; a refusal names the first member at fault.
    static func parse(_ body: [UInt8]) throws(Refusal) -> WorkOrder {
        let f = try FormReader.body(body, known: members, what: "工单")
        let o = f.object
        func text(_ k: String, required: Bool = false) throws(Refusal) -> String? { try f.text(k, required: required) }
        let orderNo = try text("order_no", required: true)!
        guard orderNo.utf8.count <= 64, orderNo.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-_".unicodeScalars.contains($0)) }) else {
            throw Refusal(field: "order_no", message: "工单编号只含字母、数字、- 和 _，至多 64 位 — letters, digits, - and _ only, at most 64")
        }
        let kindText = try text("kind", required: true)!
        guard let kind = Kind(rawValue: kindText) else {
            throw Refusal(field: "kind", message: "诉求类型须为 \(Kind.allCases.map(\.rawValue).joined(separator: "/")) — unknown kind \"\(kindText)\"")
        }
        let content = try text("content", required: true)!
        var contactName: String?, contactPhone: String?
        switch o["contact"] {
        case nil, is NSNull: break
        case let c as [String: Any]:
            if let k = c.keys.sorted().first(where: { !["name", "phone"].contains($0) }) {
                throw Refusal(field: "contact.\(k)", message: "未知字段 contact.\(k) — contact has name and phone")
            }
            for (k, v) in c where !(v is String) && !(v is NSNull) {
                throw Refusal(field: "contact.\(k)", message: "contact.\(k) 须为字符串 — must be a string")
            }
            contactName = (c["name"] as? String).flatMap { $0.isEmpty ? nil : $0 }
            contactPhone = (c["phone"] as? String).flatMap { $0.isEmpty ? nil : $0 }
        default: throw Refusal(field: "contact", message: "contact 须为对象 {name, phone} — must be an object")
        }
        let anonymous = try f.flag("anonymous"), callback = try f.flag("callback")
        if callback, !anonymous, contactPhone == nil {
            throw Refusal(field: "contact.phone", message: "需回访的工单须留联系电话 — a call-back needs the caller's phone")
        }
        let attachments = try f.attachments()
        // A title for the lists: the platform's own, or the complaint's first words.
        let title = try text("title") ?? String(content.prefix(40))
        return WorkOrder(orderNo: orderNo, calledAt: try text("called_at", required: true)!, kind: kind, content: content, title: title,
                         address: try text("address"), grid: try text("grid"), category: try text("category"), urgent: try f.flag("urgent"),
                         contactName: contactName, contactPhone: contactPhone, anonymous: anonymous, callback: callback,
                         attachments: attachments, lat: try f.number("lat"), lon: try f.number("lon"))
    }

    /// The SUBMIT's `case` (docs/PROTOCOL.md): an anonymous caller's name and phone stay with the
    /// platform; what the hotline itself needs later (诉求类型, 是否回访) rides along as `hotline`,
    /// which the broker passes through to the department untouched.
    func submittedCase(source: Source) -> [UInt8] {
        var w = JSONWriter()
        w.field("source", source.rawValue)
        w.field("external_ref", orderNo)
        w.field("category", category)
        w.field("title", title)
        w.field("description", content)
        w.field("priority", urgent ? Priority.urgent.rawValue : kind == .consult ? Priority.consult.rawValue : Priority.normal.rawValue)
        w.object("location") { l in
            l.field("grid", grid); l.field("address", address)
            if let lat, let lon { l.field("lat", lat); l.field("lon", lon) }
        }
        w.object("reporter") { r in
            if anonymous { r.field("anonymous", true) } else { r.field("name", contactName); r.field("phone", contactPhone) }
        }
        w.field("reported_at", calledAt)
        if !attachments.isEmpty {
            w.array("attachments", attachments.map { a in
                var o = JSONWriter(); o.field("url", a["url"] ?? ""); o.field("sha256", a["sha256"]); return o.finish()
            })
        }
        w.object("hotline") { h in h.field("kind", kind.rawValue); h.field("callback", callback) }
        return w.finish()
    }

    /// The broker's name for a member of the case → the platform's.
    static func platformField(_ brokerField: String?) -> String {
        switch brokerField ?? "" {
        case "case.location.grid": "grid"
        case "case.location.address": "address"
        case "case.location.lat": "lat"
        case "case.location.lon": "lon"
        case "case.reporter.phone": "contact.phone"
        case "case.reporter.name": "contact.name"
        case "case.external_ref": "order_no"
        case "case.reported_at": "called_at"
        case "case.description": "content"
        case let f where f.hasPrefix("case."): String(f.dropFirst(5))
        case let f: f
        }
    }
}
