import Foundation
import Testing
@testable import MusterCore
import MusterWire

@Suite struct CaseFlowTests {
    @Test func aComplaintGoesRoundTheWholeClosedLoop() {
        var d = Driver()
        let c = d.newCase()
        #expect(d.state(c) == .dispatched)
        let lead = d.lead(c)!
        #expect(lead.agency == "chengguan" && lead.round == 1)
        d.ok(Fixtures.ack(lead.dispatchID), by: Fixtures.agency("chengguan"))
        #expect(d.state(c) == .handling)
        d.ok(Fixtures.progress(lead.dispatchID), by: Fixtures.agency("chengguan"))
        d.ok(Fixtures.resolve(lead.dispatchID), by: Fixtures.agency("chengguan"))
        #expect(d.state(c) == .finished)
        d.ok(Fixtures.verify(c, true), by: Fixtures.grid)
        #expect(d.state(c) == .verified)
        let last = d.ok(Fixtures.evaluate(c, .satisfied), by: Fixtures.hotline)
        #expect(d.state(c) == .closed)
        #expect(last.facts.map(\.type) == ["case.evaluated", "case.closed"])
        #expect(d.ledger.openDispatchRecords(of: c).isEmpty)
    }

    @Test func assistsGetTheirOwnDispatchAndTheCaseMovesWithTheLead() {
        var d = Driver()
        let c = d.newCase(Fixtures.submit("road_collapse", title: "路面塌陷"))
        let open = d.ledger.openDispatchRecords(of: c)
        #expect(open.map(\.agency) == ["zhujian", "gongan"])
        #expect(open.map(\.role) == [.lead, .assist])
        let assist = open[1]
        d.ok(Fixtures.ack(assist.dispatchID), by: Fixtures.agency("gongan"))
        #expect(d.state(c) == .dispatched, "an assist signing for does not sign for the case")
        d.ok(Fixtures.ack(open[0].dispatchID), by: Fixtures.agency("zhujian"))
        #expect(d.state(c) == .handling)
    }

    @Test func aGridOverrideAndADedicatedGridPickTheOwners() {
        let r = Fixtures.routing, g = Fixtures.grids
        #expect(r.owners(category: "noise", grid: "zz/jinshui/renminlu", grids: g)?.lead == "chengguan")
        #expect(r.owners(category: "noise", grid: "zz/erqi/jiefanglu", grids: g)?.lead == "zhujian")
        #expect(r.owners(category: "street_vending", grid: "zz/erqi/dehuajie", grids: g)?.assists == ["gongan"])
        #expect(r.owners(category: "street_vending", grid: "zz/erqi/jiefanglu", grids: g)?.assists == [])
        #expect(r.owners(category: "unclassified", grid: "zz", grids: g) == nil)
    }

    /// Overrides are tried most specific first, whatever order config lists them in; of two as
    /// specific, the one listed first.
    @Test func theMostSpecificCoveringOverrideLeadsAndTheNextTakesOverWhenItReturned() {
        let overrides = [Routing.Override(grid: "zz", lead: "chengguan"), Routing.Override(grid: "zz/erqi/jiefanglu", lead: "gongan"),
                         Routing.Override(grid: "zz/erqi", lead: "reli"), Routing.Override(grid: "zz/erqi/jiefanglu", lead: "gongshui")]
        let r = Routing(agencies: Array(Fixtures.routing.agencies.values),
                        categories: [Routing.Category(code: "noise", name: "噪音", lead: "zhujian", overrides: overrides)])
        let g = Fixtures.grids
        #expect(r.owners(category: "noise", grid: "zz/erqi/jiefanglu", grids: g)?.lead == "gongan")
        #expect(r.owners(category: "noise", grid: "zz/erqi/jiefanglu", grids: g, excluding: ["gongan"])?.lead == "gongshui")
        #expect(r.owners(category: "noise", grid: "zz/erqi/jiefanglu", grids: g, excluding: ["gongan", "gongshui"])?.lead == "reli")
        #expect(r.owners(category: "noise", grid: "zz/erqi/dehuajie", grids: g)?.lead == "reli")
        #expect(r.owners(category: "noise", grid: "zz/jinshui/renminlu", grids: g)?.lead == "chengguan")
        #expect(r.owners(category: "noise", grid: "zz/erqi/jiefanglu", grids: g, excluding: ["gongan", "gongshui", "reli", "chengguan"])?.lead == "zhujian")
    }

    @Test func freeTextIsClassifiedByKeywordsAndTheRestGoesToTriage() {
        var d = Driver()
        let heated = d.newCase(Fixtures.submit(nil, title: "家里暖气不热"))
        #expect(d.ledger.cases[heated]?.category == "heating_not_warm")
        #expect(d.lead(heated)?.agency == "reli")
        let unknown = d.newCase(Fixtures.submit(nil, title: "有人反映情况"))
        #expect(d.ledger.cases[unknown]?.category == Routing.unclassified)
        #expect(d.state(unknown) == .triage)
    }

    @Test func aFirstReturnReDispatchesPassingOverTheReturnerAndASecondGoesToConsultation() {
        var d = Driver()
        let c = d.newCase(Fixtures.submit("road_collapse", title: "塌陷"))
        let first = d.lead(c)!
        let r1 = d.ok(Fixtures.giveBack(first.dispatchID), by: Fixtures.agency("zhujian"))
        #expect(r1.facts.map(\.type).contains("case.triage"))
        let second = d.lead(c)!
        #expect(second.agency == "chengguan" && second.round == 2)
        #expect(d.state(c) == .dispatched)
        #expect(d.ledger.openDispatchRecords(of: c).allSatisfy { $0.agency != "zhujian" })
        d.ok(Fixtures.giveBack(second.dispatchID), by: Fixtures.agency("chengguan"))
        #expect(d.state(c) == .consultation)
        #expect(d.ledger.openDispatchRecords(of: c).isEmpty, "every open dispatch is withdrawn")
        d.ok(Fixtures.assign(c, lead: "zhujian", assists: ["chengguan"]), by: Fixtures.ops)
        #expect(d.state(c) == .dispatched)
        let assigned = d.lead(c)!
        let refused = d.run(Fixtures.giveBack(assigned.dispatchID), by: Fixtures.agency("zhujian"))
        #expect(refused.failure?.code == .returnRefused)
    }

    @Test func aReturnWithNobodyLeftStaysAtTheTriageQueue() {
        var d = Driver()
        let c = d.newCase(Fixtures.submit("heating_not_warm", title: "暖气"))
        let r = d.ok(Fixtures.giveBack(d.lead(c)!.dispatchID), by: Fixtures.agency("reli"))
        #expect(d.state(c) == .triage)
        #expect(r.facts.map(\.type) == ["dispatch.returned", "case.triage", "clock.scheduled"], "one triage record, not two; its clock starts")
        #expect(d.ledger.cases[c]?.returnedBy == ["reli"])
    }

    @Test func aReturnAfterTheWindowIsRefused() {
        var d = Driver()
        let c = d.newCase()
        let lead = d.lead(c)!
        d.now = lead.returnBy.adding(ms: 1)
        let before = d.ledger
        let r = d.run(Fixtures.giveBack(lead.dispatchID), by: Fixtures.agency("chengguan"))
        #expect(r.failure?.code == .returnRefused)
        #expect(d.ledger == before)
    }

    @Test func failedVerificationIsReworkAndDissatisfactionIsRedoBothToTheSameLead() {
        var d = Driver()
        let c = d.newCase()
        let cg = Fixtures.agency("chengguan")
        var lead = d.lead(c)!
        d.ok(Fixtures.ack(lead.dispatchID), by: cg)
        d.ok(Fixtures.resolve(lead.dispatchID), by: cg)
        d.ok(Fixtures.verify(c, false), by: Fixtures.grid)
        lead = d.lead(c)!
        #expect(d.state(c) == .dispatched && lead.agency == "chengguan" && lead.round == 2)
        d.ok(Fixtures.ack(lead.dispatchID, id: "a2"), by: cg)
        d.ok(Fixtures.resolve(lead.dispatchID, id: "r2"), by: cg)
        d.ok(Fixtures.evaluate(c, .dissatisfied), by: Fixtures.hotline)
        lead = d.lead(c)!
        #expect(d.state(c) == .dispatched && lead.round == 3 && lead.agency == "chengguan")
    }

    @Test func theSameProblemFromAnotherChannelIsMergedIntoTheOpenCase() {
        var d = Driver()
        let first = d.newCase(Fixtures.submit(address: "解放路100号"))
        let decision = d.ok(Fixtures.submit(address: "解放路100号", source: .camera), by: Fixtures.hotline)
        guard case .accepted(let second, let state, let into, _) = decision.reply else { Issue.record("not accepted"); return }
        #expect(state == .merged && into == first && second != first)
        #expect(d.ledger.cases[first]?.mergedReports == 1)
        #expect(d.ledger.openDispatchRecords(of: second).isEmpty)
        let otherAddress = d.newCase(Fixtures.submit(address: "解放路200号"))
        #expect(d.state(otherAddress) == .dispatched)
    }

    /// The merge key is its bytes, as the store's `cases.merge_key` is compared: an address
    /// written with a CJK compatibility ideograph (U+F900, as some Big5 conversions leave it)
    /// is a String equal to the one with the unified ideograph (U+8C48), but the store would not
    /// find one by the other once the case has left memory, so memory does not either.
    @Test func anAddressInOtherCodePointsIsMergedByItsBytesAsTheStoreFindsIt() {
        let unified = "\u{8C48}园路1号", compatibility = "\u{F900}园路1号"
        #expect(unified == compatibility && Array(unified.utf8) != Array(compatibility.utf8))
        var d = Driver()
        let first = d.newCase(Fixtures.submit(address: unified))
        let other = d.newCase(Fixtures.submit(address: compatibility, source: .camera))
        #expect(other != first && d.state(other) == .dispatched && d.ledger.cases[first]?.mergedReports == 0)
        let same = d.ok(Fixtures.submit(address: " " + unified, source: .citizenApp), by: Fixtures.hotline)
        guard case .accepted(_, let state, let into, _) = same.reply else { Issue.record("not accepted"); return }
        #expect(state == .merged && into == first)
        let a = Ledger.mergeKey(category: "street_vending", grid: "zz", address: unified)!
        let b = Ledger.mergeKey(category: "street_vending", grid: "zz", address: compatibility)!
        #expect(a != b && a == Ledger.mergeKey(category: "street_vending", grid: "zz", address: unified + "\u{3000}"))
        #expect(a.text == "street_vending\u{1F}zz\u{1F}" + unified && Set([a, b, MergeKey(a.text)]).count == 2)
    }

    @Test func aSourceReferenceIsTakenOnce() {
        var d = Driver()
        let c = d.newCase(Fixtures.submit(ref: "12345-2026-000001"))
        let again = d.ok(Fixtures.submit(ref: "12345-2026-000001"), by: Fixtures.hotline)
        #expect(again.facts.isEmpty)
        guard case .accepted(let id, _, _, _) = again.reply else { Issue.record("not accepted"); return }
        #expect(id == c && d.ledger.cases.count == 1)
    }

    /// The store's unique (source, external_ref) compares bytes: memory does too, so a reference
    /// in other code points is another report, whether its case is in memory or not.
    @Test func aSourceReferenceInOtherCodePointsIsAnotherReferenceAsTheStoreHasIt() {
        let composed = "12345-2026-\u{E9}", decomposed = "12345-2026-e\u{301}"
        #expect(composed == decomposed && Array(composed.utf8) != Array(decomposed.utf8))
        var d = Driver()
        let c = d.newCase(Fixtures.submit(ref: composed))
        let other = d.newCase(Fixtures.submit(ref: decomposed))
        #expect(other != c && d.ledger.cases.count == 2)
        #expect(d.ledger.caseID(source: .hotline12345, externalRef: composed) == c)
        #expect(d.ledger.caseID(source: .hotline12345, externalRef: decomposed) == other)
    }

    @Test func onlyTheAgencyADispatchWasSentToMayActOnIt() {
        var d = Driver()
        let c = d.newCase()
        let before = d.ledger
        let r = d.run(Fixtures.ack(d.lead(c)!.dispatchID), by: Fixtures.agency("gongan"))
        #expect(r.failure?.code == .forbidden)
        #expect(d.run(Fixtures.ack("D9999999999"), by: Fixtures.agency("gongan")).failure?.code == .unknownDispatch)
        #expect(d.run(Fixtures.verify("C9999999999", true), by: Fixtures.grid).failure?.code == .unknownCase)
        #expect(d.ledger == before)
    }

    @Test func outOfOrderActsNameTheCurrentState() {
        var d = Driver()
        let c = d.newCase()
        let r = d.run(Fixtures.resolve(d.lead(c)!.dispatchID), by: Fixtures.agency("chengguan"))
        #expect(r.failure?.code == .invalidTransition)
        #expect(r.failure?.state == "sent")
        let v = d.run(Fixtures.verify(c, true), by: Fixtures.grid)
        #expect(v.failure?.state == "dispatched")
    }

    @Test func anUnknownGridIsABadFieldAndChangesNothing() {
        var d = Driver()
        let r = d.run(Fixtures.submit(grid: "zz/nowhere"), by: Fixtures.hotline)
        #expect(r.failure?.code == .badField && r.failure?.field == "case.location.grid")
        #expect(d.ledger == Ledger())
    }

    @Test func assignNamesUnknownAgenciesAsBadFields() {
        var d = Driver()
        let c = d.newCase(Fixtures.submit(nil, title: "情况"))
        let r = d.run(Fixtures.assign(c, lead: "chengguan", assists: ["nobody"]), by: Fixtures.ops)
        #expect(r.failure?.field == "assists[0]")
    }

    @Test func closingWithdrawsAssistsStillOpen() {
        var d = Driver()
        let c = d.newCase(Fixtures.submit("road_collapse", title: "塌陷"))
        let lead = d.lead(c)!
        let zj = Fixtures.agency("zhujian")
        d.ok(Fixtures.ack(lead.dispatchID), by: zj)
        d.ok(Fixtures.resolve(lead.dispatchID), by: zj)
        d.ok(Fixtures.evaluate(c, .basicallySatisfied), by: Fixtures.hotline)
        #expect(d.state(c) == .closed)
        #expect(d.ledger.dispatches.values.filter { $0.caseID == c && $0.role == .assist }.allSatisfy { $0.state == .cancelled })
    }
}

extension Result {
    var failure: Failure? { if case .failure(let e) = self { e } else { nil } }
}
