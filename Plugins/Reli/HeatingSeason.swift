import Foundation
import MusterConfig
import Yams

/// One heating season (供暖季) as config/sla.yaml's `heating_season:` lists it: calendar days
/// `from`…`to`, both inclusive, in the city's local calendar. Zhengzhou's is 11-15 to 3-15, often
/// extended by decree — so the list is per year, and the broker's deadlines read the same list.
struct HeatingSeason: Sendable, Equatable {
    struct Day: Sendable, Equatable, Comparable {
        var year: Int, month: Int, day: Int
        static func < (a: Day, b: Day) -> Bool { (a.year, a.month, a.day) < (b.year, b.month, b.day) }
        var text: String { String(format: "%04d-%02d-%02d", year, month, day) }

        /// "2026-11-15" → a day; nil for anything else (2026-02-30 included).
        init?(_ text: String) {
            let p = text.split(separator: "-")
            guard p.count == 3, p[0].count == 4, p[1].count == 2, p[2].count == 2,
                  let y = Int(p[0]), let m = Int(p[1]), let d = Int(p[2]), (1...12).contains(m), (1...31).contains(d) else { return nil }
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(secondsFromGMT: 0)!
            guard let date = calendar.date(from: DateComponents(year: y, month: m, day: d)),
                  calendar.component(.day, from: date) == d else { return nil }
            self.init(year: y, month: m, day: d)
        }

        init(year: Int, month: Int, day: Int) { self.year = year; self.month = month; self.day = day }

        /// The local day `moment` falls on in `zone`.
        init(_ moment: Date, in zone: TimeZone) {
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = zone
            let c = calendar.dateComponents([.year, .month, .day], from: moment)
            self.init(year: c.year ?? 0, month: c.month ?? 0, day: c.day ?? 0)
        }
    }

    var from: Day
    var to: Day

    func contains(_ day: Day) -> Bool { from <= day && day <= to }

    /// "2026-11-15至2027-03-15", as the refusal and the work order say it.
    var text: String { "\(from.text)至\(to.text)" }
    var json: [String: Any] { ["from": from.text, "to": to.text] }
}

/// The seasons of sla.yaml, and which one a day is in (or which is next, or last).
struct HeatingSeasons: Sendable, Equatable {
    var seasons: [HeatingSeason]

    func season(of day: HeatingSeason.Day) -> HeatingSeason? { seasons.first { $0.contains(day) } }
    /// The first season that begins after `day` (the one a refusal out of season points to).
    func next(after day: HeatingSeason.Day) -> HeatingSeason? { seasons.filter { $0.from > day }.min { $0.from < $1.from } }
    /// The last season that ended before `day`.
    func last(before day: HeatingSeason.Day) -> HeatingSeason? { seasons.filter { $0.to < day }.max { $0.to < $1.to } }

    /// The `heating_season:` list of the sla.yaml at `path`, or every problem with file, line and
    /// key. Only this key is read, with Yams directly: MusterConfig's SLALoader checks the whole
    /// file against routing.yaml and grids.yaml, which a department's adapter does not have (its
    /// host may not even hold the centre's config) — and that loader is internal to MusterConfig.
    /// The broker reads the same list for its `season: heating` deadlines, so the two agree.
    static func load(_ path: String) -> Result<HeatingSeasons, ConfigErrors> {
        func fail(_ line: Int?, _ key: String, _ message: String) -> Result<HeatingSeasons, ConfigErrors> {
            .failure(ConfigErrors(errors: [ConfigError(file: path, line: line, key: key, message: message)]))
        }
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            return fail(nil, "", "cannot read the SLA file: \(error.localizedDescription)")
        }
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch {
            return fail(nil, "", "not YAML: \(error)")
        }
        guard let mapping = root?.mapping else { return fail(1, "", "the SLA file is not a mapping") }
        let keyLine = mapping.keys.first { $0.string == "heating_season" }?.mark?.line
        guard let node = mapping["heating_season"] else {
            return fail(nil, "heating_season", "sla.yaml lists no heating_season: the heating plugin cannot tell 供暖季 from the rest of the year")
        }
        guard let list = node.sequence, !list.isEmpty else {
            return fail(keyLine, "heating_season", "heating_season is a list of {from: YYYY-MM-DD, to: YYYY-MM-DD}, at least one")
        }
        var errors: [ConfigError] = []
        var seasons: [HeatingSeason] = []
        for (i, item) in list.enumerated() {
            let key = "heating_season[\(i)]"
            guard let m = item.mapping else {
                errors.append(ConfigError(file: path, line: item.mark?.line, key: key, message: "a season is {from: YYYY-MM-DD, to: YYYY-MM-DD}"))
                continue
            }
            for k in m.keys.compactMap(\.string) where k != "from" && k != "to" {
                errors.append(ConfigError(file: path, line: m.keys.first { $0.string == k }?.mark?.line ?? item.mark?.line,
                                          key: "\(key).\(k)", message: "unknown key \(k): a season has from and to"))
            }
            var days: [HeatingSeason.Day] = []
            for k in ["from", "to"] {
                guard let value = m[k], let day = value.string.flatMap(HeatingSeason.Day.init) else {
                    errors.append(ConfigError(file: path, line: m[k]?.mark?.line ?? item.mark?.line, key: "\(key).\(k)",
                                              message: "\(k) must be a date YYYY-MM-DD"))
                    continue
                }
                days.append(day)
            }
            guard days.count == 2 else { continue }
            guard days[0] <= days[1] else {
                errors.append(ConfigError(file: path, line: item.mark?.line, key: key, message: "from \(days[0].text) is after to \(days[1].text)"))
                continue
            }
            seasons.append(HeatingSeason(from: days[0], to: days[1]))
        }
        guard errors.isEmpty else { return .failure(ConfigErrors(errors: errors)) }
        return .success(HeatingSeasons(seasons: seasons))
    }
}
