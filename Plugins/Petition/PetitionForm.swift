import Foundation
import MusterWire

/// A petition's registration (信访登记) as the petition office's system POSTs it (README.md),
/// turned into the case of a SUBMIT with `source: petition`. Only its shape is checked here;
/// what the broker checks (the grid, the ID number's check digit, the agencies named) it checks,
/// and its refusal is mapped back to the form's member names (`formField`).
struct PetitionForm: Equatable {
    /// 信访形式.
    enum Channel: String, CaseIterable { case letter = "来信", visit = "来访", online = "网上信访", phone = "电话" }

    struct Refusal: Error, Equatable {
        var field: String
        var message: String
    }

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
        guard let any = try? JSONSerialization.jsonObject(with: Data(body)), let o = any as? [String: Any] else {
            throw Refusal(field: "", message: "登记表须为 JSON 对象 — the body is not a JSON object")
        }
        if let unknown = o.keys.sorted().first(where: { !members.contains($0) }) {
            throw Refusal(field: unknown, message: "未知字段 \(unknown) — unknown member (README.md lists the form's members)")
        }
        func text(_ k: String, in d: [String: Any] = o, prefix: String = "", required: Bool = false) throws(Refusal) -> String? {
            switch d[k] {
            case nil, is NSNull:
                if required { throw Refusal(field: prefix + k, message: "缺少 \(prefix + k) — \(prefix + k) is required") }
                return nil
            case let s as String:
                let t = s.trimmingCharacters(in: .whitespacesAndNewlines)
                if t.isEmpty, required { throw Refusal(field: prefix + k, message: "\(prefix + k) 不能为空 — \(prefix + k) is empty") }
                return t.isEmpty ? nil : t
            default: throw Refusal(field: prefix + k, message: "\(prefix + k) 须为字符串 — \(prefix + k) must be a string")
            }
        }
        let no = try text("petition_no", required: true)!
        guard no.utf8.count <= 64, no.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-_".unicodeScalars.contains($0)) }) else {
            throw Refusal(field: "petition_no", message: "信访件编号只含字母、数字、- 和 _，至多 64 位 — letters, digits, - and _ only, at most 64")
        }
        let channelText = try text("channel", required: true)!
        guard let channel = Channel(rawValue: channelText) else {
            throw Refusal(field: "channel", message: "信访形式须为 \(Channel.allCases.map(\.rawValue).joined(separator: "/")) — unknown channel \"\(channelText)\"")
        }
        let content = try text("content", required: true)!
        var about: [String] = []
        switch o["about"] {
        case nil, is NSNull: break
        case let list as [Any]:
            for (i, item) in list.enumerated() {
                guard let code = item as? String, !code.isEmpty else { throw Refusal(field: "about[\(i)]", message: "about[\(i)] 须为单位代码 — an agency code") }
                about.append(code)
            }
        default: throw Refusal(field: "about", message: "about 须为单位代码数组 — a list of agency codes")
        }
        var name: String?, idNumber: String?, phone: String?, anonymous = false
        switch o["petitioner"] {
        case let p as [String: Any]:
            if let k = p.keys.sorted().first(where: { !["name", "id_number", "phone", "anonymous"].contains($0) }) {
                throw Refusal(field: "petitioner.\(k)", message: "未知字段 petitioner.\(k) — petitioner has name, id_number, phone, anonymous")
            }
            if let a = p["anonymous"] {
                guard let n = a as? NSNumber, String(cString: n.objCType) == "c" else {
                    throw Refusal(field: "petitioner.anonymous", message: "petitioner.anonymous 须为 true 或 false — must be a boolean")
                }
                anonymous = n.boolValue
            }
            name = try text("name", in: p, prefix: "petitioner.", required: !anonymous)
            idNumber = try text("id_number", in: p, prefix: "petitioner.")
            phone = try text("phone", in: p, prefix: "petitioner.")
        case nil, is NSNull:
            throw Refusal(field: "petitioner", message: "缺少 petitioner {name, id_number?, phone?} — who petitions (or {anonymous: true})")
        default: throw Refusal(field: "petitioner", message: "petitioner 须为对象 — must be an object")
        }
        var attachments: [[String: String]] = []
        switch o["attachments"] {
        case nil, is NSNull: break
        case let list as [Any]:
            for (i, item) in list.enumerated() {
                guard let a = item as? [String: Any], let url = a["url"] as? String, !url.isEmpty else {
                    throw Refusal(field: "attachments[\(i)].url", message: "附件须有 url — each attachment needs its url")
                }
                attachments.append(["url": url, "sha256": a["sha256"] as? String].compactMapValues { $0 })
            }
        default: throw Refusal(field: "attachments", message: "attachments 须为数组 [{url, sha256?}] — must be a list")
        }
        return PetitionForm(petitionNo: no, receivedAt: try text("received_at", required: true)!, channel: channel, content: content,
                            title: try text("title") ?? String(content.prefix(40)), address: try text("address"), grid: try text("grid"),
                            category: try text("category"), about: about, name: anonymous ? nil : name, idNumber: anonymous ? nil : idNumber,
                            phone: anonymous ? nil : phone, anonymous: anonymous, attachments: attachments)
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
