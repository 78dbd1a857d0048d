import Foundation
import MusterAdapterKit
import MusterConfig
import MusterWire
import WebhookDepartment

/// 住建 (`plugin: zhujian`): the webhook's HTTP transport with this department's rules.
public struct ZhujianRules: DepartmentRules {
    public init() {}
}

public enum ZhujianDepartment {
    public static let descriptor = WebhookDepartment.descriptor(
        name: "zhujian",
        summary: "住建: construction-site complaints matched to the site register and its permitted night-work windows",
        key: "zhujian", settings: [],
        rules: { (settings: PluginSettings, context: PluginDescriptor.Context) throws(ConfigErrors) -> any DepartmentRules in ZhujianRules() })
}
