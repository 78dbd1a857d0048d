import Foundation
import MusterAdapterKit
import MusterConfig
import WebhookDepartment

/// 住建 (`plugin: zhujian`): the webhook's HTTP transport with the department's rules
/// (ZhujianRules): site complaints matched to the site register and its night-work permits.
public enum ZhujianDepartment {
    public static let descriptor = WebhookDepartment.descriptor(
        name: "zhujian",
        summary: "住建: construction-site complaints matched to the site register; inside a permitted night-work window answered with the permit (解释答复), else enforced",
        key: "zhujian",
        settings: [
            .init("sites_url", "the site register: GET ?address=…&grid=…, signed, answers {sites: [{permit, company, address, night_work}]}"),
            .init("secret_file", "the register's HMAC secret (usually the webhook's secret_file)"),
            .init("site_categories", "categories matched to the register (default [noise_at_night, construction_dust])"),
            .init("night_work_categories", "of those, answered by a permitted night-work window (default [noise_at_night])"),
            .init("timezone_offset", "the register's local time (default +08:00)"),
            .init("timeout", "per register request; past it the complaint is enforced (default 5s)"),
        ],
        rules: { (settings: PluginSettings, context: PluginDescriptor.Context) throws(ConfigErrors) -> any DepartmentRules in
            ZhujianRules(try ZhujianSettings.load(settings))
        })
}
