import Foundation
import MusterAdapterKit
import MusterConfig
import MusterWire
import WebhookDepartment

/// 城管 数字城管 (`plugin: chengguan`): the webhook's HTTP transport with this department's rules.
public struct ChengguanRules: DepartmentRules {
    public init() {}
}

public enum ChengguanDepartment {
    public static let descriptor = WebhookDepartment.descriptor(
        name: "chengguan",
        summary: "城管 数字城管: the city-management work-order system, with 数字城管 event codes, their limits and the after-photo a finish needs",
        key: "chengguan", settings: [],
        rules: { (settings: PluginSettings, context: PluginDescriptor.Context) throws(ConfigErrors) -> any DepartmentRules in ChengguanRules() })
}
