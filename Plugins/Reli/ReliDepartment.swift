import Foundation
import MusterAdapterKit
import MusterConfig
import WebhookDepartment

/// 热力 (`plugin: reli`): the webhook's HTTP transport with the heating company's rules
/// (ReliRules) and its `reli:` settings section (ReliSettings). README.md beside it.
public enum ReliDepartment {
    public static let descriptor = WebhookDepartment.descriptor(
        name: "reli",
        summary: "热力: the heating company, season-aware; a finish of 暖气不热 carries a room temperature of at least 18 ℃; outages as known incidents",
        key: "reli",
        settings: [
            .init("sla", "the centre's sla.yaml (relative to this file): its heating_season list is the 供暖季"),
            .init("min_room_temperature", "℃ a finish of 暖气不热 must measure (default 18)"),
            .init("heating_categories", "the company's categories; each work order says whether it is 供暖季 (default [heating_not_warm, heating_leak])"),
            .init("not_warm_categories", "暖气不热: refused out of season, finished only with room_temperature (default [heating_not_warm])"),
            .init("outage_categories", "what an outage's incident takes in (default: not_warm_categories)"),
            .init("outages_url", "the company's outage feed: GET, signed, answers {outages: [{id, grids, area?, cause, expected_restore, ended, outcome?}]}"),
            .init("outages_every", "how often it is read (default 30s)"),
            .init("secret_file", "the feed's HMAC secret (usually the webhook's secret_file)"),
            .init("timeout", "per feed request (default 10s)"),
        ],
        rules: { (settings: PluginSettings, context: PluginDescriptor.Context) throws(ConfigErrors) -> any DepartmentRules in
            ReliRules(try ReliSettings.load(settings), logger: context.logger)
        })
}
