import MusterAdapterKit
import MusterConfig
import ChengguanDepartment
import ConsoleDepartment
import GonganDepartment
import HotlineIntake
import PetitionOffice
import GongshuiDepartment
import ReliDepartment
import SimulatedDepartment
import WebhookDepartment
import ZhujianDepartment

/// Every plugin `muster adapter` can run, by the name adapter configs give (`plugin: NAME`).
/// Adding one: a target under Plugins/NAME with its own `path:` in Package.swift, a dependency
/// of this target, and a line here (Plugins/README.md).
public enum PluginRegistry {
    public static let all: [PluginDescriptor] = [
        SimulatedDepartment.descriptor,
        WebhookDepartment.descriptor,
        ChengguanDepartment.descriptor,
        GonganDepartment.descriptor,
        ZhujianDepartment.descriptor,
        ReliDepartment.descriptor,
        GongshuiDepartment.descriptor,
        ConsoleDepartment.descriptor,
        HotlineIntake.descriptor,
        PetitionOffice.descriptor,
    ]

    public static func named(_ name: String) -> PluginDescriptor? { all.first { $0.name == name } }

    /// The plugin an adapter config names, made from its settings: errors with file, line and key.
    public static func make(_ cfg: AdapterConfig, configPath: String, context: PluginDescriptor.Context) throws(ConfigErrors) -> (any DepartmentPlugin)? {
        guard let name = cfg.plugin else { return nil }
        guard let descriptor = named(name) else {
            let names = all.map(\.name)
            throw ConfigErrors(errors: [ConfigError(file: configPath, line: cfg.pluginLine, key: "plugin",
                                                    message: "unknown plugin \"\(name)\"\(Spelling.hint(name, in: names)); muster plugins lists them")])
        }
        return try descriptor.make(cfg.settings, context)
    }
}
