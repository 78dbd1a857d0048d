import Foundation
import MusterConfig

/// The `gongshui:` section of a 供水 adapter's settings: where the company's shut-off notices
/// (停水通知) are, how far ahead a planned one must be published, which categories an outage takes
/// in, and when an outage still on calls for emergency supply.
struct GongshuiSettings: Sendable {
    /// The company's notice feed: `GET notices_url`, signed.
    var noticesURL: URL
    var every: Double
    var secret: [UInt8]
    var timeout: Double
    /// A planned shut-off is published at least this long before it starts (seconds): 12 h in
    /// Zhengzhou (郑州供水条例 Art. 29), 24 h nationally (城市供水条例 Art. 22, 国务院 1994).
    var noticeAhead: Double
    /// What an outage's incident takes in (停水, 水压低 …).
    var waterCategories: [String]
    /// Still on this long after it began (`24h`, as the broker reads a duration): the centre is
    /// sent NOTICE `emergency_supply` (郑州供水条例 Art. 30: 停水超过24小时 应急供水).
    var emergencyAfter: String
    /// The city's local time, for the times in messages.
    var zone: TimeZone

    static let emergencyNotice = "emergency_supply"

    struct File: Decodable {
        var notices_url: String
        var notices_every: String?
        var secret_file: String
        var timeout: String?
        var notice_ahead: String?
        var water_categories: [String]?
        var emergency_after: String?
    }

    static func load(_ settings: PluginSettings) throws(ConfigErrors) -> GongshuiSettings {
        let f = try settings.decode(File.self)
        var errors: [ConfigError] = []
        let url = URL(string: f.notices_url)
        if url == nil || !["http", "https"].contains(url?.scheme ?? "") || url?.host == nil {
            errors.append(settings.error(at: ["notices_url"], "\"\(f.notices_url)\" is not an http(s) URL"))
        }
        func duration(_ text: String?, _ key: String, default d: Double, what: String) -> Double {
            guard let text else { return d }
            guard let s = AdapterConfig.seconds(text), s > 0 else {
                errors.append(settings.error(at: [key], "\"\(text)\" is not \(what)")); return d
            }
            return s
        }
        let every = duration(f.notices_every, "notices_every", default: 30, what: "a duration like 30s, 1m")
        if every < 1 { errors.append(settings.error(at: ["notices_every"], "read the feed at most once a second")) }
        let timeout = duration(f.timeout, "timeout", default: 10, what: "a duration like 500ms, 10s")
        let ahead = duration(f.notice_ahead, "notice_ahead", default: 12 * 3600, what: "a duration like 12h (Zhengzhou) or 24h (national)")
        let dir = (settings.path as NSString).deletingLastPathComponent
        let secretPath = f.secret_file.hasPrefix("/") ? f.secret_file : (dir as NSString).appendingPathComponent(f.secret_file)
        let secret = (try? String(contentsOfFile: secretPath, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        if secret.isEmpty { errors.append(settings.error(at: ["secret_file"], "cannot read a secret from \(secretPath)")) }
        let categories = f.water_categories ?? ["water_outage"]
        if categories.isEmpty { errors.append(settings.error(at: ["water_categories"], "name at least one category an outage takes in (water_outage)")) }
        for c in categories where c.isEmpty || c.utf8.count > 64 || c.contains(where: \.isWhitespace) {
            errors.append(settings.error(at: ["water_categories"], "\"\(c)\" is not a category code"))
        }
        // Passed to the broker as it is, so in the broker's clock units: minutes or hours (not
        // `d`, which the broker moves off days off — an outage does not wait for Monday).
        let emergency = f.emergency_after ?? "24h"
        if !isClockDuration(emergency) {
            errors.append(settings.error(at: ["emergency_after"], "\"\(emergency)\" is not a duration in minutes or hours (24h, 90m)"))
        }
        guard errors.isEmpty, let url else { throw ConfigErrors(errors: errors) }
        return GongshuiSettings(noticesURL: url, every: every, secret: Array(secret.utf8), timeout: timeout, noticeAhead: ahead,
                                waterCategories: categories, emergencyAfter: emergency, zone: TimeZone(secondsFromGMT: 8 * 3600)!)
    }

    /// "24h", "90m": a positive whole number of minutes or hours.
    static func isClockDuration(_ s: String) -> Bool {
        guard let unit = s.last, unit == "h" || unit == "m", let n = Int(s.dropLast()), n > 0, !s.hasPrefix("+") else { return false }
        return true
    }

    /// 43200 → "12小时", 5400 → "90分钟".
    static func chinese(_ seconds: Double) -> String {
        let s = Int(seconds)
        if s % 3600 == 0 { return "\(s / 3600)小时" }
        if s % 60 == 0 { return "\(s / 60)分钟" }
        return "\(s)秒"
    }
}
