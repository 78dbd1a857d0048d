import Foundation
import MusterAdapterKit
import MusterConfig
import MusterWire
import WebhookDepartment

/// 供水 (`plugin: gongshui`): the webhook's HTTP transport with this department's rules.
public struct GongshuiRules: DepartmentRules {
    public init() {}
}

public enum GongshuiDepartment {
    public static let descriptor = WebhookDepartment.descriptor(
        name: "gongshui",
        summary: "供水: the water company; planned shut-offs and outages as known incidents, an outage past 24 h a notice to the centre",
        key: "gongshui", settings: [],
        rules: { (settings: PluginSettings, context: PluginDescriptor.Context) throws(ConfigErrors) -> any DepartmentRules in GongshuiRules() })
}
