import Foundation
import MusterAdapterKit
import MusterConfig
import MusterWire
import WebhookDepartment

/// 公安 110 接处警 (`plugin: gongan`): the webhook's HTTP transport with this department's rules.
public struct GonganRules: DepartmentRules {
    public init() {}
}

public enum GonganDepartment {
    public static let descriptor = WebhookDepartment.descriptor(
        name: "gongan",
        summary: "公安 110 接处警: emergencies handed to the 110 dispatch system, its 警情号 kept as the dispatch's reference",
        key: "gongan", settings: [],
        rules: { (settings: PluginSettings, context: PluginDescriptor.Context) throws(ConfigErrors) -> any DepartmentRules in GonganRules() })
}
