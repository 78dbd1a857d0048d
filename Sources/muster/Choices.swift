import Foundation
import MusterConfig
import MusterCore
import MusterWire

/// The values an enumerated option takes: each a wire code and the names an operator may type
/// instead (`--state 已办结` ≡ `--state finished`). An unknown value is an error listing them all.
struct Choices {
    struct Choice {
        var code: String
        /// The first is the one listed; the others are accepted too.
        var names: [String]
    }

    var option: String
    var choices: [Choice]

    /// The wire code for what was typed: a code (any case) or one of its names.
    func resolve(_ value: String) throws -> String {
        let typed = value.trimmingCharacters(in: .whitespaces)
        let folded = typed.lowercased()
        if let c = choices.first(where: { $0.code.lowercased() == folded }) { return c.code }
        if let c = choices.first(where: { $0.names.contains { $0.lowercased() == folded } }) { return c.code }
        throw CLIFailure(.usage, "unknown \(option) \"\(value)\"; valid values (code or name):\n" + listing)
    }

    func resolve(_ value: String?) throws -> String? { try value.map { try resolve($0) } }

    /// The listed name of a code, or "" when there is none.
    func name(of code: String) -> String { choices.first { $0.code == code }?.names.first ?? "" }

    var listing: String {
        let width = (choices.map(\.code.count).max() ?? 0) + 2
        return choices.map { "  " + $0.code.padding(toLength: width, withPad: " ", startingAt: 0) + ($0.names.first ?? "") }
            .joined(separator: "\n")
    }
}

extension Choices {
    /// Case states as QUERY `cases` takes them (`new` is never stored). 已办结 and 办结 both work.
    static let states = Choices(option: "--state", choices: CaseState.allCases.filter { $0 != .new }.map { s in
        let zh = s.chinese
        return Choice(code: s.rawValue, names: zh.hasPrefix("已") ? [zh, String(zh.dropFirst())] : [zh])
    })

    /// The wire has no Chinese names for sources: these are the CLI's.
    static let sources = Choices(option: "--source", choices: Source.allCases.map { s in
        switch s {
        case .hotline12345: Choice(code: s.rawValue, names: ["12345热线", "12345", "热线"])
        case .petition: Choice(code: s.rawValue, names: ["信访"])
        case .gridPatrol: Choice(code: s.rawValue, names: ["网格员", "网格巡查"])
        case .citizenApp: Choice(code: s.rawValue, names: ["市民App", "随手拍"])
        case .inspector: Choice(code: s.rawValue, names: ["监督员", "巡查员"])
        case .camera: Choice(code: s.rawValue, names: ["视频监控", "摄像头"])
        case .sensor: Choice(code: s.rawValue, names: ["物联感知", "传感器"])
        }
    })

    static let priorities = Choices(option: "--priority", choices: Priority.allCases.map { p in
        switch p {
        case .urgent: Choice(code: p.rawValue, names: ["紧急"])
        case .normal: Choice(code: p.rawValue, names: ["一般", "普通"])
        case .consult: Choice(code: p.rawValue, names: ["咨询"])
        }
    })

    static let modes = Choices(option: "mode", choices: ManagementMode.allCases.map { m in
        switch m {
        case .normal: Choice(code: m.rawValue, names: ["平时"])
        case .holiday: Choice(code: m.rawValue, names: ["节假日"])
        case .majorEvent: Choice(code: m.rawValue, names: ["重大活动"])
        case .emergency: Choice(code: m.rawValue, names: ["应急"])
        }
    })

    static let satisfactions = Choices(option: "--satisfaction", choices: Satisfaction.allCases.map { s in
        switch s {
        case .satisfied: Choice(code: s.rawValue, names: ["满意"])
        case .basicallySatisfied: Choice(code: s.rawValue, names: ["基本满意"])
        case .dissatisfied: Choice(code: s.rawValue, names: ["不满意"])
        }
    })

    /// Agencies of routing.yaml: code, the Chinese part of its name (`热力`), or the whole name.
    static func agencies(_ routing: Routing, option: String) -> Choices {
        Choices(option: option, choices: routing.agencies.values.sorted { $0.code < $1.code }.map { a in
            let zh = a.name.split(separator: " ").first.map(String.init) ?? a.name
            return Choice(code: a.code, names: zh == a.name ? [a.name] : [zh, a.name])
        })
    }

    /// Categories of routing.yaml in file order: code or name (`暖气不热`).
    static func categories(_ routing: Routing) -> Choices {
        Choices(option: "--category", choices: routing.keywordOrder.compactMap { routing.categories[$0] }.map {
            Choice(code: $0.code, names: [$0.name])
        })
    }
}

/// The broker's routing (agencies, categories), read from its config for names and checks.
struct RoutingSource {
    enum Kind { case agency, category }
    var config: String

    /// The codes for what was typed. Without the broker's config (a workstation with only the
    /// key files) codes pass unchecked, with a note; names need the config.
    func resolve(_ values: [String], option: String, _ kind: Kind) throws -> [String] {
        guard !values.isEmpty else { return [] }
        guard FileManager.default.fileExists(atPath: config) else {
            if let name = values.first(where: { !$0.allSatisfy(\.isASCII) }) {
                throw CLIFailure(.usage, "\(option) \(name): names come from the broker's config, and there is none at \(config); give --config PATH (its muster.yaml), or the code")
            }
            FileHandle.standardError.write(Data("note: \(option) \(values.joined(separator: ", ")) not checked: no broker config at \(config) (give --config)\n".utf8))
            return values
        }
        let routing: Routing
        do { routing = try BrokerConfig.load(config, insecure: true).rules.routing } catch {
            throw CLIFailure(.other, "cannot read agencies and categories from \(config):\n\(error)")
        }
        let choices = kind == .agency ? Choices.agencies(routing, option: option) : Choices.categories(routing)
        return try values.map { try choices.resolve($0) }
    }

    func resolve(_ value: String?, option: String, _ kind: Kind) throws -> String? {
        try value.map { try resolve([$0], option: option, kind)[0] }
    }
}
