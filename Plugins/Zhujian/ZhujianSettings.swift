import Foundation
import MusterConfig

/// The `zhujian:` section of a 住建 adapter's settings: where the site register (施工许可 and
/// night-work permits) is, and which complaints are about a construction site.
struct ZhujianSettings: Sendable {
    /// The department's site register: `GET sites_url?address=…&grid=…`, signed.
    var sitesURL: URL
    /// The register's HMAC secret (one line; usually the same file as the webhook's `secret_file`).
    var secret: [UInt8]
    /// Categories matched to the register (夜间施工, 扬尘, 渣土 …).
    var siteCategories: Set<String>
    /// Of those, the ones a permitted night-work window answers (解释答复) rather than enforces.
    var nightWorkCategories: Set<String>
    /// The register's local time (its dates and hours).
    var zone: TimeZone
    /// Per request to the register; past it the complaint is enforced.
    var timeout: Double

    struct File: Decodable {
        var sites_url: String
        var secret_file: String
        var site_categories: [String]?
        var night_work_categories: [String]?
        var timezone_offset: String?
        var timeout: String?
    }

    static let defaultSiteCategories = ["noise_at_night", "construction_dust"]

    static func load(_ settings: PluginSettings) throws(ConfigErrors) -> ZhujianSettings {
        let f = try settings.decode(File.self)
        var errors: [ConfigError] = []
        let url = URL(string: f.sites_url)
        if url == nil || !["http", "https"].contains(url?.scheme ?? "") || url?.host == nil {
            errors.append(settings.error(at: ["sites_url"], "\"\(f.sites_url)\" is not an http(s) URL"))
        }
        let secretPath = f.secret_file.hasPrefix("/") ? f.secret_file
            : ((settings.path as NSString).deletingLastPathComponent as NSString).appendingPathComponent(f.secret_file)
        let secret = (try? String(contentsOfFile: secretPath, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        if secret.isEmpty { errors.append(settings.error(at: ["secret_file"], "cannot read a secret from \(secretPath)")) }
        let sites = f.site_categories ?? defaultSiteCategories
        if sites.isEmpty { errors.append(settings.error(at: ["site_categories"], "name at least one category about construction sites")) }
        for c in sites where c.isEmpty || c.contains(where: \.isWhitespace) {
            errors.append(settings.error(at: ["site_categories"], "\"\(c)\" is not a category code"))
        }
        let night = f.night_work_categories ?? ["noise_at_night"].filter(sites.contains)
        for c in night where !sites.contains(c) {
            errors.append(settings.error(at: ["night_work_categories"], "\"\(c)\" is not in site_categories: only a site complaint is matched to a permit"))
        }
        var zone = TimeZone(secondsFromGMT: 8 * 3600)!
        if let o = f.timezone_offset {
            if let z = offset(o) { zone = z } else { errors.append(settings.error(at: ["timezone_offset"], "\"\(o)\" is not an offset like +08:00")) }
        }
        let timeout = f.timeout.flatMap(AdapterConfig.seconds) ?? 5
        if let t = f.timeout, AdapterConfig.seconds(t) == nil { errors.append(settings.error(at: ["timeout"], "\"\(t)\" is not a duration like 500ms, 5s")) }
        guard errors.isEmpty, let url else { throw ConfigErrors(errors: errors) }
        return ZhujianSettings(sitesURL: url, secret: Array(secret.utf8), siteCategories: Set(sites), nightWorkCategories: Set(night),
                               zone: zone, timeout: timeout)
    }

    /// "+08:00" → UTC+8.
    static func offset(_ text: String) -> TimeZone? {
        guard text.count == 6, let sign = text.first, sign == "+" || sign == "-" else { return nil }
        let p = text.dropFirst().split(separator: ":")
        guard p.count == 2, let h = Int(p[0]), let m = Int(p[1]), (0...14).contains(h), (0..<60).contains(m) else { return nil }
        return TimeZone(secondsFromGMT: (sign == "-" ? -1 : 1) * (h * 3600 + m * 60))
    }
}
