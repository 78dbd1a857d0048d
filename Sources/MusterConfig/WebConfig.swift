import Foundation
import WebLogin

/// config/web.yaml: the centre's screen (`muster web`) — its title, and the operators who may act
/// from it (值班长, 调度员), each with the acts allowed and a password hash. Without operators
/// the screen is read-only. Decoded strictly: every problem with file, line and key.
public struct WebConfig: Sendable {
    /// What an operator may do from the screen: each an ordinary MUSTER/1 request (role ops).
    public enum Act: String, CaseIterable, Sendable {
        /// ASSIGN: 指派, 会商指派, 改派.
        case assign
        /// REJECT: 不予受理.
        case reject
        /// EXTEND from the centre: 延期审批 beyond the departments' own.
        case extend
        /// WHISTLE and STAND_DOWN: 吹哨, 撤哨.
        case whistle

        public var chinese: String {
            switch self {
            case .assign: "指派"
            case .reject: "不予受理"
            case .extend: "延期"
            case .whistle: "吹哨"
            }
        }
    }

    public struct Operator: Sendable {
        public var login: String
        public var name: String
        public var may: Set<Act>
        public var password: PasswordHash
    }

    public var title: String
    public var sessionHours: Double
    public var operators: [Operator]

    public static let empty = WebConfig(title: "城市运行中心", sessionHours: 12, operators: [])

    struct File: Decodable {
        struct Op: Decodable { var login: String; var name: String; var may: [String]; var password_hash: String }
        var title: String?
        var session_hours: Double?
        var operators: [Op]?
    }

    public func operatorNamed(_ login: String) -> Operator? { operators.first { $0.login == login } }

    public static func load(_ path: String) throws(ConfigErrors) -> WebConfig {
        let yaml = try YAMLFile(path: path)
        let f = try yaml.decode(File.self)
        var errors: [ConfigError] = []
        var ops: [Operator] = []
        let hours = f.session_hours ?? 12
        if !(0.25...72).contains(hours) { errors.append(yaml.error(at: [.name("session_hours")], "between 0.25 and 72 hours, not \(hours)")) }
        for (i, o) in (f.operators ?? []).enumerated() {
            func at(_ key: String) -> [YAMLFile.Key] { [.name("operators"), .index(i), .name(key)] }
            // The login becomes part of a MUSTER/1 adapter id (ops-screen-LOGIN): the ids' characters.
            if o.login.range(of: #"^[a-z0-9][a-z0-9_-]{0,31}$"#, options: .regularExpression) == nil {
                errors.append(yaml.error(at: at("login"), "\"\(o.login)\": lower-case letters, digits, - and _, at most 32"))
            } else if ops.contains(where: { $0.login == o.login }) {
                errors.append(yaml.error(at: at("login"), "\"\(o.login)\" is listed twice"))
            }
            var may: Set<Act> = []
            for (j, a) in o.may.enumerated() {
                if let act = Act(rawValue: a) { may.insert(act) } else {
                    errors.append(yaml.error(at: at("may") + [.index(j)], "unknown act \"\(a)\"\(Spelling.hint(a, in: Act.allCases.map(\.rawValue)))"))
                }
            }
            switch PasswordHash.parse(o.password_hash) {
            case .success(let h): ops.append(Operator(login: o.login, name: o.name, may: may, password: h))
            case .failure(let e): errors.append(yaml.error(at: at("password_hash"), e.message))
            }
        }
        if !errors.isEmpty { throw ConfigErrors(errors: errors) }
        return WebConfig(title: f.title ?? empty.title, sessionHours: hours, operators: ops)
    }
}
