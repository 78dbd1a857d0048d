import ArgumentParser
import Foundation
import MusterConfig
import MusterCore

struct CalendarCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calendar", abstract: "The holiday schedules deadlines are counted on (节假日安排).",
        subcommands: [Show.self])

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A year's days off and make-up working days, official (官方) or provisional (临时).")

        @Option(help: "The broker's config file.") var config = "config/muster.yaml"
        @Argument(help: "The year, e.g. 2027.") var year: Int

        func run() throws {
            let calendar: WorkCalendar
            do { calendar = try BrokerConfig.load(config, insecure: true).rules.calendar } catch { throw CLIError("\(error)") }
            let schedule: (daysOff: [CivilDay], makeUpWorkdays: [CivilDay], official: Bool)
            do { schedule = try calendar.daysOff(year: year) } catch {
                let known = StatutoryHolidays.years
                FileHandle.standardError.write(Data((
                    "\(year): 无节假日安排 no holiday schedule — no config/calendar/cn-\(year).yaml, and provisional schedules are computed only for \(known.lowerBound)–\(known.upperBound)\n"
                ).utf8))
                throw ExitCode(2)
            }
            for line in CalendarReport.lines(year: year, schedule: schedule, holidays: StatutoryHolidays.holidays(in: year)) { print(line) }
        }
    }
}

/// The text of `muster calendar show`, Chinese first, English alongside.
enum CalendarReport {
    static func lines(year: Int, schedule: (daysOff: [CivilDay], makeUpWorkdays: [CivilDay], official: Bool),
                      holidays: [StatutoryHolidays.Holiday]?) -> [String] {
        var out: [String] = []
        if schedule.official {
            out.append("\(year) 官方 official — 国务院办公厅节假日安排通知 the State Council's notice, from config/calendar/cn-\(year).yaml")
        } else {
            out.append("\(year) 临时 provisional — 按《全国年节及纪念日放假办法》推算 computed from the statutory holidays (with 补假, days off in lieu); "
                       + "国务院公布通知后以 config/calendar/cn-\(year).yaml 为准 to be replaced when the State Council publishes its notice")
        }
        out.append("放假 Days off:")
        for group in groups(schedule, holidays: holidays) { out.append("  " + pad(group.name, to: 30) + group.days) }
        out.append("调休上班 Make-up working days:")
        if schedule.makeUpWorkdays.isEmpty {
            out.append(schedule.official ? "  无 none" : "  无 none — 调休上班只由国务院通知安排 only the State Council's notice sets them")
        } else {
            out.append("  " + schedule.makeUpWorkdays.map(label).joined(separator: ", "))
        }
        return out
    }

    /// Official years: each run of consecutive days off, named by the festivals whose statutory
    /// days fall in it (the file's names are not kept in the calendar). Provisional years: each
    /// festival with its statutory days and 补假.
    static func groups(_ schedule: (daysOff: [CivilDay], makeUpWorkdays: [CivilDay], official: Bool),
                       holidays: [StatutoryHolidays.Holiday]?) -> [(name: String, days: String)] {
        func name(_ festivals: [StatutoryHolidays.Festival]) -> String {
            festivals.isEmpty ? "其他 Other" : festivals.map(\.chinese).joined(separator: "、") + " " + festivals.map(\.english).joined(separator: ", ")
        }
        guard schedule.official else {
            return (holidays ?? []).map { h in
                (name([h.festival]), ranges(h.days) + (h.inLieu.isEmpty ? "" : "; 补假 in lieu " + ranges(h.inLieu)))
            }
        }
        var runs: [[CivilDay]] = []
        for d in schedule.daysOff {
            if let last = runs.last?.last, last.adding(days: 1) == d { runs[runs.count - 1].append(d) } else { runs.append([d]) }
        }
        return runs.map { run in
            let festivals = (holidays ?? []).filter { h in h.days.contains { run.contains($0) } }.map(\.festival)
            return (name(festivals), ranges(run))
        }
    }

    /// `10-01 周四 Thu – 10-07 周三 Wed (7 天 days)`, runs of consecutive days joined with commas.
    static func ranges(_ days: [CivilDay]) -> String {
        var runs: [[CivilDay]] = []
        for d in days.sorted() {
            if let last = runs.last?.last, last.adding(days: 1) == d { runs[runs.count - 1].append(d) } else { runs.append([d]) }
        }
        return runs.map { r in
            r.count == 1 ? label(r[0]) : "\(label(r[0])) – \(label(r[r.count - 1])) (\(r.count) 天 days)"
        }.joined(separator: ", ")
    }

    /// Pads to a width in terminal columns: a CJK character takes two.
    static func pad(_ s: String, to width: Int) -> String {
        let used = s.unicodeScalars.reduce(0) { $0 + ($1.value >= 0x2E80 ? 2 : 1) }
        return s + String(repeating: " ", count: max(1, width - used))
    }

    static func label(_ d: CivilDay) -> String {
        let c = d.civil
        let zh = ["一", "二", "三", "四", "五", "六", "日"][d.weekday - 1]
        let en = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][d.weekday - 1]
        return String(format: "%02d-%02d", c.month, c.day) + " 周\(zh) \(en)"
    }
}
