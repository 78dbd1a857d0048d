import Foundation
import Testing
@testable import MusterCore
import MusterWire

/// 吹哨报到 in the core, with an injected `now`: who is summoned, each department's way to the
/// site, the ladder while it is not there, 事不完、人不撤, and 应急 mode whistling by itself.
@Suite struct WhistleTests {
    static let street = Actor(adapter: "jiefanglu-street", roles: [.grid])

    /// Blows a whistle and returns its id.
    static func blow(_ d: inout Driver, _ body: [String: Any], by actor: Actor = street) -> String {
        guard case .whistle(let w, _) = d.ok(Fixtures.whistle(body), by: actor).reply else { fatalError("no whistle") }
        return w.whistleID
    }

    static var plain: [String: Any] { ["grid": "zz/erqi/jiefanglu", "reason": "路面塌陷，多部门到场", "kind": "enforcement",
                                       "summon": ["chengguan", "gongan"]] }

    static func summonState(_ d: Driver, _ w: String, _ agency: String) -> SummonState? {
        d.ledger.whistles[w]?.summon(of: agency)?.state
    }

    @Test func aWhistleSummonsEachDepartmentWithItsClock() throws {
        var d = Driver()
        let decision = d.ok(Fixtures.whistle(Self.plain), by: Self.street)
        #expect(decision.facts.map(\.type) == ["whistle.blown", "whistle.summoned", "clock.scheduled", "whistle.summoned", "clock.scheduled"])
        let summons = decision.actions.compactMap { if case .summon(let s) = $0 { s } else { nil } }
        #expect(summons.map(\.agency) == ["chengguan", "gongan"])
        let w = try #require(d.ledger.whistles["W0000000001"])
        #expect(w.state == .open && w.blownBy == Self.street.adapter && w.street == Self.street.adapter && w.reportWithinMs == 1_800_000, "default 30 min")
        let s = try #require(w.summon(of: "chengguan"))
        #expect(s.summonID == "W0000000001/chengguan" && s.reportBy == s.summonedAt.adding(ms: 1_800_000))
        let rungs = d.ledger.timers.rungs(of: s.summonID).sorted { $0.rung < $1.rung }
        let offsets: [Int64] = rungs.map { $0.due.ms - s.summonedAt.ms }
        #expect(offsets == [1_200_000, 1_800_000, 3_600_000], "催办 20, 督办 30, 通报 60 min")
        #expect(rungs.allSatisfy { $0.caseID == w.whistleID && $0.clock == .whistle && $0.agency == "chengguan" })
        #expect(rungs.map(\.to) == [["agency"], ["agency", "supervisor", "street"], ["district", "ops"]])
    }

    @Test func reportingOnSiteStopsTheClockAndStandingDownEndsEveryDepartment() {
        var d = Driver()
        let w = Self.blow(&d, Self.plain)
        let cg = Fixtures.agency("chengguan")
        guard case .reported(_, _, .enRoute, nil) = d.ok(Fixtures.report(w, "en_route"), by: cg).reply else { Issue.record("en_route"); return }
        #expect(d.ledger.timers.rungs(of: "\(w)/chengguan").count == 3, "still not on site: the clock runs")
        guard case .reported(_, "chengguan", .onSite, true) = d.ok(Fixtures.report(w, "on_site"), by: cg).reply else { Issue.record("on_site"); return }
        #expect(d.ledger.timers.rungs(of: "\(w)/chengguan").isEmpty)
        #expect(d.ledger.summon("\(w)/chengguan")?.onTime == true)
        let down = d.ok(Fixtures.standDown(w), by: Self.street)
        #expect(down.facts.map(\.type) == ["whistle.stood_down"])
        #expect(down.actions == [.withdraw(dispatchID: "\(w)/chengguan"), .withdraw(dispatchID: "\(w)/gongan")])
        #expect(d.ledger.whistles[w]?.state == .closed)
        #expect(Self.summonState(d, w, "chengguan") == .stoodDown && Self.summonState(d, w, "gongan") == .stoodDown)
        #expect(d.ledger.timers.rungs(of: "\(w)/gongan").isEmpty, "gongan never came; its rungs stop with the whistle")
        #expect(d.ledger.summon("\(w)/gongan")?.endedAt != nil && d.ledger.summon("\(w)/gongan")?.onSiteAt == nil)
    }

    @Test func whoIsSummonedWhenTheWhistleNamesNoOne() throws {
        var d = Driver()
        // On a case: its lead and assists.
        let c = d.newCase(Fixtures.submit("road_collapse", grid: "zz/erqi/jiefanglu", title: "路面塌陷"))
        guard case .whistle(_, let onCase) = d.ok(Fixtures.whistle(["grid": "zz/erqi/jiefanglu", "reason": "塌陷", "kind": "enforcement",
                                                                     "case_id": c]), by: Self.street).reply else { Issue.record("no whistle"); return }
        #expect(onCase == ["zhujian", "gongan"])
        // In a dedicated grid: its units; an emergency adds every agency serving the grid.
        guard case .whistle(_, let units) = d.ok(Fixtures.whistle(["grid": "zz/erqi/dehuajie", "reason": "商圈秩序", "kind": "resident_concern"]),
                                                 by: Self.street).reply else { return }
        #expect(units == ["chengguan", "gongan"])
        guard case .whistle(_, let emergency) = d.ok(Fixtures.whistle(["grid": "zz/erqi/dehuajie", "reason": "人群聚集", "kind": "emergency"]),
                                                     by: Self.street).reply else { return }
        #expect(emergency == ["chengguan", "gongan", "zhujian"], "units, then the agencies serving 二七区 (reli serves 金水区 only)")
        guard case .whistle(_, let byCode) = d.ok(Fixtures.whistle(["grid": "erqita", "reason": "商圈", "kind": "emergency"]), by: Self.street).reply
        else { return }
        #expect(byCode == ["chengguan", "gongan", "reli", "zhujian"], "a dedicated code: its units and who serves any member")
        // Nobody to summon: a precise refusal, nothing changed.
        let before = d.ledger
        guard case .failure(let e) = d.run(Fixtures.whistle(["grid": "zz/guancheng", "reason": "x", "kind": "enforcement"]), by: Self.street)
        else { Issue.record("accepted a whistle that summons no one"); return }
        #expect(e.code == .badField && e.field == "summon")
        #expect(d.ledger == before)
    }

    @Test func standingDownWaitsForTheCaseUnlessTheCentreOverrides() {
        var d = Driver()
        let c = d.newCase(Fixtures.submit("road_collapse", title: "路面塌陷"))
        let w = Self.blow(&d, ["grid": "zz/erqi/jiefanglu", "reason": "塌陷", "kind": "emergency", "case_id": c])
        var before = d.ledger
        guard case .failure(let e) = d.run(Fixtures.standDown(w), by: Self.street) else { Issue.record("stood down an open case"); return }
        #expect(e.code == .invalidTransition && e.state == "dispatched" && e.message.contains("事不完、人不撤"))
        #expect(d.ledger == before)
        guard case .failure(let f) = d.run(Fixtures.standDown(w, override: "险情已排除"), by: Self.street) else { Issue.record("grid overrode"); return }
        #expect(f.code == .forbidden)
        #expect(d.ledger == before)
        // Finished: it may stand down.
        let lead = d.lead(c)!
        d.ok(Fixtures.ack(lead.dispatchID), by: Fixtures.agency("zhujian"))
        before = d.ledger
        #expect((try? d.run(Fixtures.standDown(w), by: Self.street).get()) == nil, "handling is still unfinished")
        #expect(d.ledger == before)
        d.ok(Fixtures.resolve(lead.dispatchID), by: Fixtures.agency("zhujian"))
        d.ok(Fixtures.standDown(w), by: Self.street)
        #expect(d.ledger.whistles[w]?.state == .closed && d.ledger.whistles[w]?.override == nil)
        // The centre may stand another down at once, with its reason kept.
        let c2 = d.newCase(Fixtures.submit("road_collapse", title: "路面塌陷"))
        let w2 = Self.blow(&d, ["grid": "zz/erqi/jiefanglu", "reason": "塌陷", "kind": "emergency", "case_id": c2])
        d.ok(Fixtures.standDown(w2, override: "险情已排除，转常规处置"), by: Fixtures.ops)
        #expect(d.ledger.whistles[w2]?.state == .closed && d.ledger.whistles[w2]?.override == "险情已排除，转常规处置")
    }

    @Test func eachRungFiresOnceAndNoneOnceOnSite() {
        var d = Driver()
        let w = Self.blow(&d, Self.plain)
        let s = d.ledger.summon("\(w)/gongan")!
        d.now = s.reportBy
        d.ok(Fixtures.report(w, "on_site"), by: Fixtures.agency("chengguan"))
        let remind = "\(w)/gongan/whistle/0"
        #expect(d.ledger.fire(remind, now: s.summonedAt.adding(ms: 19 * 60_000)).facts.isEmpty, "not yet due")
        let fired = d.ledger.fire(remind, now: s.summonedAt.adding(ms: 20 * 60_000))
        #expect(fired.facts.map(\.type) == ["whistle.escalated"] && fired.facts[0].caseID == w)
        #expect(fired.actions.count == 1)
        #expect(d.ledger.fire(remind, now: s.reportBy).facts.isEmpty, "never twice")
        #expect(d.ledger.summon(s.summonID)?.escalation == 1)
        #expect(d.ledger.fire("\(w)/chengguan/whistle/1", now: s.reportBy).facts.isEmpty, "chengguan is on site: no 督办")
        d.ok(Fixtures.standDown(w, agency: "gongan"), by: Self.street)
        #expect(Self.summonState(d, w, "gongan") == .released)
        #expect(d.ledger.fire("\(w)/gongan/whistle/1", now: s.reportBy).facts.isEmpty, "released: its clock stopped")
        #expect(d.ledger.whistles[w]?.state == .open, "releasing one department leaves the whistle open")
    }

    @Test func emergencyModeWhistlesItsCategoriesByThemselves() {
        var d = Driver()
        let normal = d.ok(Fixtures.submit("road_collapse", title: "路面塌陷"), by: Fixtures.hotline)
        #expect(!normal.facts.contains { $0.type == "whistle.blown" }, "平时: no whistle")
        d.ok(Fixtures.mode("emergency", scope: "zz/erqi"), by: Fixtures.ops)
        let other = d.ok(Fixtures.submit("street_vending", address: "解放路1号"), by: Fixtures.hotline)
        #expect(!other.facts.contains { $0.type == "whistle.blown" }, "not one of the mode's whistle categories")
        let outside = d.ok(Fixtures.submit("road_collapse", grid: "zz/jinshui/renminlu", title: "路面塌陷"), by: Fixtures.hotline)
        #expect(!outside.facts.contains { $0.type == "whistle.blown" }, "outside the mode's scope")
        let urgent = d.ok(Fixtures.submit("road_collapse", title: "路面塌陷", ref: "em-1"), by: Fixtures.hotline)
        guard case .accepted(let c, _, _, _) = urgent.reply else { Issue.record("not accepted"); return }
        #expect(urgent.facts.map(\.type).filter { $0.hasPrefix("whistle.") } == ["whistle.blown", "whistle.summoned", "whistle.summoned"])
        let w = d.ledger.whistles.values.first { $0.caseID == c }
        #expect(w?.kind == .emergency && w?.blownBy == "broker" && w?.street == nil && w?.summons.map(\.agency) == ["zhujian", "gongan"])
        #expect(urgent.actions.filter { if case .summon = $0 { true } else { false } }.count == 2)
    }

    @Test func moreDepartmentsJoinAnOpenWhistleOnce() {
        var d = Driver()
        let w = Self.blow(&d, Self.plain)
        d.ok(Fixtures.whistle(["whistle_id": w, "summon": ["zhujian"]]), by: Self.street)
        #expect(d.ledger.whistles[w]?.summons.map(\.agency) == ["chengguan", "gongan", "zhujian"])
        let before = d.ledger
        for (command, actor, code, field) in [
            (Fixtures.whistle(["whistle_id": w, "summon": ["zhujian"]]), Self.street, ErrorCode.badField, "summon[0]"),
            (Fixtures.whistle(["whistle_id": w, "summon": ["reli"]]), Actor(adapter: "other-street", roles: [.grid]), .forbidden, nil),
            (Fixtures.whistle(["whistle_id": "W0000000099", "summon": ["reli"]]), Self.street, .unknownWhistle, nil),
        ] as [(CaseCommand, Actor, ErrorCode, String?)] {
            guard case .failure(let e) = d.run(command, by: actor) else { Issue.record("accepted"); continue }
            #expect(e.code == code && e.field == field, "\(e)")
        }
        #expect(d.ledger == before)
        d.ok(Fixtures.standDown(w), by: Fixtures.ops)
        guard case .failure(let closed) = d.run(Fixtures.whistle(["whistle_id": w, "summon": ["reli"]]), by: Self.street) else { return }
        #expect(closed.code == .invalidTransition && closed.state == "closed")
    }

    @Test func badInputIsRefusedPreciselyAndChangesNothing() {
        var d = Driver()
        let c = d.newCase()
        let w = Self.blow(&d, Self.plain)
        d.ok(Fixtures.report(w, "on_site"), by: Fixtures.agency("gongan"))
        let before = d.ledger
        let cases: [(CaseCommand, Actor, ErrorCode, String?)] = [
            (Fixtures.whistle(["grid": "zz/erqi/jiefanglu", "reason": "x", "kind": "enforcement", "summon": ["gongann"]]), Self.street, .badField, "summon[0]"),
            (Fixtures.whistle(["grid": "zz/atlantis", "reason": "x", "kind": "enforcement", "summon": ["gongan"]]), Self.street, .badField, "grid"),
            (Fixtures.whistle(["grid": "zz", "reason": "x", "kind": "enforcement", "summon": ["gongan"], "report_within": "2d"]), Self.street, .badField, "report_within"),
            (Fixtures.whistle(["grid": "zz", "reason": "x", "kind": "enforcement", "summon": ["gongan"], "case_id": "C0000009999"]), Self.street, .unknownCase, nil),
            (Fixtures.report(w, "on_site"), Fixtures.agency("zhujian"), .forbidden, nil),
            (Fixtures.report("W0000000077", "on_site"), Fixtures.agency("gongan"), .unknownWhistle, nil),
            (Fixtures.report(w, "en_route"), Fixtures.agency("gongan"), .invalidTransition, nil),
            (Fixtures.standDown(w), Actor(adapter: "dehuajie-street", roles: [.grid]), .forbidden, nil),
            (Fixtures.standDown(w, agency: "reli"), Self.street, .badField, "agency"),
            // A department's own supervisor is on the summoned side: it neither lets its department go nor whistles.
            (Fixtures.standDown(w, agency: "chengguan"), Actor(adapter: "cg-sup", roles: [.supervisor], agency: "chengguan"), .forbidden, nil),
            (Fixtures.whistle(Self.plain), Actor(adapter: "cg-sup", roles: [.supervisor], agency: "chengguan"), .forbidden, nil),
        ]
        for (command, actor, code, field) in cases {
            guard case .failure(let e) = d.run(command, by: actor) else { Issue.record("accepted \(command.name)"); continue }
            #expect(e.code == code && e.field == field, "\(command.name): \(e)")
        }
        #expect(d.ledger == before)
        _ = c
        // A street's or district's supervisor (no agency) may.
        d.ok(Fixtures.standDown(w, agency: "chengguan"), by: Actor(adapter: "erqi-district", roles: [.supervisor]))
    }

    /// Every department state × every act a peer can cause: the outcome is the table's, a refusal
    /// changes nothing, and replaying the facts gives the same whistles.
    @Test func everyActInEveryDepartmentState() {
        let acts: [(SummonMachine.Trigger, (String) -> (CaseCommand, Actor))] = [
            (.enRoute, { (Fixtures.report($0, "en_route"), Fixtures.agency("chengguan")) }),
            (.onSite, { (Fixtures.report($0, "on_site"), Fixtures.agency("chengguan")) }),
            (.release, { (Fixtures.standDown($0, agency: "chengguan"), WhistleTests.street) }),
            (.standDown, { (Fixtures.standDown($0), WhistleTests.street) }),
        ]
        let reach: [SummonState: [(String) -> (CaseCommand, Actor)]] = [
            .summoned: [], .enRoute: [acts[0].1], .onSite: [acts[1].1], .released: [acts[2].1], .stoodDown: [acts[3].1],
        ]
        #expect(Set(reach.keys) == Set(SummonState.allCases))
        for (state, steps) in reach {
            for (trigger, act) in acts {
                var d = Driver()
                var facts = d.ok(Fixtures.whistle(Self.plain), by: Self.street).facts
                let w = "W0000000001"
                for step in steps { let (c, a) = step(w); facts += d.ok(c, by: a).facts }
                #expect(Self.summonState(d, w, "chengguan") == state)
                let whistleOpen = d.ledger.whistles[w]?.state == .open
                let before = d.ledger
                let (command, actor) = act(w)
                let row = SummonMachine.table.rows(state, trigger).first
                // STAND_DOWN is the whistle's act: taken while it is open; it ends the departments still there.
                let expectTaken = trigger == .standDown ? whistleOpen : row != nil
                let expectState = trigger == .standDown ? (state.isActive ? .stoodDown : state) : row?.to
                switch d.run(command, by: actor) {
                case .success(let decision):
                    #expect(expectTaken, "\(state) × \(trigger) was taken")
                    #expect(Self.summonState(d, w, "chengguan") == expectState, "\(state) × \(trigger)")
                    var replayed = Ledger()
                    for f in facts + decision.facts where f.caseID == w { replayed.apply(f) }
                    #expect(replayed.whistles == d.ledger.whistles, "replay of \(state) × \(trigger)")
                case .failure(let e):
                    #expect(!expectTaken, "\(state) × \(trigger) refused: \(e)")
                    #expect(e.code == .invalidTransition, "\(state) × \(trigger): \(e)")
                    #expect(d.ledger == before, "a refusal changed nothing")
                }
            }
        }
    }

    @Test func theTablesDrawEveryStateWithAWayOutIffActive() {
        for s in SummonState.allCases {
            let out = SummonMachine.table.rows.contains { $0.from == s && $0.to != s }
            #expect(out == s.isActive, "\(s)")
            #expect(s == .summoned || SummonMachine.table.rows.contains { $0.to == s && $0.from != s }, "\(s) is entered")
        }
        #expect(WhistleMachine.table.outcome(.open, .standDown) { _ in false } == .blocked(.caseFinished))
        #expect(WhistleMachine.table.outcome(.closed, .override) { _ in true } == .none)
        #expect(WhistleMachine.dot().contains("[case_finished]") && SummonMachine.dot().contains("on_site"))
    }
}
