import Foundation

/// A plugin's own section of its adapter's config (`settings:` in config/adapters/NAME.yaml),
/// decoded by the plugin into its own type as strictly as the rest: a misspelt or missing key is
/// an error with file, line and key path (`settings.url`).
// Unchecked: Yams' `Node` is an immutable value that Yams does not mark Sendable.
public struct PluginSettings: @unchecked Sendable {
    private let file: YAMLFile?
    /// Where it is, for messages.
    public let path: String

    init(_ file: YAMLFile?, path: String) { self.file = file; self.path = path }

    /// Settings of a plugin that needs none.
    public static let none = PluginSettings(nil, path: "")

    public var isEmpty: Bool { file == nil }

    /// The section decoded into `T`; without a section, `T` from an empty mapping (so a plugin
    /// whose settings are all optional needs none).
    public func decode<T: Decodable>(_ type: T.Type) throws(ConfigErrors) -> T {
        guard let file else {
            // No section: the type from an empty mapping (a plugin whose settings are all optional needs none).
            do { return try JSONDecoder().decode(T.self, from: Data("{}".utf8)) } catch {
                throw ConfigErrors(errors: [ConfigError(file: path, line: nil, key: "settings", message: "required: \(error)")])
            }
        }
        return try file.decode(T.self)
    }

    /// The settings without their `key` section: what a shared part (the webhook's transport)
    /// decodes, while a department's own plugin decodes `section(key)` itself.
    public func without(_ key: String) -> PluginSettings {
        PluginSettings(file?.without(key), path: path)
    }

    /// The `key` section of the settings, as settings of its own (lines and key paths still the
    /// file's); empty settings when there is none.
    public func section(_ key: String) -> PluginSettings {
        PluginSettings(file?.section(key), path: path)
    }

    /// `HOST:PORT` where a plugin listens (a console's pages, an API), or an error at `keys`.
    public func listen(_ text: String, at keys: [String], example: String) -> Result<(host: String, port: Int), ConfigError> {
        if let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port), !text[..<colon].isEmpty {
            return .success((String(text[..<colon]), port))
        }
        return .failure(error(at: keys, "\"\(text)\" is not HOST:PORT (\(example))"))
    }

    /// An error at a key of the section (`["url"]` → `settings.url`), with its line.
    public func error(at keys: [String], _ message: String) -> ConfigError {
        guard let file else { return ConfigError(file: path, line: nil, key: (["settings"] + keys).joined(separator: "."), message: message) }
        return file.error(at: keys.map { .name($0) }, message)
    }
}
