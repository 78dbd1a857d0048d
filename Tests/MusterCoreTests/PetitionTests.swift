import Foundation
import Testing
@testable import MusterCore
import MusterWire

/// 信访: a petition's statutory course (信访工作条例 2022) as the petition table walks it, with
/// repeats (Art. 19, 36) and the accused unit kept out.
@Suite struct PetitionTests {
    static let rules: Rules = {
        var sla = Fixtures.sla
        sla.rules.insert(SLAPolicy.Rule(name: "信访", sources: [.petition], windows: [
            .transfer: Period(15, .d), .notify: Period(15, .d), .ack: Period(15, .d), .return: Period(5, .wd), .resolve: Period(60, .d),
            .reviewRequest: Period(30, .d), .review: Period(30, .d), .recheckRequest: Period(30, .d), .recheck: Period(30, .d),
        ]), at: 0)
        for clock in [ClockKind.transfer, .notify, .review, .recheck] {
            sla.ladders[clock] = [.init(at: .percent(80), notice: "remind", to: ["intake", "ops"], level: 1),
                                  .init(at: .percent(100), notice: "supervise", to: ["intake", "supervisor", "ops"], level: 2)]
        }
        return Rules(routing: Fixtures.routing, grids: Fixtures.grids, sla: sla, calendar: Fixtures.calendar)
    }()

    static let office = Actor(adapter: "petition-office", roles: [.intake])
    static let cg = Fixtures.agency("chengguan")
    static let zj = Fixtures.agency("zhujian")
    static let idNumber = "11010519491231002X"

    static func register(ref: String, category: String = "street_vending", address: String = "解放路100号", about: [String] = [],
                         reporter: [String: Any] = ["name": "王五", "phone": "13812345678", "id_number": idNumber]) -> CaseCommand {
        .submit(Fixtures.make(["id": "reg-\(ref)", "case": [
            "source": "petition", "external_ref": ref, "category": category, "title": "反映占道经营长期未解决",
            "location": ["grid": "zz/erqi/jiefanglu", "address": address], "reporter": reporter, "petition": ["about": about],
        ] as [String: Any]]))
    }

    static func act(_ c: String, _ act: PetitionActKind, id: String, document: [String: Any]? = nil, agree: Bool? = nil,
                    reason: String? = nil) -> CaseCommand {
        var body: [String: Any] = ["id": id, "case_id": c, "act": act.rawValue]
        if let document { body["document"] = document }
        if let agree { body["agree"] = agree }
        if let reason { body["reason"] = reason }
        return .petition(Fixtures.make(body))
    }

    static func serve(_ c: String, _ kind: PetitionNoticeKind, number: String, at served: Date? = nil) -> CaseCommand {
        var doc: [String: Any] = ["kind": kind.rawValue, "number": number, "issuer": "郑州市信访局"]
        if let served { doc["served_at"] = Timestamp.format(served) }
        return act(c, .notify, id: "n-\(c)-\(kind.rawValue)-\(number)", document: doc)
    }

    static func petition(_ d: Driver, _ c: String) -> PetitionRecord { d.ledger.cases[c]!.petition! }

    static func clocks(_ d: Driver, _ c: String) -> Set<ClockKind> {
        Set(d.ledger.timers.all.filter { $0.caseID == c && ClockKind.petition.contains($0.clock) }.map(\.clock))
    }

    static func newPetition(_ d: inout Driver, _ command: CaseCommand) -> (String, Decision) {
        let decision = d.ok(command, by: office)
        guard case .acceptedPetition(let id, _, _, _, _, _) = decision.reply else { fatalError("not a petition's ACCEPTED: \(String(describing: decision.reply))") }
        return (id, decision)
    }

    @Test func theWholeCourseFromRegistrationToConclusion() throws {
        var d = Driver(rules: Self.rules)
        let (c, registered) = Self.newPetition(&d, Self.register(ref: "XF-1"))
        #expect(registered.facts.map(\.type).prefix(2) == ["case.accepted", "case.dispatched"], "forwarded (转送) at once by the routing rules")
        #expect(Self.petition(d, c).state == .forwarded)
        #expect(Self.clocks(d, c) == [.notify], "转送 done; 告知 still to do within 15 日")
        let lead = try #require(d.lead(c))

        d.ok(Self.serve(c, .acceptance, number: "郑信转〔2026〕1号"), by: Self.office)
        #expect(Self.petition(d, c).told && Self.clocks(d, c).isEmpty, "告知 served: its clock stopped")
        let again = d.run(Self.serve(c, .acceptance, number: "郑信转〔2026〕1号-bis"), by: Self.office)
        #expect(again.failure?.code == .invalidTransition && again.failure?.message.contains("told already") == true)

        d.now = d.now.adding(ms: 3 * 86_400_000)
        let accept = d.ok(Fixtures.ack(lead.dispatchID), by: Self.cg)
        #expect(accept.facts.map(\.type) == ["dispatch.acked", "dispatch.deadlines_moved", "clock.scheduled"])
        let handleBy = try #require(d.ledger.dispatches[lead.dispatchID]?.resolveBy)
        let sixty = try Fixtures.calendar.end(of: Period(60, .d), from: d.now)
        #expect(handleBy == CivilDay(ordinal: CivilDay(sixty).ordinal + 1).start, "60 日 from acceptance (Art. 34), to the end of its last day")
        #expect(Self.petition(d, c).state == .accepted && Self.petition(d, c).acceptedAt == d.now)

        d.ok(Fixtures.extend(lead.dispatchID, by: "5wd"), by: Self.cg)
        let untold = d.run(Self.act(c, .requestReview, id: "early"), by: Self.office)
        #expect(untold.failure?.code == .invalidTransition, "no 复查 before a reply")
        d.ok(Self.serve(c, .extension, number: "延期告知1号"), by: Self.cg)
        #expect(d.run(Self.serve(c, .extension, number: "延期告知2号"), by: Self.cg).failure?.message.contains("no extension") == true)

        d.ok(Fixtures.resolve(lead.dispatchID), by: Self.cg)
        #expect(Self.petition(d, c).state == .answered)
        let served = d.now  // the second it was finished (办结): not before
        d.ok(Self.serve(c, .reply, number: "答复意见书1号", at: served), by: Self.cg)
        let p = Self.petition(d, c)
        #expect(p.state == .replied && p.windowCloses == CivilDay(ordinal: CivilDay(served).ordinal + 31).start, "复查 may be asked to the end of day 30")
        #expect(Self.clocks(d, c) == [.reviewRequest])

        d.now = d.now.adding(ms: 10 * 86_400_000)
        d.ok(Self.act(c, .requestReview, id: "rv", reason: "对答复意见不服"), by: Self.office)
        #expect(Self.petition(d, c).state == .reviewing && Self.clocks(d, c) == [.review], "the window's timer gone, the 复查 decision's ladder running")
        d.ok(Self.serve(c, .review, number: "复查意见书1号"), by: Self.office)
        #expect(Self.petition(d, c).state == .reviewed && Self.clocks(d, c) == [.recheckRequest])
        d.ok(Self.act(c, .requestRecheck, id: "rc"), by: Self.office)
        d.ok(Self.serve(c, .recheck, number: "复核意见书1号"), by: Self.office)
        let done = Self.petition(d, c)
        #expect(done.state == .concluded && done.endedAt != nil && Self.clocks(d, c).isEmpty)
        #expect(done.notices.map(\.kind) == [.acceptance, .extension, .reply, .review, .recheck])
    }

    @Test func aReviewAskedOnDay31IsRefusedAndTheWindowClosingSettlesIt() throws {
        var d = Driver(rules: Self.rules)
        let (c, _) = Self.newPetition(&d, Self.register(ref: "XF-31"))
        let lead = try #require(d.lead(c))
        d.ok(Fixtures.ack(lead.dispatchID), by: Self.cg)
        d.ok(Fixtures.resolve(lead.dispatchID), by: Self.cg)
        let served = d.now
        d.ok(Self.serve(c, .reply, number: "答复1号", at: served), by: Self.office)

        var onDay30 = d
        onDay30.now = CivilDay(ordinal: CivilDay(served).ordinal + 30).start.adding(ms: 23 * 3_600_000)
        #expect(onDay30.run(Self.act(c, .requestReview, id: "d30"), by: Self.office).failure == nil, "day 30, 23:00: still in time")

        d.now = CivilDay(ordinal: CivilDay(served).ordinal + 31).start.adding(ms: 9 * 3_600_000)
        let before = d.ledger
        let late = d.run(Self.act(c, .requestReview, id: "d31"), by: Self.office)
        #expect(late.failure?.code == .windowClosed && late.failure?.message.contains("第三十五") == true)
        #expect(d.ledger == before, "a refusal changes nothing")

        let window = try #require(d.ledger.timers.all.first { $0.caseID == c && $0.clock == .reviewRequest })
        let fired = d.ledger.fire(window.id, now: d.now)
        #expect(fired.facts.map(\.type) == ["petition.window_closed"] && fired.actions.isEmpty)
        #expect(Self.petition(d, c).state == .settled && Self.petition(d, c).endedAt == d.now)
    }

    @Test func aRepeatInProcessIsMergedToldWhereItStandsAndMayBeSplit() throws {
        var d = Driver(rules: Self.rules)
        let (first, _) = Self.newPetition(&d, Self.register(ref: "XF-A"))
        d.ok(Self.serve(first, .acceptance, number: "告知1号"), by: Self.office)
        let (second, decision) = Self.newPetition(&d, Self.register(ref: "XF-B", reporter: ["name": "王五", "id_number": Self.idNumber.lowercased()]))
        guard case .acceptedPetition(_, let state, let into, _, let p, let standing) = decision.reply else { Issue.record("no reply"); return }
        #expect(state == .merged && into == first && p.state == .merged && p.repeatOf == first)
        #expect(standing?.state == .forwarded && standing?.notices.first?.number == "告知1号", "the petitioner is told where the first stands (Art. 19)")
        #expect(d.ledger.cases[first]?.mergedReports == 1 && Self.clocks(d, second).isEmpty)

        let other = Self.newPetition(&d, Self.register(ref: "XF-C", address: "解放路200号")).0
        #expect(d.ledger.cases[other]?.mergedInto == nil, "other facts: a petition of its own")
        let anonymous = Self.newPetition(&d, Self.register(ref: "XF-D", reporter: ["anonymous": true])).0
        #expect(d.ledger.cases[anonymous]?.mergedInto == nil && d.ledger.cases[anonymous]?.petition?.repeatKey == nil)

        #expect(d.run(Self.act(second, .splitRepeat, id: "sp-x"), by: Self.cg).failure?.code == .forbidden)
        d.ok(Self.act(second, .confirmRepeat, id: "cf"), by: Self.office)
        let split = d.ok(Self.act(second, .splitRepeat, id: "sp", reason: "诉求不同：新增噪音问题"), by: Self.office)
        #expect(split.facts.map(\.type).contains("case.dispatched"))
        #expect(Self.petition(d, second).state == .forwarded && d.ledger.cases[second]?.mergedInto == nil)
        #expect(Self.clocks(d, second) == [.notify], "its own 告知 clock, from the split")
    }

    @Test func theSameFactsAfterConclusionAreRefusedWithTheRecord() throws {
        var d = Driver(rules: Self.rules)
        let (c, _) = Self.newPetition(&d, Self.register(ref: "XF-E"))
        let lead = try #require(d.lead(c))
        d.ok(Fixtures.ack(lead.dispatchID), by: Self.cg)
        d.ok(Fixtures.resolve(lead.dispatchID), by: Self.cg)
        d.ok(Self.serve(c, .reply, number: "答复2号"), by: Self.office)
        d.ok(Self.act(c, .requestReview, id: "rv"), by: Self.office)
        d.ok(Self.serve(c, .review, number: "复查2号"), by: Self.office)
        d.ok(Self.act(c, .requestRecheck, id: "rc"), by: Self.office)
        d.ok(Self.serve(c, .recheck, number: "复核2号"), by: Self.office)
        let before = d.ledger
        let refused = d.run(Self.register(ref: "XF-F"), by: Self.office)
        #expect(refused.failure?.code == .repeatPetition)
        #expect(refused.failure?.message.contains(c) == true && refused.failure?.message.contains("复核意见书 复核2号") == true)
        #expect(d.ledger == before)
    }

    @Test func aUnitReturnsAPetitionOnlyWhenTheOfficeUpholdsItsObjection() throws {
        var d = Driver(rules: Self.rules)
        let (c, _) = Self.newPetition(&d, Self.register(ref: "XF-G", category: "road_collapse"))
        let lead = try #require(d.lead(c))
        #expect(lead.agency == "zhujian")
        #expect(d.run(Fixtures.giveBack(lead.dispatchID), by: Self.zj).failure?.code == .returnRefused, "no plain RETURN for a petition")
        #expect(d.run(Self.act(c, .object, id: "o-cg", reason: "x"), by: Self.cg).failure?.code == .forbidden, "only its unit objects")
        d.ok(Self.act(c, .object, id: "o1", reason: "属于燃气公司职责"), by: Self.zj)
        #expect(Self.petition(d, c).state == .objected)
        #expect(d.run(Fixtures.ack(lead.dispatchID), by: Self.zj).failure?.code == .invalidTransition, "no 受理 while the objection stands")

        var overruled = d
        overruled.ok(Self.act(c, .rule, id: "r0", agree: false, reason: "属住建职责"), by: Self.office)
        #expect(Self.petition(overruled, c).state == .forwarded && Self.petition(overruled, c).objection?.upheld == false)
        overruled.ok(Fixtures.ack(lead.dispatchID), by: Self.zj)

        d.now = d.now.adding(ms: 10 * 86_400_000)  // the ruling may come after the 5 工作日: the objection was in time
        let upheld = d.ok(Self.act(c, .rule, id: "r1", agree: true), by: Self.office)
        #expect(upheld.facts.map(\.type).prefix(2) == ["petition.ruled", "dispatch.returned"] && upheld.facts.map(\.type).contains("dispatch.cancelled"))
        let next = try #require(d.lead(c))
        #expect(next.agency == "chengguan" && Self.petition(d, c).state == .forwarded, "routed again, past the unit")

        var late = Driver(rules: Self.rules)
        let (c2, _) = Self.newPetition(&late, Self.register(ref: "XF-H", category: "road_collapse"))
        late.now = late.now.adding(ms: 10 * 86_400_000)
        #expect(late.run(Self.act(c2, .object, id: "o2", reason: "x"), by: Self.zj).failure?.code == .returnRefused, "5 工作日 gone")
    }

    @Test func aPetitionNeverGoesToTheUnitItIsAbout() throws {
        var d = Driver(rules: Self.rules)
        let (c, _) = Self.newPetition(&d, Self.register(ref: "XF-I", category: "road_collapse", about: ["zhujian"]))
        #expect(d.ledger.openDispatchRecords(of: c).map(\.agency) == ["chengguan"], "past the accused, to the fallback")
        let assign = d.run(Fixtures.assign(c, lead: "gongan", assists: ["zhujian"]), by: Fixtures.ops)
        #expect(assign.failure?.code == .forbidden && assign.failure?.field == "assists[0]")
        let unknown = d.run(Self.register(ref: "XF-J", about: ["nobody"]), by: Self.office)
        #expect(unknown.failure?.field == "case.petition.about[0]")
    }

    @Test func replayingThePetitionsFactsGivesTheSameRecord() throws {
        var d = Driver(rules: Self.rules)
        let (c, first) = Self.newPetition(&d, Self.register(ref: "XF-K", category: "road_collapse"))
        var facts = first.facts
        let lead = try #require(d.lead(c))
        for (command, actor) in [(Self.act(c, .object, id: "o", reason: "不是本单位"), Self.zj), (Self.act(c, .rule, id: "r", agree: false), Self.office),
                                 (Self.serve(c, .acceptance, number: "1"), Self.office), (Fixtures.ack(lead.dispatchID), Self.zj),
                                 (Fixtures.resolve(lead.dispatchID), Self.zj), (Self.serve(c, .reply, number: "2"), Self.zj),
                                 (Self.act(c, .requestReview, id: "rv"), Self.office)] {
            facts += d.ok(command, by: actor).facts
        }
        var replayed = Ledger()
        for f in facts { replayed.apply(f) }
        #expect(replayed.cases[c]?.petition == d.ledger.cases[c]?.petition && replayed.cases[c]?.petition?.state == .reviewing)
        #expect(replayed.timers == d.ledger.timers)
    }

    @Test func aReassignedOrRedonePetitionIsTakenUpByItsNewLead() throws {
        var d = Driver(rules: Self.rules)
        let (c, _) = Self.newPetition(&d, Self.register(ref: "XF-R1"))
        let first = try #require(d.lead(c))
        d.ok(Fixtures.ack(first.dispatchID), by: Self.cg)
        d.ok(Fixtures.assign(c, lead: "zhujian"), by: Fixtures.ops)
        #expect(Self.petition(d, c).state == .forwarded, "改派 after 受理: the new unit accepts it anew")
        let second = try #require(d.lead(c))
        let accepted = d.ok(Fixtures.ack(second.dispatchID), by: Self.zj)
        #expect(accepted.facts.map(\.type).contains("dispatch.deadlines_moved") && Self.petition(d, c).state == .accepted)
        d.ok(Fixtures.resolve(second.dispatchID), by: Self.zj)
        d.ok(Self.serve(c, .reply, number: "答复R1"), by: Self.office)
        d.ok(Fixtures.evaluate(c, .dissatisfied), by: Self.office)
        let redo = try #require(d.lead(c))
        #expect(redo.round == 3 && d.run(Fixtures.ack(redo.dispatchID), by: Self.zj).failure == nil, "重办: the round goes on, the petition's reply stands")
        #expect(Self.petition(d, c).state == .replied)
    }

    @Test func statutoryPeriodsIgnoreManagementModesAndEndAtMidnight() throws {
        var d = Driver(rules: Self.rules)
        d.ok(Fixtures.mode("emergency", scope: "zz/erqi"), by: Fixtures.ops)
        let (c, registered) = Self.newPetition(&d, Self.register(ref: "XF-M1", category: "road_collapse"))
        #expect(!registered.facts.map(\.type).contains("whistle.blown"), "应急 mode blows no whistle of its own on a petition")
        let lead = try #require(d.lead(c))
        let fifteen = try Fixtures.calendar.end(of: Period(15, .d), from: d.now)
        #expect(lead.ackBy == Ledger.endOfDay(fifteen), "15 日 to accept, unscaled, to 24:00")
        #expect(lead.returnBy == Ledger.endOfDay(try Fixtures.calendar.end(of: Period(5, .wd), from: d.now)))
        let w = d.run(Fixtures.whistle(["grid": "zz/erqi/jiefanglu", "kind": "emergency", "reason": "x", "case_id": c, "summon": ["gongan"]]), by: Fixtures.ops)
        #expect(w.failure == nil)
        var accused = Driver(rules: Self.rules)
        let (c2, _) = Self.newPetition(&accused, Self.register(ref: "XF-M2", category: "road_collapse", about: ["gongan"]))
        let named = accused.run(Fixtures.whistle(["grid": "zz/erqi/jiefanglu", "kind": "emergency", "reason": "x", "case_id": c2, "summon": ["gongan"]]), by: Fixtures.ops)
        #expect(named.failure?.code == .forbidden && named.failure?.field == "summon[0]")
    }

    @Test func aRejectedPetitionStopsItsClocksAndIsNoRepeatTarget() throws {
        var d = Driver(rules: Self.rules)
        let (t, _) = Self.newPetition(&d, Self.register(ref: "XF-J2", category: "heating_not_warm", address: "民主路1号", about: ["reli"]))
        #expect(d.state(t) == .triage && Self.clocks(d, t) == [.transfer, .notify], "nobody to forward to: 转送 and 告知 run")
        d.ok(Fixtures.reject(t), by: Fixtures.ops)
        #expect(Self.petition(d, t).state == .rejected && Self.clocks(d, t).isEmpty)
        let (again, reply) = Self.newPetition(&d, Self.register(ref: "XF-J3", category: "heating_not_warm", address: "民主路1号", about: ["reli"]))
        guard case .acceptedPetition(_, _, let into, _, let p, _) = reply.reply else { Issue.record("no reply"); return }
        #expect(into == nil && p.repeatOf == t && d.state(again) == .triage, "a new petition, counted as a repeat, not merged into a rejected one")
    }

    @Test func anAssignedUnitsObjectionCanBeUpheldAndAPetitionRunsOnAfterItsCaseLeftMemory() throws {
        var d = Driver(rules: Self.rules)
        let (c, _) = Self.newPetition(&d, Self.register(ref: "XF-A1", category: "road_collapse"))
        d.ok(Fixtures.assign(c, lead: "zhujian"), by: Fixtures.ops)
        d.ok(Self.act(c, .object, id: "oa", reason: "属燃气公司"), by: Self.zj)
        let upheld = d.ok(Self.act(c, .rule, id: "ra", agree: true), by: Self.office)
        #expect(upheld.facts.map(\.type).contains("dispatch.returned"), "an ASSIGNed unit is relieved by the office's ruling")

        var e = Driver(rules: Self.rules)
        let (p, _) = Self.newPetition(&e, Self.register(ref: "XF-A2"))
        let lead = try #require(e.lead(p))
        e.ok(Fixtures.ack(lead.dispatchID), by: Self.cg)
        e.ok(Fixtures.resolve(lead.dispatchID), by: Self.cg)
        let early = e.run(Self.serve(p, .reply, number: "答复A2", at: lead.sentAt), by: Self.office)
        #expect(early.failure?.field == "document.served_at" && early.failure?.message.contains("办结") == true, "not served before it was answered")
        e.ok(Self.serve(p, .reply, number: "答复A2"), by: Self.office)
        e.ok(Fixtures.evaluate(p, .satisfied), by: Self.office)
        #expect(e.state(p) == .closed)
        e.ledger.evict(p)
        #expect(e.ledger.cases[p] != nil && Self.clocks(e, p) == [.reviewRequest, .notify], "the 复查 window's case stays in memory with its clocks (never told: 告知 still chased)")
    }

    @Test func theTableHasARowForEveryActItNames() {
        let rows = PetitionMachine.table.rows
        #expect(Set(rows.map(\.trigger)) == Set(PetitionMachine.Trigger.allCases))
        #expect(rows.filter { $0.from.isTerminal }.allSatisfy { $0.from == .merged }, "only a merged repeat moves on (confirmed or split)")
        #expect(PetitionMachine.dot().contains("申请复查"))
    }
}
