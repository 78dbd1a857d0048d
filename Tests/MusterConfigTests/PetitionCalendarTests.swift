import Foundation
import Testing
@testable import MusterConfig
@testable import MusterCore
import MusterWire

/// A petition's statutory path on the shipped rules and the real calendar, the clock injected:
/// registered before 国庆 2026, its reply served in December, its 复查 window and decision
/// reaching into 2027, a year without a State Council notice yet (provisional statutory days).
@Suite struct PetitionCalendarTests {
    static let rules = SLAConfigTests.config.rules
    static let office = Actor(adapter: "petition-office", roles: [.intake])

    /// A moment in the city's time (+08:00).
    static func at(_ text: String) -> Date { Timestamp.parse(text)! }

    static func make<T: Decodable>(_ json: [String: Any]) -> T {
        try! JSONDecoder().decode(T.self, from: JSONSerialization.data(withJSONObject: json))
    }

    static func petitionAct(_ c: String, _ act: String, id: String, _ extra: [String: Any] = [:]) -> CaseCommand {
        .petition(make(extra.merging(["id": id, "case_id": c, "act": act]) { $1 }))
    }

    static func decide(_ l: inout Ledger, _ command: CaseCommand, by actor: Actor, at now: String) -> Result<Decision, WireError> {
        l.decide(command, by: actor, rules: rules, now: at(now))
    }

    @Test func theStatutoryPathAcrossNationalDayAndIntoAProvisional2027() throws {
        var l = Ledger()
        let submit: CaseCommand = .submit(Self.make(["id": "xf-1", "case": [
            "source": "petition", "external_ref": "XF-2026-0921", "category": "street_vending", "title": "反映占道经营",
            "location": ["grid": "zz/erqi/jiefanglu", "address": "解放路100号"],
            "reporter": ["name": "王五", "phone": "13812345678", "id_number": "11010519491231002X"],
        ] as [String: Any]]))
        let registered = try Self.decide(&l, submit, by: Self.office, at: "2026-09-21T10:00:00+08:00").get()
        guard case .acceptedPetition(let c, _, _, _, let p, _) = registered.reply else { Issue.record("not registered"); return }
        #expect(p.state == .forwarded)
        // 告知 within 15 日: 10-06 falls in 国庆 (10-01…10-07), so the last day is 10-08, to its end.
        let notify = try #require(l.timers.all.first { $0.caseID == c && $0.clock == .notify })
        #expect(notify.deadline == Self.at("2026-10-09T00:00:00+08:00"))
        _ = try Self.decide(&l, Self.petitionAct(c, "notify", id: "n1", ["document": ["kind": "acceptance", "number": "郑信转〔2026〕1号"]]),
                            by: Self.office, at: "2026-09-28T09:00:00+08:00").get()
        #expect(!l.timers.all.contains { $0.caseID == c && $0.clock == .notify })

        let lead = try #require(l.openDispatchRecords(of: c).first { $0.role == .lead })
        let unit = Actor(adapter: "\(lead.agency)-1", roles: [.agency], agency: lead.agency)
        _ = try Self.decide(&l, .ack(Self.make(["id": "a1", "dispatch_id": lead.dispatchID])), by: unit, at: "2026-09-30T16:00:00+08:00").get()
        // 60 日 from 受理 (09-30): 11-29 is a Sunday, so the last day is Monday 11-30.
        #expect(l.dispatches[lead.dispatchID]?.resolveBy == Self.at("2026-12-01T00:00:00+08:00"))

        _ = try Self.decide(&l, .resolve(Self.make(["id": "r1", "dispatch_id": lead.dispatchID, "result": "已取缔"])), by: unit,
                            at: "2026-11-20T10:00:00+08:00").get()
        _ = try Self.decide(&l, Self.petitionAct(c, "notify", id: "n2", ["document": ["kind": "reply", "number": "郑城管复〔2026〕9号",
                                                                                      "served_at": "2026-12-10T15:00:00+08:00"]]),
                            by: unit, at: "2026-12-11T09:00:00+08:00").get()
        // 30 日 from 12-10: 2027-01-09 is a Saturday (2027 provisional: no 调休 make-up days), so Monday 01-11.
        #expect(l.cases[c]?.petition?.windowCloses == Self.at("2027-01-12T00:00:00+08:00"))

        var late = l
        let refused = Self.decide(&late, Self.petitionAct(c, "request_review", id: "rv-late"), by: Self.office, at: "2027-01-12T09:00:00+08:00")
        guard case .failure(let e) = refused else { Issue.record("a 复查 after its window was taken"); return }
        #expect(e.code == .windowClosed && e.state == "replied")

        _ = try Self.decide(&l, Self.petitionAct(c, "request_review", id: "rv", ["reason": "对答复不服"]), by: Self.office,
                            at: "2027-01-11T23:00:00+08:00").get()
        // 复查 decided in 30 日: 2027-02-10 is a 春节 补假 day (provisional), so 02-11.
        #expect(l.cases[c]?.petition?.decideBy == Self.at("2027-02-12T00:00:00+08:00"))
        #expect(l.cases[c]?.petition?.state == .reviewing)
    }
}
