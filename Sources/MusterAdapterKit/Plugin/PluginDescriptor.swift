import Logging
import MusterConfig

/// A plugin in the registry (Plugins/Registry): its name as adapter configs write it
/// (`plugin: simulated`), what it is, what its `settings:` take, and how to make one from them.
/// `make` checks the settings: `muster check-config` calls it too, so a mistake is found before
/// the adapter starts, with file, line and key.
public struct PluginDescriptor: Sendable {
    public struct Setting: Sendable {
        public var key: String
        public var meaning: String
        public init(_ key: String, _ meaning: String) { self.key = key; self.meaning = meaning }
    }

    /// What a plugin is made for: its adapter's identity.
    public struct Context: Sendable {
        public var adapter: String
        public var agency: String?
        public var name: String
        public var logger: Logger
        public init(adapter: String, agency: String?, name: String, logger: Logger) {
            self.adapter = adapter; self.agency = agency; self.name = name; self.logger = logger
        }
    }

    public var name: String
    public var summary: String
    public var settings: [Setting]
    public var make: @Sendable (PluginSettings, Context) throws(ConfigErrors) -> any DepartmentPlugin

    public init(name: String, summary: String, settings: [Setting],
                make: @escaping @Sendable (PluginSettings, Context) throws(ConfigErrors) -> any DepartmentPlugin) {
        self.name = name; self.summary = summary; self.settings = settings; self.make = make
    }
}
