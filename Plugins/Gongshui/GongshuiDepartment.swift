import Foundation
import MusterAdapterKit
import MusterConfig
import WebhookDepartment

/// 供水 (`plugin: gongshui`): the webhook's HTTP transport with the water company's rules
/// (GongshuiRules) and its `gongshui:` settings section (GongshuiSettings). README.md beside it.
public enum GongshuiDepartment {
    public static let descriptor = WebhookDepartment.descriptor(
        name: "gongshui",
        summary: "供水: the water company; planned shut-offs and outages as known incidents, an outage past 24 h a notice to the centre",
        key: "gongshui",
        settings: [
            .init("notices_url", "the company's shut-off notices: GET, signed, answers {notices: [{id, kind, grids, starts_at, expected_end, reason, published_at, ended}]}"),
            .init("notices_every", "how often it is read (default 30s)"),
            .init("secret_file", "the feed's HMAC secret (usually the webhook's secret_file)"),
            .init("timeout", "per feed request (default 10s)"),
            .init("notice_ahead", "how long before a planned shut-off its notice is due (default 12h, Zhengzhou; 24h nationally)"),
            .init("water_categories", "what an outage's incident takes in (default [water_outage])"),
            .init("emergency_after", "still on this long after it began: NOTICE emergency_supply to the centre (default 24h)"),
        ],
        rules: { (settings: PluginSettings, context: PluginDescriptor.Context) throws(ConfigErrors) -> any DepartmentRules in
            GongshuiRules(try GongshuiSettings.load(settings), logger: context.logger)
        })
}
