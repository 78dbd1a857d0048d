import Foundation
import MusterCore

/// Reads every `cn-YYYY.yaml` in the calendar folder into one `WorkCalendar`.
enum CalendarLoader {
    static func load(folder: String) throws(ConfigErrors) -> WorkCalendar {
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
            .filter { $0.hasPrefix("cn-") && $0.hasSuffix(".yaml") }.sorted()
        guard !files.isEmpty else {
            throw ConfigErrors(errors: [ConfigError(file: folder, line: nil, key: "", message: "no holiday schedule (cn-YYYY.yaml) in this folder")])
        }
        var errors: [ConfigError] = []
        var years: Set<Int> = [], off: Set<CivilDay> = [], work: Set<CivilDay> = []
        var seasons: [WorkCalendar.Season] = []
        for name in files {
            let path = (folder as NSString).appendingPathComponent(name)
            let yaml: YAMLFile, f: CalendarFile
            do { yaml = try YAMLFile(path: path); f = try yaml.decode(CalendarFile.self) } catch { errors.append(contentsOf: error.errors); continue }
            if name != "cn-\(f.year).yaml" { errors.append(yaml.error(at: [.name("year")], "year \(f.year) does not match the file name \(name)")) }
            years.insert(f.year)
            func day(_ s: String, _ keys: [YAMLFile.Key]) -> CivilDay? {
                guard let d = CivilDay(s) else { errors.append(yaml.error(at: keys, "\"\(s)\" is not a date YYYY-MM-DD")); return nil }
                if d.year != f.year { errors.append(yaml.error(at: keys, "\(s) is not in \(f.year)")) }
                return d
            }
            for (i, h) in f.holidays.enumerated() {
                let base: [YAMLFile.Key] = [.name("holidays"), .index(i)]
                if let a = day(h.days_off.from, base + [.name("days_off"), .name("from")]), let b = day(h.days_off.to, base + [.name("days_off"), .name("to")]) {
                    if a > b { errors.append(yaml.error(at: base + [.name("days_off")], "from is after to")) }
                    else { for o in a.ordinal...b.ordinal { off.insert(CivilDay(ordinal: o)) } }
                }
                for (j, w) in (h.workdays ?? []).enumerated() {
                    guard let d = day(w, base + [.name("workdays"), .index(j)]) else { continue }
                    if d.weekday < 6 { errors.append(yaml.error(at: base + [.name("workdays"), .index(j)], "\(w) is a weekday; make-up working days (调休) are weekend days")) }
                    work.insert(d)
                }
            }
            if seasons.isEmpty {
                for (i, s) in (f.working_hours ?? []).enumerated() {
                    let base: [YAMLFile.Key] = [.name("working_hours"), .index(i)]
                    let from = monthDay(s.from), to = monthDay(s.to)
                    if from == nil { errors.append(yaml.error(at: base + [.name("from")], "\"\(s.from)\" is not MM-DD")) }
                    if to == nil { errors.append(yaml.error(at: base + [.name("to")], "\"\(s.to)\" is not MM-DD")) }
                    var hours: [Range<Int>] = []
                    for (j, text) in s.hours.enumerated() {
                        guard let r = interval(text) else {
                            errors.append(yaml.error(at: base + [.name("hours"), .index(j)], "\"\(text)\" is not HH:MM-HH:MM")); continue
                        }
                        hours.append(r)
                    }
                    if let from, let to { seasons.append(.init(name: s.season, from: from, to: to, hours: hours)) }
                }
            }
        }
        if seasons.isEmpty, errors.isEmpty {
            errors.append(ConfigError(file: folder, line: nil, key: "working_hours", message: "no office hours (working_hours) in any schedule"))
        }
        guard errors.isEmpty else { throw ConfigErrors(errors: errors) }
        return WorkCalendar(years: years, daysOff: off, makeUpWorkdays: work, seasons: seasons)
    }

    static func monthDay(_ s: String) -> (Int, Int)? {
        let p = s.split(separator: "-")
        guard p.count == 2, let m = Int(p[0]), let d = Int(p[1]), (1...12).contains(m), (1...31).contains(d) else { return nil }
        return (m, d)
    }

    static func interval(_ s: String) -> Range<Int>? {
        let p = s.split(separator: "-")
        func minutes(_ t: Substring) -> Int? {
            let hm = t.split(separator: ":")
            guard hm.count == 2, let h = Int(hm[0]), let m = Int(hm[1]), (0...24).contains(h), (0...59).contains(m) else { return nil }
            return h * 60 + m
        }
        guard p.count == 2, let a = minutes(p[0]), let b = minutes(p[1]), a < b else { return nil }
        return a..<b
    }
}
