import Foundation
import MusterCore
import MusterWire

/// config/sla.yaml → `SLAPolicy`, every problem located by file, line and key.
enum SLALoader {
    static func load(_ path: String, routing: Routing, grids: GridMap) throws(ConfigErrors) -> (SLAPolicy, calendarFolder: String) {
        let yaml = try YAMLFile(path: path)
        let f = try yaml.decode(SLAFile.self)
        var errors: [ConfigError] = []
        func period(_ text: String?, _ keys: [YAMLFile.Key]) -> Period? {
            guard let text else { return nil }
            guard let p = Period(text) else {
                errors.append(yaml.error(at: keys, "\"\(text)\" is not a duration (30s, 15m, 2h, 5d, 4wh, 5wd)")); return nil
            }
            return p
        }
        /// The windows set at `keys` (the file's flat `*_within` keys).
        func windows(_ set: SLAFile.Windows, _ keys: [YAMLFile.Key], defaults: Bool = false) -> SLAPolicy.Windows {
            var w: SLAPolicy.Windows = [:]
            for clock in ClockKind.allCases {
                if clock == .whistle, !defaults, set[clock] != nil {
                    errors.append(yaml.error(at: keys + [.name("whistle_within")], "whistle_within is set under defaults only (a whistle has no category or mode)"))
                    continue
                }
                if let p = period(set[clock], keys + [.name("\(clock.rawValue)_within")]) { w[clock] = p }
            }
            return w
        }
        func day(_ s: String, _ keys: [YAMLFile.Key]) -> CivilDay? {
            guard let d = CivilDay(s) else { errors.append(yaml.error(at: keys, "\"\(s)\" is not a date YYYY-MM-DD")); return nil }
            return d
        }
        func check<T: RawRepresentable & CaseIterable>(_ values: [String]?, _ keys: [YAMLFile.Key], _ type: T.Type, _ what: String) -> Set<String>?
        where T.RawValue == String {
            guard let values else { return nil }
            for (i, v) in values.enumerated() where T(rawValue: v) == nil {
                errors.append(yaml.error(at: keys + [.index(i)], "unknown \(what) \"\(v)\"\(Spelling.hint(v, in: T.allCases.map(\.rawValue)))"))
            }
            return Set(values)
        }

        /// A rule's stages: at least two, named once each, each with a window of its own.
        func stages(_ list: [SLAFile.Stage], _ keys: [YAMLFile.Key]) -> [SLAPolicy.Stage] {
            if list.count < 2 { errors.append(yaml.error(at: keys, "milestones are the stages of a staged limit: two or more")) }
            var seen: Set<String> = []
            return list.enumerated().compactMap { i, s in
                let name = s.name.trimmingCharacters(in: .whitespaces)
                if name.isEmpty { errors.append(yaml.error(at: keys + [.index(i), .name("name")], "a stage needs a name")) }
                if !seen.insert(name).inserted { errors.append(yaml.error(at: keys + [.index(i), .name("name")], "stage \"\(name)\" is named twice")) }
                guard let p = period(s.within, keys + [.index(i), .name("within")]) else { return nil }
                if p.amount == 0 { errors.append(yaml.error(at: keys + [.index(i), .name("within")], "a stage needs a window longer than 0")) }
                return SLAPolicy.Stage(name: name, within: p)
            }
        }

        var defaults = windows(f.defaults, [.name("defaults")], defaults: true)
        // 报到 on site within 30 minutes (Pinggu / Beijing 2018) unless the city says otherwise: in
        // clock time, as a WHISTLE's report_within (1s…24h); a whistle is not a case's rule or mode.
        if let w = defaults[.whistle], !(1...86_400).contains(w.seconds ?? 0) || w.unit == .d {
            errors.append(yaml.error(at: [.name("defaults"), .name("whistle_within")], "\"\(w)\" is not a clock time between 1s and 24h (30m, 1h)"))
        }
        if defaults[.whistle] == nil { defaults[.whistle] = Period(30, .m) }
        // A petition's statutory periods (信访工作条例) hold unless the file sets its own.
        for (clock, period) in SLAPolicy.statutoryPetitionWindows where defaults[clock] == nil { defaults[clock] = period }
        // A value that was given but is wrong has its own error already.
        for clock in ClockKind.allCases where clock != .incident && clock != .milestone && !ClockKind.petition.contains(clock)
            && defaults[clock] == nil && f.defaults[clock] == nil {
            errors.append(yaml.error(at: [.name("defaults")], "defaults must set \(clock.rawValue)_within"))
        }
        var rules: [SLAPolicy.Rule] = []
        for (i, entry) in (f.rules ?? []).enumerated() {
            let r = entry.body
            let base: [YAMLFile.Key] = [.name("rules"), .index(i)]
            for (j, c) in (r.category?.values ?? []).enumerated()
            where !routing.categories.keys.contains(where: { SLAPolicy.glob(c, $0) }) {
                errors.append(yaml.error(at: base + [.name("category"), .index(j)], "\"\(c)\" matches no category in routing.yaml"))
            }
            for (j, g) in (r.grid?.values ?? []).enumerated() where !grids.exists(g) {
                errors.append(yaml.error(at: base + [.name("grid"), .index(j)], "unknown grid \"\(g)\""))
            }
            let priorities = check(r.priority?.values, base + [.name("priority")], Priority.self, "priority")
            let sources = check(r.source?.values, base + [.name("source")], Source.self, "source")
            let modes = check(r.mode?.values, base + [.name("mode")], ManagementMode.self, "mode")
            var season: SLAPolicy.Rule.Season?
            if let s = r.season {
                season = SLAPolicy.Rule.Season(rawValue: s)
                if season == nil { errors.append(yaml.error(at: base + [.name("season")], "season is heating or off_season")) }
            }
            let w = windows(entry.windows, base)
            let stages = r.milestones.map { list in stages(list, base + [.name("milestones")]) }
            if w.isEmpty && stages == nil { errors.append(yaml.error(at: base, "the rule sets no *_within and no milestones")) }
            rules.append(SLAPolicy.Rule(
                name: r.name, categories: r.category?.values, priorities: priorities.map { Set($0.compactMap(Priority.init(rawValue:))) },
                sources: sources.map { Set($0.compactMap(Source.init(rawValue:))) },
                modes: modes.map { Set($0.compactMap(ManagementMode.init(rawValue:))) }, season: season, grids: r.grid?.values, windows: w,
                milestones: stages))
        }
        var modes: [ManagementMode: SLAPolicy.ModeChange] = [:]
        for (name, entry) in f.modes ?? [:] {
            let m = entry.body
            let base: [YAMLFile.Key] = [.name("modes"), .name(name)]
            guard let mode = ManagementMode(rawValue: name) else {
                errors.append(yaml.error(at: base, "unknown mode \"\(name)\"\(Spelling.hint(name, in: ManagementMode.allCases.map(\.rawValue)))")); continue
            }
            if let s = m.scale, !(0.01...1).contains(s) { errors.append(yaml.error(at: base + [.name("scale")], "scale must be in (0, 1]: modes tighten")) }
            for (j, c) in (m.whistle_categories ?? []).enumerated() where routing.categories[c] == nil {
                errors.append(yaml.error(at: base + [.name("whistle_categories"), .index(j)],
                                         "unknown category \"\(c)\"\(Spelling.hint(c, in: routing.categories.keys.sorted()))"))
            }
            modes[mode] = SLAPolicy.ModeChange(scale: m.scale, caps: windows(entry.windows, base), whistleCategories: m.whistle_categories ?? [])
        }
        var ladders: [ClockKind: [SLAPolicy.Rung]] = [:]
        for (name, rungs) in f.ladders ?? [:] {
            let base: [YAMLFile.Key] = [.name("ladders"), .name(name)]
            guard let clock = ClockKind(rawValue: name) else {
                errors.append(yaml.error(at: base, "unknown clock \"\(name)\"\(Spelling.hint(name, in: ClockKind.allCases.map(\.rawValue)))")); continue
            }
            // A whistle's rungs may also tell the street that blew it and the district it is in.
            let recipients = Role.allCases.map(\.rawValue) + (clock == .whistle ? ["street", "district"] : [])
            ladders[clock] = rungs.enumerated().compactMap { j, r in
                for (k, role) in r.to.enumerated() where !recipients.contains(role) {
                    errors.append(yaml.error(at: base + [.index(j), .name("to"), .index(k)],
                                             "unknown \(clock == .whistle ? "recipient" : "role") \"\(role)\"\(Spelling.hint(role, in: recipients))"))
                }
                let keys = base + [.index(j), .name("at")]
                let at: SLAPolicy.Rung.At
                if r.at.hasSuffix("%"), let n = Int(r.at.dropLast()), (1...1000).contains(n) {
                    at = .percent(n)
                } else if r.at.hasPrefix("+"), let p = Period(String(r.at.dropFirst())) {
                    at = .afterDeadline(p)
                } else if r.at.hasPrefix("-"), let p = Period(String(r.at.dropFirst())), let s = p.seconds {
                    at = .beforeDeadline(seconds: Int(s))
                } else {
                    errors.append(yaml.error(at: keys, "\"\(r.at)\" is neither N% of the window, +DURATION after the deadline nor -DURATION (s, m, h, d) before it")); return nil
                }
                return SLAPolicy.Rung(at: at, notice: r.notice, to: r.to, level: r.level)
            }
        }
        var heating: [ClosedRange<CivilDay>] = []
        for (i, s) in (f.heating_season ?? []).enumerated() {
            let k: [YAMLFile.Key] = [.name("heating_season"), .index(i)]
            if let a = day(s.from, k + [.name("from")]), let b = day(s.to, k + [.name("to")]) {
                if a <= b { heating.append(a...b) } else { errors.append(yaml.error(at: k, "from is after to")) }
            }
        }
        var ext = SLAPolicy.Extensions(autoMaxCount: 1, autoMaxBy: Period(5, .wd), maxTotal: Period(30, .d))
        if let e = f.extensions {
            ext.autoMaxCount = e.auto_approve.max_count
            ext.autoMaxBy = period(e.auto_approve.max_by, [.name("extensions"), .name("auto_approve"), .name("max_by")]) ?? ext.autoMaxBy
            ext.maxTotal = period(e.max_total, [.name("extensions"), .name("max_total")]) ?? ext.maxTotal
        }
        guard errors.isEmpty else { throw ConfigErrors(errors: errors) }
        let folder = f.calendar ?? "calendar"
        let dir = (path as NSString).deletingLastPathComponent
        return (SLAPolicy(defaults: defaults, rules: rules, modes: modes, heatingSeasons: heating, ladders: ladders, extensions: ext),
                folder.hasPrefix("/") ? folder : (dir as NSString).appendingPathComponent(folder))
    }
}
