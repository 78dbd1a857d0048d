import Foundation
import Logging
import Testing
@testable import MusterAdapterKit
import MusterConfig
import MusterPlugins
import MusterTesting
import MusterWire
import SimulatedDepartment

/// The plugin host: an adapter config names its plugin, whose settings are checked as strictly
/// as the rest of the config (file, line, key); the shipped simulated department, run from its
/// config by the kit, takes a case round the loop.
@Suite(.serialized) struct PluginRegistryTests {
    static func write(_ text: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("muster-plugin-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("adapter.yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static let head = "adapter: reli-plugin-1\nagency: reli\nname: 热力 test\nroles: [agency]\n"

    static func errors(_ text: String) throws -> [ConfigError] {
        let path = try write(text)
        do {
            let cfg = try AdapterConfig.load(path)
            _ = try PluginRegistry.make(cfg, configPath: path, context: .init(adapter: cfg.adapter, agency: cfg.agency, name: cfg.name,
                                                                              logger: AdapterKitTests.logger()))
            return []
        } catch {
            return error.errors
        }
    }

    @Test func aPluginsSettingsAreCheckedWithFileLineAndKey() throws {
        let typo = try Self.errors(Self.head + "plugin: simulated\nsettings:\n  sign_after: 1s\n  finsh_after: 2s\n")
        #expect(typo.map { "\($0.line ?? 0) \($0.key)" } == ["8 settings.finsh_after"] && typo.first?.message.contains("finish_after") == true, "\(typo)")
        let value = try Self.errors(Self.head + "plugin: simulated\nsettings:\n  report_after: soon\n  return_probability: 2\n")
        #expect(value.map(\.key) == ["settings.report_after", "settings.return_probability"] && value.map(\.line) == [7, 8], "\(value)")
        let unknown = try Self.errors(Self.head + "plugin: simulatd\n")
        #expect(unknown.map { "\($0.line ?? 0) \($0.key)" } == ["5 plugin"] && unknown.first?.message.contains("did you mean \"simulated\"") == true, "\(unknown)")
        let orphan = try Self.errors(Self.head + "settings:\n  sign_after: 1s\n")
        #expect(orphan.map(\.key) == ["settings"], "\(orphan)")
        let both = try Self.errors(Self.head + "plugin: simulated\ndownstream:\n  kind: simulate\n")
        #expect(both.map(\.key) == ["downstream"], "\(both)")
        #expect(try Self.errors(Self.head + "plugin: simulated\n").isEmpty, "every setting has a default")
    }

    @Test func theShippedSimulatedDepartmentTakesACaseRoundTheLoopFromItsConfig() async throws {
        let h = try BrokerHarness(heartbeat: 5, resend: 60)
        defer { h.stop() }
        let path = try Self.write(Self.head + "plugin: simulated\nqueue: acts.db\nsettings:\n  sign_after: 10ms\n  finish_after: 10ms\n")
        let cfg = try AdapterConfig.load(path)
        let plugin = try #require(try PluginRegistry.make(cfg, configPath: path, context: .init(adapter: cfg.adapter, agency: cfg.agency,
                                                                                                name: cfg.name, logger: AdapterKitTests.logger())))
        #expect(cfg.queuePath.hasSuffix("/acts.db"), "the queue beside the config")
        let adapter = PluginAdapter(PluginAdapterTests.options(h), plugin: plugin, queue: try ActQueue(path: cfg.queuePath),
                                    logger: AdapterKitTests.logger())
        adapter.start()
        defer { adapter.stop() }
        let caseID = try PluginAdapterTests.submit(h, "reg-1")
        #expect(try await AdapterKitTests.eventually(10) { try h.store.caseRecord(caseID)?.state == .finished })
        let acts = try h.store.facts(after: 0, limit: 100, caseID: caseID).map(\.type)
        #expect(acts.filter { $0 == "dispatch.acked" }.count == 1 && acts.filter { $0 == "case.resolved" }.count == 1)
        #expect(try await AdapterKitTests.eventually(5) { try adapter.queue.pending().isEmpty }, "every act answered")
    }
}
