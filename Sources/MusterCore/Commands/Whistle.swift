import Foundation
import MusterWire

/// WHISTLE (吹哨): a grid worker, a street office's supervisor or the centre summons departments
/// to a place; or, naming an open whistle, summons more. Whom: those named, else the case's lead
/// and assists, else the dedicated grid's units (and, for an emergency, every agency serving the
/// grid). Each department gets a SUMMON and a clock: on site within `report_within`.
public enum OnWhistle: CaseCommandKind {
    public static let name = Command.whistle
    public static let roles: Set<Role> = [.grid, .ops, .supervisor]
    public static func needs(_ b: WhistleRequest, _ rules: Rules) -> Ledger.Needs {
        Ledger.Needs(cases: b.caseID.map { [$0] } ?? [], whistles: b.whistleID.map { [$0] } ?? [])
    }

    public static func decide(_ b: WhistleRequest, _ ledger: inout Ledger, _ run: inout Ledger.Run) throws(WireError) -> Reply {
        if let wid = b.whistleID { return try ledger.summonMore(wid, b.summon ?? [], &run) }
        let rules = run.rules
        let grid = b.grid!
        guard rules.grids.exists(grid) else { throw .badField("grid", "unknown grid \"\(grid)\"") }
        var linked: CaseRecord?
        if let id = b.caseID {
            guard let c = ledger.cases[id] else { throw WireError(.unknownCase, "no case \(id)") }
            if Ledger.isDone(c.state) {
                throw WireError(.invalidTransition, "case \(id) is \(c.state.rawValue) (\(c.state.chinese)): nobody is needed on site", state: c.state.rawValue)
            }
            linked = c
        }
        let within = try Ledger.reportWithin(b.reportWithin, rules)
        let named = try Ledger.known(b.summon ?? [], field: "summon", rules)
        let agencies = named.isEmpty ? Ledger.whomToSummon(b.kind!, grid: grid, case: linked, rules) : named
        guard !agencies.isEmpty else {
            throw .badField("summon", "name the departments to summon: \(rules.grids.displayName(grid)) is not a dedicated grid with units"
                            + (b.kind == .emergency ? " and no agency serves it" : ""))
        }
        let street = run.actor.roles.isDisjoint(with: [.grid, .supervisor]) ? nil : run.actor.adapter
        let w = ledger.blow(grid: Ledger.canonical(grid, in: rules.grids.names), kind: b.kind!, reason: b.reason!, caseID: linked?.caseID,
                            summon: agencies, withinMs: within, by: run.actor.adapter, street: street, &run)
        return .whistle(w, summoned: agencies)
    }
}

extension CaseCommand {
    public static func whistle(_ body: WhistleRequest) -> CaseCommand { CaseCommand(OnWhistle.self, body) }
}

extension Ledger {
    /// Whom a whistle summons when it names no one: the case's lead and assists; else the units
    /// of the dedicated grid it is in (专属网格); an emergency adds every agency serving the grid.
    static func whomToSummon(_ kind: WhistleKind, grid: String, case c: CaseRecord?, _ rules: Rules) -> [String] {
        if let c, let lead = c.lead { return unique([lead] + c.assists) }
        var list = rules.grids.dedicated(covering: grid).flatMap(\.units)
        if kind == .emergency { list += rules.grids.agencies(serving: grid) }
        return unique(list)
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
    private mutating func summonOne(_ id: String, _ agency: String, _ run: inout Run) {
        let w = whistles[id]!
        let s = SummonRecord(summonID: SummonRecord.id(whistle: id, agency: agency), whistleID: id, agency: agency,
                             summonedAt: run.now, reportBy: run.now.adding(ms: w.reportWithinMs))
        emit(id, .summoned(s), &run)
        run.decision.actions.append(.summon(s))
        let rules = run.rules
        schedule(id, rules.sla.ladder(.whistle, caseID: id, owner: s.summonID, agency: agency, start: s.summonedAt,
                                      deadline: s.reportBy, calendar: rules.calendar), &run)
    }

    /// WHISTLE naming an open whistle: more departments (增派).
    fileprivate mutating func summonMore(_ id: String, _ names: [String], _ run: inout Run) throws(WireError) -> Reply {
        let w = try whistle(id, for: run.actor, may: "summon more to it")
        let agencies = try Ledger.known(names, field: "summon", run.rules)
        for (i, a) in agencies.enumerated() where w.summon(of: a) != nil {
            throw .badField("summon[\(i)]", "\(a) was already summoned to \(id)")
        }
        guard WhistleMachine.table.outcome(w.state, .summon, holds: { holds($0, w) }).row != nil else {
            throw WireError(.invalidTransition, "whistle \(id) is \(w.state.rawValue) (\(w.state.chinese))", state: w.state.rawValue)
        }
        for a in agencies { summonOne(id, a, &run) }
        return .whistle(whistles[id]!, summoned: agencies)
    }

    /// The whistle, if `actor` may act on it for the whistle's side: the one that blew it, a
    /// supervisor, or the centre.
    func whistle(_ id: String, for actor: Actor, may act: String) throws(WireError) -> WhistleRecord {
        guard let w = whistles[id] else { throw WireError(.unknownWhistle, "no whistle \(id)") }
        guard actor.adapter == w.blownBy || actor.roles.contains(.ops) || actor.roles.contains(.supervisor) else {
            throw WireError(.forbidden, "whistle \(id) was blown by \(w.blownBy); only it, a supervisor or the centre may \(act)")
        }
        return w
    }

    /// 应急 mode: a case of one of the mode's `whistle_categories` accepted in its scope blows a
    /// whistle by itself, summoning whom a whistle on the case would.
    mutating func autoWhistle(_ id: String, _ run: inout Run) {
        guard let c = cases[id], mode(for: c.grid) == .emergency,
              run.rules.sla.modes[.emergency]?.whistleCategories.contains(c.category) == true else { return }
        let agencies = Ledger.whomToSummon(.emergency, grid: c.grid, case: c, run.rules)
        guard !agencies.isEmpty, let within = try? Ledger.reportWithin(nil, run.rules) else { return }
        _ = blow(grid: c.grid, kind: .emergency, reason: "应急模式自动吹哨 emergency mode: \(c.title)", caseID: id,
                 summon: agencies, withinMs: within, by: Actor.broker.adapter, street: nil, &run)
    }
}
