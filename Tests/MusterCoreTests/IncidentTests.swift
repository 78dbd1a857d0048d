import Foundation
import Testing
@testable import MusterCore
import MusterWire

/// 已知事件: a department declares an incident; reports that match join it (one incident, many
/// reporters, each told its message and expected end); ending it hands the reports back or ends
/// them with it.
@Suite struct IncidentTests {
    static let reli = Fixtures.agency("reli")  // the test rules have heating, not water

    static func declare(_ d: inout Driver, ref: String = "TS-2026-118", grids: [String] = ["zz/erqi/jiefanglu"],
                        startsIn: Int64? = nil, by actor: Actor = reli) -> IncidentRecord? {
        var body: [String: Any] = ["id": "inc-\(ref)-\(Fixtures.sequence.add(1, ordering: .relaxed).newValue)", "ref": ref,
                                   "title": "解放路供水管网抢修停水", "categories": ["heating_not_warm"], "grids": grids,
                                   "message": "解放路一带因管网抢修停水，预计今晚22:00恢复供水，送水车停在解放路口。",
                                   "expected_end": Timestamp.format(d.now.adding(ms: (startsIn ?? 0) + 8 * 3_600_000)), "cause": "DN300管道爆裂"]
        if let startsIn { body["starts_at"] = Timestamp.format(d.now.adding(ms: startsIn)) }
        guard case .success(let decision) = d.run(.incident(Fixtures.make(body)), by: actor),
              case .incident(let r) = decision.reply else { return nil }
        return r
    }

    static func report(_ d: inout Driver, grid: String = "zz/erqi/jiefanglu", category: String = "heating_not_warm") -> Reply? {
        d.ok(Fixtures.submit(category, grid: grid, address: "解放路\(Fixtures.sequence.add(1, ordering: .relaxed).newValue)号", title: "停水了"),
             by: Fixtures.hotline).reply
    }

    @Test func aBurstOfReportsInTheStreetBecomesOneIncident() throws {
        var d = Driver()
        let incident = try #require(Self.declare(&d))
        #expect(incident.incidentID == "I0000000001" && incident.state == .active && incident.agency == "reli")
        var merged = 0
        for _ in 0..<1000 {
            guard case .acceptedIntoIncident(let c, let r)? = Self.report(&d) else { continue }
            #expect(d.state(c) == .merged && d.ledger.cases[c]?.mergedInto == incident.incidentID)
            #expect(r.message.contains("预计今晚22:00恢复供水"))
            merged += 1
        }
        #expect(merged == 1000)
        #expect(d.ledger.incidents[incident.incidentID]?.reports.count == 1000)
        #expect(d.ledger.dispatches.isEmpty, "not one dispatch: the water company is already on it")
    }

    @Test func onlyMatchingReportsJoinWhileItIsActive() throws {
        var d = Driver()
        let planned = try #require(Self.declare(&d, ref: "TZ-7", grids: ["zz/erqi/jiefanglu"], startsIn: 12 * 3_600_000))
        guard case .accepted(let early, _, nil, _)? = Self.report(&d) else { Issue.record("a report before the shut-off joined it"); return }
        #expect(d.state(early) != .merged)
        d.now = d.now.adding(ms: 12 * 3_600_000)
        guard case .acceptedIntoIncident(_, let r)? = Self.report(&d) else { Issue.record("a report in the shut-off did not join"); return }
        #expect(r.incidentID == planned.incidentID)
        guard case .accepted? = Self.report(&d, grid: "zz/jinshui") else { Issue.record("another district joined"); return }
        guard case .accepted? = Self.report(&d, category: "street_vending") else { Issue.record("another category joined"); return }
    }

    @Test func handingBackRoutesEachReportAndResolvingEndsThem() throws {
        var d = Driver()
        let a = try #require(Self.declare(&d, ref: "A"))
        guard case .acceptedIntoIncident(let c1, _)? = Self.report(&d), case .acceptedIntoIncident(let c2, _)? = Self.report(&d) else {
            Issue.record("not merged"); return
        }
        let end: CaseCommand = .incidentEnd(Fixtures.make(["id": "end-A", "ref": "A", "outcome": "hand_back", "note": "抢修延期，逐户处理"]))
        let decision = d.ok(end, by: Self.reli)
        #expect(decision.facts.map(\.type).prefix(1) == ["incident.ended"])
        #expect(decision.facts.filter { $0.type == "case.handed_back" }.map(\.caseID) == [c1, c2])
        #expect(d.lead(c1)?.agency == "reli" && d.state(c1) == .dispatched && d.state(c2) == .dispatched)
        #expect(d.ledger.incidents[a.incidentID]?.state == .ended && d.ledger.incidents[a.incidentID]?.outcome == .handBack)
        // Ended: new reports make cases of their own; ending again answers the same, changes nothing.
        guard case .accepted? = Self.report(&d) else { Issue.record("joined an ended incident"); return }
        #expect(d.ok(end, by: Self.reli).facts.isEmpty)

        let b = try #require(Self.declare(&d, ref: "B"))
        guard case .acceptedIntoIncident(let c3, _)? = Self.report(&d) else { Issue.record("not merged"); return }
        let resolved = d.ok(.incidentEnd(Fixtures.make(["id": "end-B", "incident_id": b.incidentID, "outcome": "resolved"])), by: Self.reli)
        #expect(resolved.facts.map(\.type) == ["incident.ended"] && d.state(c3) == .merged, "the reports end with it")
    }

    @Test func aDepartmentDeclaresOnlyItsOwnWorkAndOnlyOnce() throws {
        var d = Driver()
        let first = try #require(Self.declare(&d, ref: "X"))
        #expect(Self.declare(&d, ref: "X")?.incidentID == first.incidentID, "the same ref again: the same incident")
        #expect(d.ledger.incidents.count == 1)
        guard case .failure(let e) = d.run(.incident(Fixtures.make(["id": "i-cg", "ref": "Y", "title": "t", "categories": ["heating_not_warm"],
                                                                    "grids": ["zz/erqi"], "message": "m",
                                                                    "expected_end": Timestamp.format(d.now.adding(ms: 3_600_000))])),
                                           by: Fixtures.agency("chengguan")) else { Issue.record("城管 declared a water outage"); return }
        #expect(e.code == .forbidden)
        guard case .failure(let g) = d.run(.incidentEnd(Fixtures.make(["id": "e-x", "incident_id": first.incidentID, "outcome": "resolved"])),
                                           by: Fixtures.agency("zhujian")) else { Issue.record("住建 ended 热力's incident"); return }
        #expect(g.code == .forbidden)
        guard case .failure(let u) = d.run(.incident(Fixtures.make(["id": "i-u", "ref": "Z", "title": "t", "categories": ["heating_not_warm"],
                                                                    "grids": ["zz/nowhere"], "message": "m",
                                                                    "expected_end": Timestamp.format(d.now.adding(ms: 3_600_000))])),
                                           by: Self.reli) else { Issue.record("an unknown grid taken"); return }
        #expect(u.field == "grids[0]")
    }
}

extension IncidentTests {
    @Test func anIncidentStillActiveAfterItsNoticeTimeTellsTheCentreOnce() throws {
        var d = Driver()
        let body: [String: Any] = ["id": "long", "ref": "TS-9", "title": "停水", "categories": ["heating_not_warm"], "grids": ["zz/erqi"],
                                   "message": "抢修中", "expected_end": Timestamp.format(d.now.adding(ms: 48 * 3_600_000)),
                                   "notify_after": "24h", "notice": "emergency_supply"]
        guard case .incident(let r)? = d.ok(.incident(Fixtures.make(body)), by: Self.reli).reply else { Issue.record("not declared"); return }
        let timer = try #require(d.ledger.timers["\(r.incidentID)/incident/0"])
        #expect(timer.due == d.now.adding(ms: 24 * 3_600_000) && timer.to == ["ops"] && timer.notice == "emergency_supply")
        #expect(d.ledger.fire(timer.id, now: d.now).facts.isEmpty, "not before its time")
        let fired = d.ledger.fire(timer.id, now: timer.due)
        #expect(fired.facts.map(\.type) == ["incident.escalated"] && fired.actions == [.notice(timer)])
        #expect(d.ledger.fire(timer.id, now: timer.due).facts.isEmpty, "once")

        // Ended before its time: nobody is disturbed.
        var e = Driver()
        guard case .incident(let r2)? = e.ok(.incident(Fixtures.make(body)), by: Self.reli).reply else { Issue.record("not declared"); return }
        _ = e.ok(.incidentEnd(Fixtures.make(["id": "end", "incident_id": r2.incidentID, "outcome": "resolved"])), by: Self.reli)
        #expect(e.ledger.timers["\(r2.incidentID)/incident/0"] == nil)
    }
}

extension IncidentTests {
    @Test func aDepartmentDeclaresOnlyWhereItLeads() {
        // noise: 住建 leads it, except in 金水区 where 城管 does.
        var d = Driver()
        func declare(_ grid: String, by agency: String) -> Result<Decision, WireError> {
            d.run(.incident(Fixtures.make(["id": "n-\(grid)-\(agency)", "ref": "N-\(grid)", "title": "夜间施工", "categories": ["noise"],
                                           "grids": [grid], "message": "m", "expected_end": Timestamp.format(d.now.adding(ms: 3_600_000))])),
                  by: Fixtures.agency(agency))
        }
        guard case .failure(let e) = declare("zz/erqi", by: "chengguan") else { Issue.record("城管 swallowed 住建's noise reports in 二七区"); return }
        #expect(e.code == .forbidden)
        guard case .success = declare("zz/jinshui", by: "chengguan") else { Issue.record("城管 refused where it leads"); return }
        guard case .failure = declare("zz", by: "zhujian") else { Issue.record("住建 declared city-wide over 城管's 金水区"); return }
    }
}
