import Foundation
import MusterWire

/// Blowing a whistle, as WHISTLE and 应急 mode both do: whom it summons, each department's
/// summons and clock, and who may act on a whistle for its side.
extension Ledger {
    /// Whom a whistle summons when it names no one: the case's lead and assists; else the units
    /// of the dedicated grid it is in (专属网格); an emergency adds every agency serving the grid.
    /// Never the agencies a petition is about: the accusation does not go to the accused.
    static func whomToSummon(_ kind: WhistleKind, grid: String, case c: CaseRecord?, _ rules: Rules) -> [String] {
        let about = c?.petition?.about ?? []
        if let c, let lead = c.lead { return unique([lead] + c.assists).filter { !about.contains($0) } }
        var list = rules.grids.dedicated(covering: grid).flatMap(\.units)
        if kind == .emergency { list += rules.grids.agencies(serving: grid) }
        return unique(list).filter { !about.contains($0) }
    }

    static func unique(_ list: [String]) -> [String] {
        var seen = Set<String>()
        return list.filter { seen.insert($0).inserted }
    }

    /// Agencies named on the wire, each known to routing.yaml (the config's own strings).
    static func known(_ list: [String], field: String, _ rules: Rules) throws(WireError) -> [String] {
        for (i, a) in list.enumerated() where rules.routing.agencies[a] == nil {
            throw .badField("\(field)[\(i)]", "unknown agency \"\(a)\"; agencies: \(rules.routing.agencies.keys.sorted().joined(separator: ", "))")
        }
        return unique(list.map { canonical($0, in: rules.routing.agencies) })
    }

    /// `report_within` (clock time, 1s…24h), or sla.yaml's `whistle_within` (30m by default).
    static func reportWithin(_ text: String?, _ rules: Rules) throws(WireError) -> Int64 {
        guard let text else { return Int64((rules.sla.defaults[.whistle]?.seconds ?? 1800) * 1000) }
        guard let p = Period(text), let s = p.seconds, p.unit != .d, (1...86_400).contains(s) else {
            throw .badField("report_within", "\"\(text)\" is not a clock time between 1s and 24h (for example 30m, 1h)")
        }
        return Int64(s * 1000)
    }

    /// Blows a whistle: its record, then each department's summons and clock.
    mutating func blow(grid: String, kind: WhistleKind, reason: String, caseID: String?, summon agencies: [String], withinMs: Int64,
                       by blower: String, street: String?, _ run: inout Run) -> WhistleRecord {
        let id = ids.nextWhistle()
        let w = WhistleRecord(whistleID: id, grid: grid, kind: kind, reason: reason, caseID: caseID, blownBy: blower, street: street,
                              blownAt: run.now, reportWithinMs: withinMs)
        emit(id, .whistleBlown(w), &run)
        for a in agencies { summonOne(id, a, &run) }
        return whistles[id]!
    }

    /// One department summoned: its SUMMON and the `whistle` ladder until it is on site.
    mutating func summonOne(_ id: String, _ agency: String, _ run: inout Run) {
        let w = whistles[id]!
        let s = SummonRecord(summonID: SummonRecord.id(whistle: id, agency: agency), whistleID: id, agency: agency,
                             summonedAt: run.now, reportBy: run.now.adding(ms: w.reportWithinMs))
        emit(id, .summoned(s), &run)
        run.decision.actions.append(.summon(s))
        let rules = run.rules
        schedule(id, rules.sla.ladder(.whistle, caseID: id, owner: s.summonID, agency: agency, start: s.summonedAt,
                                      deadline: s.reportBy, calendar: rules.calendar), &run)
    }

    /// The whistle, if `actor` may act on it for the whistle's side: the one that blew it, a
    /// supervisor, or the centre.
    func whistle(_ id: String, for actor: Actor, may act: String) throws(WireError) -> WhistleRecord {
        guard let w = whistles[id] else { throw WireError(.unknownWhistle, "no whistle \(id)") }
        guard actor.adapter == w.blownBy || actor.roles.contains(.ops) || (actor.roles.contains(.supervisor) && actor.agency == nil) else {
            throw WireError(.forbidden, "whistle \(id) was blown by \(w.blownBy); only it, a street's or district's supervisor or the centre may \(act)")
        }
        return w
    }

    /// Who may whistle: a grid worker, the centre, or a supervisor of a street or district. A
    /// department's own supervisor (a supervisor key naming an agency) is on the summoned side:
    /// it may not release its department from a whistle, nor stand one down.
    static func standsForTheStreet(_ actor: Actor) -> Bool {
        actor.roles.contains(.grid) || actor.roles.contains(.ops) || actor.agency == nil
    }

    /// 应急 mode: a case of one of the mode's `whistle_categories` accepted in its scope blows a
    /// whistle by itself, summoning whom a whistle on the case would.
    mutating func autoWhistle(_ id: String, _ run: inout Run) {
        guard let c = cases[id], c.petition == nil, mode(for: c.grid) == .emergency,
              run.rules.sla.modes[.emergency]?.whistleCategories.contains(c.category) == true else { return }
        let agencies = Ledger.whomToSummon(.emergency, grid: c.grid, case: c, run.rules)
        guard !agencies.isEmpty, let within = try? Ledger.reportWithin(nil, run.rules) else { return }
        _ = blow(grid: c.grid, kind: .emergency, reason: "应急模式自动吹哨 emergency mode: \(c.title)", caseID: id,
                 summon: agencies, withinMs: within, by: Actor.broker.adapter, street: nil, &run)
    }
}
