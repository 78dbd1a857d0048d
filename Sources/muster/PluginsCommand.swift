import ArgumentParser
import MusterAdapterKit
import MusterPlugins

/// `muster plugins`: the plugins `muster adapter` can run, and what each takes under `settings:`.
struct PluginsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugins", abstract: "List the department plugins (plugin: NAME in config/adapters/*.yaml) and their settings.")

    func run() {
        for p in PluginRegistry.all {
            print("\(p.name)\n  \(p.summary)")
            if p.settings.isEmpty { print("  settings: none") } else { print("  settings:") }
            let width = (p.settings.map(\.key.count).max() ?? 0) + 2
            for s in p.settings { print("    \(s.key.padding(toLength: width, withPad: " ", startingAt: 0))\(s.meaning)") }
        }
    }
}
