import Foundation
import MusterAdapterKit
import MusterConfig
import WebhookDepartment

/// 城管 数字城管 (`plugin: chengguan`): the webhook's HTTP transport with this department's rules
/// (ChengguanRules) and its `chengguan:` settings section (ChengguanSettings). README.md beside it.
public enum ChengguanDepartment {
    public static let descriptor = WebhookDepartment.descriptor(
        name: "chengguan",
        summary: "城管 数字城管: the city-management work-order system, with 数字城管 event codes, their limits and the after-photo a finish needs",
        key: "chengguan",
        settings: [
            .init("codes", "category → its 数字城管 class: {code: \"0501\" (大类+小类), kind: event|component, major: 大类名, minor: 小类名, filing: 立案条件, limit: 处置时限 (4wh, 7wd), closing: 结案条件, after_photo: true, stages: [{name, limit}]}"),
        ],
        rules: { (settings: PluginSettings, context: PluginDescriptor.Context) throws(ConfigErrors) -> any DepartmentRules in
            ChengguanRules(classes: try ChengguanSettings.classes(settings))
        })
}
