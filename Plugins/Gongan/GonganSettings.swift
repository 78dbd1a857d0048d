import Foundation
import MusterConfig
import MusterWire

/// The `gongan:` section of a 公安 adapter's settings: how the 110 接处警 system is spoken to
/// beyond the webhook's transport (url, secret, statuses stay the webhook's).
struct GonganSettings: Sendable, Equatable {
    /// Who signs (签收) in the case's log when 110 takes the work order.
    var signAs: String
    /// What the work order says the hand-over is (12345–110 联动).
    var linkage: String
    /// Priorities handed over as emergencies (紧急警情: 110 dispatches a unit at once).
    var emergencyPriorities: Set<Priority>
    /// Muster's priority → the 110 system's 警情级别.
    var levels: [Priority: String]
    /// 110's status code for 非警务 (not police business): listed under `statuses.return`; such an
    /// update must say why (`note`) and is returned as `not_our_duty`.
    var nonPoliceStatus: String?

    static let defaultLevels: [Priority: String] = [.urgent: "一级", .normal: "三级", .consult: "四级"]

    struct File: Decodable {
        var sign_as: String?
        var linkage: String?
        var emergency_priority: [String]?
        var levels: [String: String]?
        var non_police_status: String?
    }

    /// The section decoded and checked: every error with file, line and key.
    static func load(_ settings: PluginSettings) throws(ConfigErrors) -> GonganSettings {
        let f = try settings.decode(File.self)
        var errors: [ConfigError] = []
        func text(_ value: String?, _ key: String, default d: String) -> String {
            guard let value else { return d }
            if value.trimmingCharacters(in: .whitespaces).isEmpty { errors.append(settings.error(at: [key], "\(key) may not be empty")) }
            return value
        }
        let signAs = text(f.sign_as, "sign_as", default: "110接处警中心")
        let linkage = text(f.linkage, "linkage", default: "12345-110")
        var emergency: Set<Priority> = []
        for (i, p) in (f.emergency_priority ?? [Priority.urgent.rawValue]).enumerated() {
            guard let priority = Priority(rawValue: p) else {
                errors.append(settings.error(at: ["emergency_priority"], "item \(i): \"\(p)\" is not a priority: one of \(Priority.allCases.map(\.rawValue).joined(separator: ", "))"))
                continue
            }
            emergency.insert(priority)
        }
        var levels = defaultLevels
        for (key, level) in (f.levels ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard let priority = Priority(rawValue: key) else {
                errors.append(settings.error(at: ["levels", key], "\"\(key)\" is not a priority: one of \(Priority.allCases.map(\.rawValue).joined(separator: ", "))"))
                continue
            }
            if level.trimmingCharacters(in: .whitespaces).isEmpty { errors.append(settings.error(at: ["levels", key], "a 警情级别 may not be empty")) }
            levels[priority] = level
        }
        var nonPolice: String?
        if let s = f.non_police_status {
            if s.isEmpty { errors.append(settings.error(at: ["non_police_status"], "non_police_status may not be empty")) }
            nonPolice = s
        }
        guard errors.isEmpty else { throw ConfigErrors(errors: errors) }
        return GonganSettings(signAs: signAs, linkage: linkage, emergencyPriorities: emergency, levels: levels, nonPoliceStatus: nonPolice)
    }
}
