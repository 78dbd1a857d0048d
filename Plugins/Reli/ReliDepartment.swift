import Foundation
import MusterAdapterKit
import MusterConfig
import MusterWire
import WebhookDepartment

/// 热力 (`plugin: reli`): the webhook's HTTP transport with this department's rules.
public struct ReliRules: DepartmentRules {
    public init() {}
}

public enum ReliDepartment {
    public static let descriptor = WebhookDepartment.descriptor(
        name: "reli",
        summary: "热力: the heating company, season-aware; a finish of 暖气不热 carries a room temperature of at least 18 ℃; outages as known incidents",
        key: "reli", settings: [],
        rules: { (settings: PluginSettings, context: PluginDescriptor.Context) throws(ConfigErrors) -> any DepartmentRules in ReliRules() })
}
