import Foundation
import GRDB
import MusterCore
import MusterWire

/// The holiday schedules the stored deadlines were computed on, in `meta` as
/// `{"2027":{"official":true,"days_off":["2027-01-01",…],"workdays":["2027-01-31",…]},…}`.
extension Store {
    /// Empty for a database that never recorded them (made before they were kept).
    public func appliedCalendar() throws -> [Int: YearSchedule] {
        guard let data = try pool.read({ try Data.fetchOne($0, sql: "SELECT value FROM meta WHERE key = 'calendar_applied'") }),
              let years = try JSONSerialization.jsonObject(with: data) as? [String: [String: Any]] else { return [:] }
        var out: [Int: YearSchedule] = [:]
        for (key, y) in years {
            guard let year = Int(key), let official = y["official"] as? Bool,
                  let off = y["days_off"] as? [String], let work = y["workdays"] as? [String] else { continue }
            out[year] = YearSchedule(official: official, daysOff: off.compactMap(CivilDay.init), makeUpWorkdays: work.compactMap(CivilDay.init))
        }
        return out
    }

    static func encode(_ schedules: [Int: YearSchedule]) -> [UInt8] {
        var w = JSONWriter()
        for (year, s) in schedules.sorted(by: { $0.key < $1.key }) {
            var y = JSONWriter()
            y.field("official", s.official)
            y.field("days_off", s.daysOff.map(\.description))
            y.field("workdays", s.makeUpWorkdays.map(\.description))
            w.raw(JSONWriter.Key(String(year)), y.finish())
        }
        return w.finish()
    }
}
