import Foundation
import MusterConfig

/// The `reli:` section of a 热力 adapter's settings: where the heating seasons are (the centre's
/// sla.yaml), the room temperature a finish of 暖气不热 needs, which categories are the company's,
/// and where its outage feed is.
struct ReliSettings: Sendable {
    /// The sla.yaml the seasons were read from (for messages).
    var slaPath: String
    var seasons: HeatingSeasons
    /// 入户实测室温 a finish of 暖气不热 must reach, ℃.
    var minRoomTemperature: Double
    /// The company's categories: each work order of one says whether it is 供暖季.
    var heatingCategories: [String]
    /// 暖气不热: refused out of season; finished only with a measured room temperature ≥ the minimum.
    var notWarmCategories: Set<String>
    /// What an outage's incident takes in: the reports an outage causes (暖气不热), not a leak,
    /// which is a fault in its own right that someone must go and fix.
    var outageCategories: [String]
    /// The company's outage feed, if it has one.
    var outages: Feed?
    /// The city's local calendar (the seasons' days, the times in messages).
    var zone: TimeZone

    struct Feed: Sendable {
        var url: URL
        var every: Double
        var secret: [UInt8]
        var timeout: Double
    }

    /// Readings outside this are a typo or a broken thermometer, not a room (℃).
    static let plausibleRoomTemperature = 0.0...40.0
    static let defaultHeatingCategories = ["heating_not_warm", "heating_leak"]

    struct File: Decodable {
        var sla: String
        var min_room_temperature: Double?
        var heating_categories: [String]?
        var not_warm_categories: [String]?
        var outage_categories: [String]?
        var outages_url: String?
        var outages_every: String?
        var secret_file: String?
        var timeout: String?
    }

    static func load(_ settings: PluginSettings) throws(ConfigErrors) -> ReliSettings {
        let f = try settings.decode(File.self)
        var errors: [ConfigError] = []
        let dir = (settings.path as NSString).deletingLastPathComponent
        func resolve(_ p: String) -> String { p.hasPrefix("/") ? p : (dir as NSString).appendingPathComponent(p) }

        let slaPath = resolve(f.sla)
        var seasons = HeatingSeasons(seasons: [])
        if !FileManager.default.isReadableFile(atPath: slaPath) {
            errors.append(settings.error(at: ["sla"], "cannot read \(slaPath): the centre's sla.yaml, whose heating_season lists the 供暖季"))
        } else {
            switch HeatingSeasons.load(slaPath) {
            case .success(let s): seasons = s
            case .failure(let e): errors += e.errors
            }
        }
        let minimum = f.min_room_temperature ?? 18
        if !(10...30).contains(minimum) {
            errors.append(settings.error(at: ["min_room_temperature"], "\(minimum) is not a room temperature standard in ℃ (18 in Zhengzhou; 10–30)"))
        }
        func categories(_ list: [String]?, _ key: String, default d: [String]) -> [String] {
            let list = list ?? d
            for c in list where c.isEmpty || c.utf8.count > 64 || c.contains(where: \.isWhitespace) {
                errors.append(settings.error(at: [key], "\"\(c)\" is not a category code"))
            }
            return list
        }
        let heating = categories(f.heating_categories, "heating_categories", default: defaultHeatingCategories)
        if heating.isEmpty { errors.append(settings.error(at: ["heating_categories"], "name at least one of the company's categories")) }
        let notWarm = categories(f.not_warm_categories, "not_warm_categories", default: ["heating_not_warm"].filter(heating.contains))
        let outage = categories(f.outage_categories, "outage_categories", default: notWarm.filter(heating.contains))
        for (key, list) in [("not_warm_categories", notWarm), ("outage_categories", outage)] {
            for c in list where !heating.contains(c) {
                errors.append(settings.error(at: [key], "\"\(c)\" is not in heating_categories"))
            }
        }

        var feed: Feed?
        if let u = f.outages_url {
            let url = URL(string: u)
            if url == nil || !["http", "https"].contains(url?.scheme ?? "") || url?.host == nil {
                errors.append(settings.error(at: ["outages_url"], "\"\(u)\" is not an http(s) URL"))
            }
            // (An outage list emptied by a bad not_warm_categories has its error there already.)
            if outage.isEmpty, f.outage_categories != nil || notWarm.isEmpty { errors.append(settings.error(at: ["outage_categories"], "an outage feed needs the categories its incidents take in")) }
            let every = f.outages_every.flatMap(AdapterConfig.seconds) ?? 30
            if let e = f.outages_every, AdapterConfig.seconds(e).map({ $0 >= 1 }) != true {
                errors.append(settings.error(at: ["outages_every"], "\"\(e)\" is not a duration of at least 1s (30s, 1m)"))
            }
            let timeout = f.timeout.flatMap(AdapterConfig.seconds) ?? 10
            if let t = f.timeout, AdapterConfig.seconds(t).map({ $0 > 0 }) != true {
                errors.append(settings.error(at: ["timeout"], "\"\(t)\" is not a duration like 500ms, 10s"))
            }
            var secret = ""
            if let s = f.secret_file {
                secret = (try? String(contentsOfFile: resolve(s), encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
                if secret.isEmpty { errors.append(settings.error(at: ["secret_file"], "cannot read a secret from \(resolve(s))")) }
            } else {
                errors.append(settings.error(at: ["secret_file"], "the outage feed is signed: name its HMAC secret file (usually the webhook's secret_file)"))
            }
            if let url { feed = Feed(url: url, every: every, secret: Array(secret.utf8), timeout: timeout) }
        } else {
            for (key, given) in [("outages_every", f.outages_every != nil), ("secret_file", f.secret_file != nil), ("timeout", f.timeout != nil)] where given {
                errors.append(settings.error(at: [key], "\(key) belongs to the outage feed: set outages_url too, or leave it out"))
            }
        }
        guard errors.isEmpty else { throw ConfigErrors(errors: errors) }
        return ReliSettings(slaPath: slaPath, seasons: seasons, minRoomTemperature: minimum, heatingCategories: heating,
                            notWarmCategories: Set(notWarm), outageCategories: outage, outages: feed,
                            zone: TimeZone(secondsFromGMT: 8 * 3600)!)
    }
}
