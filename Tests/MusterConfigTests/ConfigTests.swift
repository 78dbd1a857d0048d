import Foundation
import Testing
@testable import MusterConfig
import MusterCore

@Suite struct ConfigTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static var shipped: URL { repo.appendingPathComponent("config") }

    /// A copy of the shipped config as TMP/config (so that ../data/keys is TMP/data/keys), with
    /// `edit` applied to one file.
    static func copy(editing file: String? = nil, _ edit: (String) -> String = { $0 }) throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("muster-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let dir = root.appendingPathComponent("config")
        try FileManager.default.copyItem(at: shipped, to: dir)
        if let file {
            let url = dir.appendingPathComponent(file)
            try edit(String(contentsOf: url, encoding: .utf8)).write(to: url, atomically: true, encoding: .utf8)
        }
        return dir
    }

    static func errors(_ dir: URL, insecure: Bool = true) -> [ConfigError] {
        do { _ = try BrokerConfig.load(dir.appendingPathComponent("muster.yaml").path, insecure: insecure); return [] } catch { return error.errors }
    }

    @Test func theShippedZhengzhouConfigLoads() throws {
        let c = try BrokerConfig.load(Self.shipped.appendingPathComponent("muster.yaml").path, insecure: true)
        #expect(c.rules.routing.agencies.keys.contains("chengguan"))
        #expect(c.rules.grids.dedicated["erqita"]?.name == "二七塔商圈")
        let districts = Set(c.rules.grids.dedicated["erqita"]!.members.map { $0.split(separator: "/").prefix(2).joined(separator: "/") })
        #expect(districts == ["zz/erqi", "zz/jinshui", "zz/guancheng"], "二七塔商圈 spans three districts")
        #expect(c.rules.routing.owners(category: "heating_not_warm", grid: "zz/erqi/jiefanglu", grids: c.rules.grids)?.lead == "reli")
        #expect(c.heartbeatMs == 5000)
        for a in ["chengguan", "gongan", "zhujian", "reli", "gongshui", "jiaotong", "shichang", "hotline12345"] {
            _ = try AdapterConfig.load(Self.shipped.appendingPathComponent("adapters/\(a).yaml").path)
        }
    }

    @Test func anUnknownAgencyIsReportedWithFileLineAndKey() throws {
        let dir = try Self.copy(editing: "routing.yaml") { $0.replacingOccurrences(of: "lead: reli", with: "lead: relii") }
        let errs = Self.errors(dir)
        let e = try #require(errs.first { $0.message.contains("relii") })
        #expect(e.file.hasSuffix("routing.yaml"))
        #expect(e.key.hasPrefix("categories[") && e.key.hasSuffix("].lead"))
        let text = try String(contentsOf: dir.appendingPathComponent("routing.yaml"), encoding: .utf8)
        let line = text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains("lead: relii") }! + 1
        #expect(e.line == line)
    }

    @Test func everyProblemIsReportedNotJustTheFirst() throws {
        let dir = try Self.copy(editing: "routing.yaml") {
            $0.replacingOccurrences(of: "lead: reli", with: "lead: nobody").replacingOccurrences(of: "lead: gongshui", with: "lead: nowhere")
        }
        let errs = Self.errors(dir)
        #expect(errs.contains { $0.message.contains("nobody") } && errs.contains { $0.message.contains("nowhere") })
    }

    @Test func aWrongTypeAndAMissingKeyAreLocated() throws {
        let dir = try Self.copy(editing: "muster.yaml") { $0.replacingOccurrences(of: "heartbeat: 5s", with: "heartbeat: [5]") }
        let e = try #require(Self.errors(dir).first)
        #expect(e.key == "broker.heartbeat" && e.line != nil)
        let dir2 = try Self.copy(editing: "grids.yaml") { $0.replacingOccurrences(of: "root: zz", with: "rooot: zz") }
        #expect(Self.errors(dir2).contains { $0.key == "root" && $0.message.contains("missing") })
    }

    @Test func badDurationsAndGridsAreNamed() throws {
        let dir = try Self.copy(editing: "sla.yaml") { $0.replacingOccurrences(of: "return_within: 1wd", with: "return_within: 1 week") }
        #expect(Self.errors(dir).contains { $0.key == "defaults.return_within" && $0.file.hasSuffix("sla.yaml") && $0.line != nil })
        let dir2 = try Self.copy(editing: "grids.yaml") { $0.replacingOccurrences(of: "grids:\n", with: "grids:\n  - path: zz/nowhere/x\n    name: 孤儿网格\n") }
        let errs = Self.errors(dir2)
        #expect(errs.contains { $0.file.hasSuffix("grids.yaml") && $0.message.contains("parent grid") }, "\(errs)")
    }

    @Test func notYAMLAtAllIsOneClearError() throws {
        let dir = try Self.copy(editing: "routing.yaml") { _ in "agencies: [unclosed\n" }
        let e = try #require(Self.errors(dir).first)
        #expect(e.file.hasSuffix("routing.yaml") && e.message.contains("YAML"))
    }
}
