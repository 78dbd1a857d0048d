import Foundation
import MusterCore
import MusterStore
import MusterWire

/// The whistle's bodies: SUMMON, a whistle with its departments (QUERY), the 双考核 figures.
extension Messages {
    /// SUMMON: a department called to a whistle (吹哨), with where, why and by when to be on site.
    public static func summon(delivery: String, _ s: SummonRecord, _ w: WhistleRecord, grids: GridMap) -> [UInt8] {
        var out = JSONWriter(capacity: 400)
        out.field("delivery", delivery)
        out.field("whistle_id", w.whistleID)
        out.field("summon_id", s.summonID)
        out.field("agency", s.agency)
        out.field("kind", w.kind.rawValue)
        out.field("grid", w.grid)
        out.field("grid_name", grids.displayName(w.grid))
        out.field("reason", w.reason)
        out.field("case_id", w.caseID)
        out.field("blown_by", w.blownBy)
        out.field("summoned_at", s.summonedAt)
        out.field("report_by", s.reportBy)
        return out.finish()
    }

    /// A whistle with its departments (QUERY whistle / whistles).
    static func whistleJSON(_ w: WhistleRecord, grids: GridMap?, now: Date) -> [UInt8] {
        var out = JSONWriter()
        out.field("whistle_id", w.whistleID)
        out.field("grid", w.grid)
        if let grids { out.field("grid_name", grids.displayName(w.grid)) }
        out.field("kind", w.kind.rawValue)
        out.field("reason", w.reason)
        out.field("case_id", w.caseID)
        out.field("blown_by", w.blownBy)
        out.field("street", w.street)
        out.field("blown_at", w.blownAt)
        out.field("report_within", duration(ms: w.reportWithinMs))
        out.field("state", w.state.rawValue)
        out.field("state_zh", w.state.chinese)
        out.field("closed_at", w.closedAt)
        out.field("override", w.override)
        out.array("summons", w.summons.map { s in
            var d = JSONWriter()
            d.field("summon_id", s.summonID)
            d.field("agency", s.agency)
            d.field("state", s.state.rawValue)
            d.field("state_zh", s.state.chinese)
            d.field("summoned_at", s.summonedAt)
            d.field("report_by", s.reportBy)
            d.field("en_route_at", s.enRouteAt)
            d.field("on_site_at", s.onSiteAt)
            if s.onSiteAt != nil { d.field("on_time", s.onTime) }
            d.field("ended_at", s.endedAt)
            if let e = s.escalation { d.field("escalation", e) }
            d.field("note", s.note)
            if let lat = s.lat, let lon = s.lon { d.field("lat", lat); d.field("lon", lon) }
            // Seconds left to be on site (negative: late), while it is still expected.
            if s.state == .summoned || s.state == .enRoute { d.field("remaining_s", (s.reportBy.ms - now.ms) / 1000) }
            return d.finish()
        })
        return out.finish()
    }

    /// 双考核: departments on reporting on time; grids and streets on how they whistle.
    static func whistleStats(_ s: WhistleStats, grids: GridMap, into w: inout JSONWriter) {
        w.array("departments", s.departments.map { d in
            var o = JSONWriter()
            o.field("agency", d.agency)
            o.field("summoned", d.summoned)
            o.field("on_time", d.onTime)
            o.field("late", d.late)
            o.field("never", d.never)
            o.field("released", d.released)
            o.field("waiting", d.waiting)
            // No rate without a department that has come or should have: null, not 0.
            let due = d.summoned - d.waiting - d.released
            if due > 0 { o.field("on_time_rate", rate(d.onTime, due)) } else { o.null("on_time_rate") }
            if let m = d.medianToOnSiteMs { o.field("median_to_on_site_s", m / 1000) }
            return o.finish()
        })
        func places(_ list: [WhistleStats.Place]) -> [[UInt8]] {
            list.map { p in
                var o = JSONWriter()
                o.field("place", p.place)
                o.field("name", grids.displayName(p.place))
                o.field("blown", p.blown)
                o.object("by_kind") { k in for (kind, n) in p.byKind.sorted(by: { $0.key < $1.key }) { k.field(JSONWriter.Key(kind), n) } }
                o.field("stood_down", p.closed)
                if p.closed > 0 { o.field("solved_rate", rate(p.closedSolved, p.closed)) } else { o.null("solved_rate") }
                o.field("with_no_show", p.withNoShow)
                return o.finish()
            }
        }
        w.array("grids", places(s.grids))
        w.array("streets", places(s.streets(grids)))
    }
}
