import Foundation
import MusterAdapterKit
import MusterWire

/// What a seat does on an item's page, turned into the act it sends. Pure: the form's fields
/// in, the act (or a refusal in Chinese, nothing sent) out. The act's id is made from the item,
/// the action and the form's nonce (a random token in each rendered form), so a double click or
/// a resubmitted form is one act.
enum SeatAction: String, Sendable, CaseIterable {
    case ack, progress, resolve
    case giveBack = "return"
    case extend
    case enRoute = "en_route", onSite = "on_site"

    var zh: String {
        switch self {
        case .ack: "签收"; case .progress: "处置反馈"; case .resolve: "办结"; case .giveBack: "退单"
        case .extend: "申请延期"; case .enRoute: "出发"; case .onSite: "到场"
        }
    }

    /// The states it may be taken from, and the state it leaves the item in (nil: unchanged).
    var from: Set<Inbox.State> {
        switch self {
        case .ack: [.sent]
        case .progress, .resolve: [.acked]
        case .giveBack, .extend: [.sent, .acked]
        case .enRoute: [.summoned]
        case .onSite: [.summoned, .enRoute]
        }
    }
    var to: Inbox.State? {
        switch self {
        case .ack: .acked; case .resolve: .resolved; case .giveBack: .returned
        case .enRoute: .enRoute; case .onSite: .onSite
        case .progress, .extend: nil
        }
    }

    struct Refusal: Error, Equatable {
        var message: String
        /// The form field at fault, if one.
        var field: String?
    }

    /// The act, and a line for the item's history.
    struct Made: Sendable, Equatable {
        var act: Act
        var summary: String
    }

    static let returnReasonsZh: [(ReturnReason, String)] = [
        (.notOurJurisdiction, "不属本辖区"), (.notOurDuty, "不属本部门职责"), (.insufficientInformation, "信息不全，无法处置"),
        (.duplicate, "重复件"), (.other, "其他"),
    ]

    /// Builds the act for `item` from the form (`nonce` included), as `seat` did it.
    func make(item: Inbox.Item, form: [String: String], seat: ConsoleSettings.Seat,
              finishFields: [ConsoleSettings.FinishField]) -> Result<Made, Refusal> {
        guard let nonce = form["nonce"], nonce.count >= 8, nonce.count <= 32, nonce.allSatisfy(\.isHexDigit) else {
            return .failure(Refusal(message: "表单已失效，请刷新页面后重试", field: nil))
        }
        guard from.contains(item.state) else {
            return .failure(Refusal(message: "此件当前为「\(item.state.zh)」，不能\(zh)", field: nil))
        }
        let id = actID(item: item, nonce: nonce)
        let downstream = DownstreamRef(status: "console:\(rawValue)", ref: item.ref, update: "\(seat.login):\(nonce)")
        func text(_ key: String) -> String { (form[key] ?? "").trimmingCharacters(in: .whitespacesAndNewlines) }
        let subject = item.subject

        switch self {
        case .ack:
            let note = text("note")
            return .success(Made(act: Act.ack(id: id, dispatchID: subject, handler: seat.name, note: note.isEmpty ? nil : note).from(downstream),
                                 summary: note.isEmpty ? "签收" : "签收：\(note)"))
        case .progress:
            let note = text("note")
            guard !note.isEmpty else { return .failure(Refusal(message: "请填写处置情况", field: "note")) }
            switch Self.urls(text("photos"), field: "photos", label: "现场照片") {
            case .failure(let r): return .failure(r)
            case .success(let photos):
                return .success(Made(act: Act.progress(id: id, dispatchID: subject, note: note, attachments: photos.map { ["url": $0] }).from(downstream),
                                     summary: "处置反馈：\(note)" + (photos.isEmpty ? "" : "（照片 \(photos.count) 张）")))
            }
        case .resolve:
            var values: [(ConsoleSettings.FinishField, String)] = []
            for f in finishFields {
                let v = text("f_\(f.key)")
                if v.isEmpty {
                    if f.required { return .failure(Refusal(message: "「\(f.label)」为必填项，未办结", field: "f_\(f.key)")) }
                    continue
                }
                if f.kind == .url, !Self.isURL(v) {
                    return .failure(Refusal(message: "「\(f.label)」应为 http:// 或 https:// 开头的网址", field: "f_\(f.key)"))
                }
                values.append((f, v))
            }
            // `result` is RESOLVE's result; other texts go into the note as 标签：值; URLs are attachments.
            let texts = values.filter { $0.0.kind != .url }
            let resultKey = (texts.first { $0.0.key == "result" } ?? texts.first)?.0.key
            let result = texts.first { $0.0.key == resultKey }?.1 ?? "已办结"
            let others = texts.filter { $0.0.key != resultKey }
            let note = others.map { "\($0.0.label)：\($0.1)" }.joined(separator: "；")
            let attachments = values.filter { $0.0.kind == .url }.map { ["url": $0.1] }
            return .success(Made(act: Act.resolve(id: id, dispatchID: subject, result: result, note: note.isEmpty ? nil : note,
                                                  attachments: attachments).from(downstream),
                                 summary: "办结：\(result)"))
        case .giveBack:
            guard let reason = ReturnReason(rawValue: text("reason")) else {
                return .failure(Refusal(message: "请选择退单理由", field: "reason"))
            }
            let note = text("note")
            if reason == .other, note.isEmpty { return .failure(Refusal(message: "退单理由为「其他」时请写明说明", field: "note")) }
            let zh = Self.returnReasonsZh.first { $0.0 == reason }?.1 ?? reason.rawValue
            return .success(Made(act: Act.giveBack(id: id, dispatchID: subject, reason: reason, note: note.isEmpty ? nil : note).from(downstream),
                                 summary: "退单（\(zh)）" + (note.isEmpty ? "" : "：\(note)")))
        case .extend:
            let by = text("by")
            guard Self.isDuration(by) else {
                return .failure(Refusal(message: "延期时长应写作数字加单位：h 小时、d 天、wd 工作日、wh 工作时（如 2wd）", field: "by"))
            }
            let reason = text("reason")
            guard !reason.isEmpty else { return .failure(Refusal(message: "请填写延期理由", field: "reason")) }
            return .success(Made(act: Act.extend(id: id, dispatchID: subject, by: by, reason: reason).from(downstream),
                                 summary: "申请延期 \(by)：\(reason)"))
        case .enRoute, .onSite:
            guard let whistle = item.body["whistle_id"] as? String else { return .failure(Refusal(message: "此件不是召集", field: nil)) }
            let note = text("note")
            let status: ReportStatus = self == .enRoute ? .enRoute : .onSite
            let said = note.isEmpty ? "\(seat.name) \(zh == "出发" ? "已出发" : "已到场")" : note
            return .success(Made(act: Act.report(id: id, whistleID: whistle, status: status, note: said).from(downstream),
                                 summary: "\(zh)：\(said)"))
        }
    }

    /// The act's request id: the item, the action and the form's nonce.
    func actID(item: Inbox.Item, nonce: String) -> String { "zx-\(rawValue)-\(item.seq)-\(nonce)" }

    /// One URL a line (blank lines skipped); each http(s).
    static func urls(_ text: String, field: String, label: String) -> Result<[String], Refusal> {
        var out: [String] = []
        for line in text.split(whereSeparator: \.isNewline) {
            let u = line.trimmingCharacters(in: .whitespaces)
            if u.isEmpty { continue }
            guard isURL(u) else { return .failure(Refusal(message: "「\(label)」每行一个 http:// 或 https:// 网址：\(u)", field: field)) }
            out.append(u)
        }
        return .success(out)
    }

    static func isURL(_ s: String) -> Bool {
        guard let u = URL(string: s), let scheme = u.scheme?.lowercased(), scheme == "http" || scheme == "https", u.host?.isEmpty == false
        else { return false }
        return true
    }

    /// A MUSTER/1 duration of at least one unit: 2h, 3d, 2wd, 4wh.
    static func isDuration(_ s: String) -> Bool {
        guard let unitStart = s.firstIndex(where: { !$0.isASCII || !$0.isNumber }), unitStart != s.startIndex,
              let n = Int(s[..<unitStart]), n >= 1 else { return false }
        return ["s", "m", "h", "d", "wh", "wd"].contains(String(s[unitStart...]))
    }
}
