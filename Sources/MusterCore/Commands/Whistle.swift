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
        guard Ledger.standsForTheStreet(run.actor) else {
            throw WireError(.forbidden, "a department's supervisor (\(run.actor.agency ?? "")) does not blow the whistle: the street, the grid or the centre does")
        }
        let rules = run.rules
        guard let grid = b.grid else { throw .badField("grid", "grid is required") }
        guard let kind = b.kind else { throw .badField("kind", "kind is required: emergency, enforcement or resident_concern") }
        guard let reason = b.reason else { throw .badField("reason", "reason is required") }
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
        try Ledger.notAccused(named, on: linked)
        let agencies = named.isEmpty ? Ledger.whomToSummon(kind, grid: grid, case: linked, rules) : named
        guard !agencies.isEmpty else {
            throw .badField("summon", "name the departments to summon: \(rules.grids.displayName(grid)) is not a dedicated grid with units"
                            + (kind == .emergency ? " and no agency serves it" : ""))
        }
        let street = run.actor.roles.isDisjoint(with: [.grid, .supervisor]) ? nil : run.actor.adapter
        let w = ledger.blow(grid: Ledger.canonical(grid, in: rules.grids.names), kind: kind, reason: reason, caseID: linked?.caseID,
                            summon: agencies, withinMs: within, by: run.actor.adapter, street: street, &run)
        return .whistle(w, summoned: agencies)
    }
}

extension CaseCommand {
    public static func whistle(_ body: WhistleRequest) -> CaseCommand { CaseCommand(OnWhistle.self, body) }
}

extension Ledger {
    /// WHISTLE naming an open whistle: more departments (增派).
    fileprivate mutating func summonMore(_ id: String, _ names: [String], _ run: inout Run) throws(WireError) -> Reply {
        let w = try whistle(id, for: run.actor, may: "summon more to it")
        guard WhistleMachine.table.outcome(w.state, .summon, holds: { holds($0, w) }).row != nil else {
            throw WireError(.invalidTransition, "whistle \(id) is \(w.state.rawValue) (\(w.state.chinese))", state: w.state.rawValue)
        }
        let agencies = try Ledger.known(names, field: "summon", run.rules)
        try Ledger.notAccused(agencies, on: w.caseID.flatMap { cases[$0] })
        for (i, name) in names.enumerated() where w.summon(of: Ledger.canonical(name, in: run.rules.routing.agencies)) != nil {
            throw .badField("summon[\(i)]", "\(name) was already summoned to \(id)")
        }
        for a in agencies { summonOne(id, a, &run) }
        return .whistle(whistles[id]!, summoned: agencies)
    }
}

extension Ledger {
    /// A petition's whistle summons no agency the petition is about (信访工作条例: the accusation
    /// does not go to the accused).
    static func notAccused(_ agencies: [String], on c: CaseRecord?) throws(WireError) {
        guard let about = c?.petition?.about, let i = agencies.firstIndex(where: about.contains) else { return }
        throw WireError(.forbidden, "petition \(c!.caseID) is about \(agencies[i]): it is not summoned to it", field: "summon[\(i)]")
    }
}
