import Foundation
import MusterWire

/// One event as the wall screen shows it: when, what (in Chinese), which case or whistle, and a
/// few words — never the reporter: a wall screen is seen by everyone in the room, so only what
/// the case object itself carries (title, place, department) is taken from the event.
public struct FeedLine: Sendable, Equatable {
    public var seq: Int64
    public var at: String
    public var type: String
    public var subject: String
    public var text: String

    public init(seq: Int64, at: String, type: String, subject: String, text: String) {
        self.seq = seq; self.at = at; self.type = type; self.subject = subject; self.text = text
    }

    /// Timers started: every dispatch starts some; the case page lists them, the wall does not.
    static let quiet: Set<String> = ["clock.scheduled"]

    /// From an EVENT's body; nil if it is not one, or one the wall leaves out (`quiet`).
    public init?(eventBody body: [UInt8], names: Names? = nil) {
        guard let e = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] else { return nil }
        self.init(event: e, names: names)
    }

    /// From an EVENT's members.
    init?(event e: [String: Any], names: Names?) {
        guard let seq = (e["seq"] as? NSNumber)?.int64Value, let type = e["type"] as? String, !Self.quiet.contains(type) else { return nil }
        self.init(seq: seq, at: e["at"] as? String ?? "", type: type, subject: e["case_id"] as? String ?? "",
                  text: Self.words(type, e["data"] as? [String: Any] ?? [:], agency: { names?.agency($0) ?? $0 }))
    }

    /// The few words after the label; departments by `agency`'s name for their code.
    static func words(_ type: String, _ d: [String: Any], agency: (String) -> String = { $0 }) -> String {
        func s(_ k: String, in o: [String: Any]? = nil) -> String? { ((o ?? d)[k] as? String).flatMap { $0.isEmpty ? nil : $0 } }
        func a(_ k: String, in o: [String: Any]? = nil) -> String? { s(k, in: o).map(agency) }
        switch type {
        case "case.accepted":
            let c = d["case"] as? [String: Any] ?? [:]
            return [s("title", in: c), s("address", in: c)].compactMap { $0 }.joined(separator: " · ")
        case "case.dispatched":
            let x = d["dispatch"] as? [String: Any] ?? [:]
            return "→ \(a("agency", in: x) ?? "")" + (s("role", in: x) == "assist" ? "（协办）" : "")
        case "case.escalated", "whistle.escalated", "incident.escalated":
            let r = d["rung"] as? [String: Any] ?? [:]
            let level = (r["level"] as? NSNumber)?.intValue ?? 0
            return [Self.rungName(level), a("agency", in: r)].compactMap { $0 }.joined(separator: " ")
        case "clock.scheduled": return ""
        case "whistle.blown": return [s("reason"), s("grid")].compactMap { $0 }.joined(separator: " · ")
        case "whistle.summoned", "whistle.released": return a("agency") ?? ""
        case "whistle.reported": return "\(a("agency") ?? "") \(s("status") == "on_site" ? "已到场" : "在途")"
        case "mode.changed": return "\(s("mode") ?? "") \(s("scope") ?? "")"
        case "case.assigned": return "→ \(a("lead") ?? "")"
        case "case.evaluated":
            return ["satisfied": "满意", "basically_satisfied": "基本满意", "dissatisfied": "不满意"][s("satisfaction") ?? ""] ?? ""
        case "adapter.health":
            let h = d["health"] as? [String: Any] ?? [:]
            return "\(s("adapter", in: h) ?? "") \(s("state", in: h) ?? "")"
        default:
            return s("handler") ?? s("reason") ?? s("result") ?? s("note") ?? ""
        }
    }

    /// 督办 ladder levels as the centre names them.
    public static func rungName(_ level: Int) -> String? {
        switch level {
        case 1: "催办"
        case 2: "督办"
        case 3: "通报"
        case let n where n > 3: "通报(\(n)级)"
        default: nil
        }
    }

    /// As a server-sent event: its id the log's seq, so a reconnecting page resumes after it.
    public var sse: String {
        var w = JSONWriter()
        w.field("seq", seq); w.field("at", at); w.field("type", type); w.field("label", EventLabels.chinese(type))
        w.field("subject", subject); w.field("text", text)
        return "id: \(seq)\nevent: muster\ndata: \(String(decoding: w.finish(), as: UTF8.self))\n\n"
    }
}
