import Foundation

/// A JSON object POSTed to an intake API (a 12345 work order, a petition's registration), read
/// member by member: each refusal names the member by its path and says what it must be, in
/// Chinese for the clerk and English for the engineer. Unknown members are refused too: a typo
/// in a field name must not silently drop what it carried.
public struct FormReader {
    public struct Refusal: Error, Equatable {
        public var field: String
        public var message: String
        public init(field: String, message: String) { self.field = field; self.message = message }
    }

    public let object: [String: Any]
    /// The path of this object's members (`petitioner.`), "" at the top.
    public let prefix: String

    public init(_ object: [String: Any], prefix: String = "") { self.object = object; self.prefix = prefix }

    /// The body as a JSON object whose members are all `known`; `what` names it (工单, 登记表).
    public static func body(_ body: [UInt8], known: Set<String>, what: String) throws(Refusal) -> FormReader {
        guard let any = try? JSONSerialization.jsonObject(with: Data(body)), let o = any as? [String: Any] else {
            throw Refusal(field: "", message: "\(what)须为 JSON 对象 — the body is not a JSON object")
        }
        let reader = FormReader(o)
        try reader.only(known, hint: "README.md lists the members")
        return reader
    }

    /// Refuses the first member not in `known`.
    public func only(_ known: Set<String>, hint: String) throws(Refusal) {
        if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
            throw Refusal(field: prefix + unknown, message: "未知字段 \(prefix + unknown) — unknown member (\(hint))")
        }
    }

    /// A string member, trimmed; nil when absent, null or (not required) blank.
    public func text(_ k: String, required: Bool = false) throws(Refusal) -> String? {
        let path = prefix + k
        switch object[k] {
        case nil, is NSNull:
            if required { throw Refusal(field: path, message: "缺少 \(path) — \(path) is required") }
            return nil
        case let s as String:
            let t = s.trimmingCharacters(in: .whitespacesAndNewlines)
            if t.isEmpty, required { throw Refusal(field: path, message: "\(path) 不能为空 — \(path) is empty") }
            return t.isEmpty ? nil : t
        default: throw Refusal(field: path, message: "\(path) 须为字符串 — \(path) must be a string")
        }
    }

    /// A boolean member (JSON true or false, not 1 or 0); false when absent or null.
    public func flag(_ k: String) throws(Refusal) -> Bool {
        switch object[k] {
        case nil, is NSNull: return false
        case let n as NSNumber where Self.isBool(n): return n.boolValue
        default: throw Refusal(field: prefix + k, message: "\(prefix + k) 须为 true 或 false — \(prefix + k) must be a boolean")
        }
    }

    /// A number member; nil when absent or null.
    public func number(_ k: String) throws(Refusal) -> Double? {
        switch object[k] {
        case nil, is NSNull: return nil
        case let n as NSNumber where !Self.isBool(n): return n.doubleValue
        default: throw Refusal(field: prefix + k, message: "\(prefix + k) 须为数字 — \(prefix + k) must be a number")
        }
    }

    /// `[{url, sha256?}]`; empty when absent.
    public func attachments(_ k: String = "attachments") throws(Refusal) -> [[String: String]] {
        switch object[k] {
        case nil, is NSNull: return []
        case let list as [Any]:
            var out: [[String: String]] = []
            for (i, item) in list.enumerated() {
                guard let a = item as? [String: Any], let url = a["url"] as? String, !url.isEmpty else {
                    throw Refusal(field: "\(prefix + k)[\(i)].url", message: "附件须有 url — each attachment needs its url")
                }
                out.append(["url": url, "sha256": a["sha256"] as? String].compactMapValues { $0 })
            }
            return out
        default: throw Refusal(field: prefix + k, message: "\(prefix + k) 须为数组 [{url, sha256?}] — must be a list")
        }
    }

    /// JSON's true and false, not 1 and 0 (Foundation gives both as NSNumber; a boolean's type code is "c").
    public static func isBool(_ n: NSNumber) -> Bool { String(cString: n.objCType) == "c" }
}
