import Foundation
import MusterWire
import WebhookDepartment

/// A petition's registration (信访登记) as the petition office's system POSTs it (README.md),
/// turned into the case of a SUBMIT with `source: petition`. Only its shape is checked here;
/// what the broker checks (the grid, the ID number's check digit, the agencies named) it checks,
/// and its refusal is mapped back to the form's member names (`formField`).
struct PetitionForm: Equatable {
    /// 信访形式.
    enum Channel: String, CaseIterable { case letter = "来信", visit = "来访", online = "网上信访", phone = "电话" }

    typealias Refusal = FormReader.Refusal

    var petitionNo: String
    var receivedAt: String
    var channel: Channel
    var content: String
    var title: String
    var address: String?
    var grid: String?
    var category: String?
    var about: [String]
    var name: String?
    var idNumber: String?
    var phone: String?
    var anonymous: Bool
    var attachments: [[String: String]]

    static let members: Set<String> = ["petition_no", "received_at", "channel", "content", "title", "address", "grid", "category",
                                       "about", "petitioner", "attachments"]

    static func parse(_ body: [UInt8]) throws(Refusal) -> PetitionForm {
        let f = try FormReader.body(body, known: members, what: "登记表")
        let no = try f.text("petition_no", required: true)!
        guard no.utf8.count <= 64, no.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-_".unicodeScalars.contains($0)) }) else {
            throw Refusal(field: "petition_no", message: "信访件编号只含字母、数字、- 和 _，至多 64 位 — letters, digits, - and _ only, at most 64")
        }
        let channelText = try f.text("channel", required: true)!
        guard let channel = Channel(rawValue: channelText) else {
            throw Refusal(field: "channel", message: "信访形式须为 \(Channel.allCases.map(\.rawValue).joined(separator: "/")) — unknown channel \"\(channelText)\"")
        }
        let content = try f.text("content", required: true)!
        var about: [String] = []
        switch f.object["about"] {
        case nil, is NSNull: break
        case let list as [Any]:
            for (i, item) in list.enumerated() {
                guard let code = item as? String, !code.isEmpty else { throw Refusal(field: "about[\(i)]", message: "about[\(i)] 须为单位代码 — an agency code") }
                about.append(code)
            }
        default: throw Refusal(field: "about", message: "about 须为单位代码数组 — a list of agency codes")
        }
        // 信访人: who petitions, or {anonymous: true} (a 检举 may be anonymous: nothing to tell a repeat by).
        guard let who = f.object["petitioner"] as? [String: Any] else {
            throw Refusal(field: "petitioner", message: f.object["petitioner"] == nil || f.object["petitioner"] is NSNull
                          ? "缺少 petitioner {name, id_number?, phone?} — who petitions (or {anonymous: true})" : "petitioner 须为对象 — must be an object")
        }
        let p = FormReader(who, prefix: "petitioner.")
        try p.only(["name", "id_number", "phone", "anonymous"], hint: "petitioner has name, id_number, phone, anonymous")
        let anonymous = try p.flag("anonymous")
        let name = try p.text("name", required: !anonymous), idNumber = try p.text("id_number"), phone = try p.text("phone")
        return PetitionForm(petitionNo: no, receivedAt: try f.text("received_at", required: true)!, channel: channel, content: content,
                            title: try f.text("title") ?? String(content.prefix(40)), address: try f.text("address"), grid: try f.text("grid"),
                            category: try f.text("category"), about: about, name: anonymous ? nil : name, idNumber: anonymous ? nil : idNumber,
                            phone: anonymous ? nil : phone, anonymous: anonymous, attachments: try f.attachments())
    }

    /// The SUBMIT's `case` (docs/PROTOCOL.md, "Petitions"); the 信访形式 rides along as `xf`.
    func submittedCase() -> [UInt8] {
        var w = JSONWriter()
        w.field("source", Source.petition.rawValue)
        w.field("external_ref", petitionNo)
        w.field("category", category)
        w.field("title", title)
        w.field("description", content)
        w.object("location") { l in l.field("grid", grid); l.field("address", address) }
        w.object("reporter") { r in
            if anonymous { r.field("anonymous", true) } else { r.field("name", name); r.field("phone", phone); r.field("id_number", idNumber) }
        }
        w.field("reported_at", receivedAt)
        if !attachments.isEmpty {
            w.array("attachments", attachments.map { a in
                var o = JSONWriter(); o.field("url", a["url"] ?? ""); o.field("sha256", a["sha256"]); return o.finish()
            })
        }
        w.object("petition") { p in p.field("about", about) }
        w.object("xf") { x in x.field("channel", channel.rawValue) }
        return w.finish()
    }

    /// The broker's name for a member of the case → the form's.
    static func formField(_ brokerField: String?) -> String {
        switch brokerField ?? "" {
        case "case.location.grid": "grid"
        case "case.location.address": "address"
        case "case.reporter.phone": "petitioner.phone"
        case "case.reporter.name": "petitioner.name"
        case "case.reporter.id_number": "petitioner.id_number"
        case "case.external_ref": "petition_no"
        case "case.reported_at": "received_at"
        case "case.description": "content"
        case let f where f.hasPrefix("case.petition."): String(f.dropFirst("case.petition.".count))
        case let f where f.hasPrefix("case."): String(f.dropFirst(5))
        case let f: f
        }
    }
}
