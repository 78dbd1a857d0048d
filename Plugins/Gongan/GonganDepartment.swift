import Foundation
import MusterAdapterKit
import MusterConfig
import WebhookDepartment

/// 公安 110 接处警 (`plugin: gongan`): the webhook's HTTP transport to the 110 system, with the
/// police's rules (GonganRules) and its settings section `gongan:` (GonganSettings). README.md.
public enum GonganDepartment {
    public static let descriptor = WebhookDepartment.descriptor(
        name: "gongan",
        summary: "公安 110 接处警 (12345–110 联动): emergencies handed to the 110 system, signed for with its 警情号, 非警务 returned with the reason",
        key: "gongan",
        settings: [
            .init("sign_as", "who signs in the log when 110 answers its 警情号 (default 110接处警中心)"),
            .init("linkage", "the hand-over named in the work order (default 12345-110)"),
            .init("emergency_priority", "priorities sent as emergencies, emergency: true (default [urgent])"),
            .init("levels", "priority → 110 警情级别 (default urgent 一级, normal 三级, consult 四级)"),
            .init("non_police_status", "110's code for 非警务; listed under statuses.return, needs a note, returned as not_our_duty"),
        ],
        rules: { (settings: PluginSettings, context: PluginDescriptor.Context) throws(ConfigErrors) -> any DepartmentRules in
            GonganRules(try GonganSettings.load(settings))
        })
}
