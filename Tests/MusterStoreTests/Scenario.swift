import Foundation
import Testing
import MusterConfig
@testable import MusterCore
@testable import MusterStore
import MusterWire

/// A day at the centre that makes every kind of fact at least once: merge, triage, rejection,
/// assists, returns to the fallback and to consultation, assignment, extension, rework, redo,
/// closing, ladder rungs firing, a backlog, management modes and a holiday schedule moving
/// deadlines. Some cases are left open so that more can happen to them later.
extension Harness {
    static let hotline = Actor(adapter: "hotline-12345", roles: [.intake])
    static let ops = Actor(adapter: "ops-1", roles: [.ops])
    static let grid = Actor(adapter: "grid-1", roles: [.grid])
    static func agency(_ code: String) -> Actor { Actor(adapter: "\(code)-1", roles: [.agency], agency: code) }

    /// Commits facts the broker makes on its own (a rung firing, a new holiday schedule).
    mutating func record(_ decision: Decision) throws {
        var batch = Batch()
        batch.add(decision.facts, touched: decision.touched)
        try store.commit(batch, ledger: ledger)
    }

    mutating func submit(_ n: Int, category: String?, title: String, grid: String = "zz/erqi/jiefanglu", address: String?) throws -> String {
        var c: [String: Any] = ["source": "hotline_12345", "external_ref": "12345-\(n)", "title": title,
                                "location": ["grid": grid, "address": address].compactMapValues { $0 }]
        if let category { c["category"] = category }
        let d = try run(.submit(StoreFixtures.make(["id": "s\(n)", "case": c])), by: Self.hotline, reply: ("hotline-12345", "s\(n)"))
        guard case .accepted(let id, _, _, _) = d.reply else { throw StoreError.corrupt("not accepted") }
        return id
    }

    func lead(_ caseID: String) -> DispatchRecord { ledger.openDispatchRecords(of: caseID).first { $0.role == .lead }! }

    /// Fires every rung due by `now`, in due order, as the broker's timer heap does.
    mutating func fireDue() throws {
        for t in ledger.timers.all.filter({ $0.due <= now }).sorted(by: { ($0.due, $0.id) < ($1.due, $1.id) }) {
            try record(ledger.fire(t.id, of: t.owner, now: now))
        }
    }

    /// Returns the ids of the cases made, in order.
    @discardableResult
    mutating func aDayAtTheCentre() throws -> [String] {
        var made: [String] = []
        // 1. A street vendor: acked with progress and a photo, extended, resolved; the grid's
        //    verification fails (返工), then the caller is dissatisfied (重办), then all is well.
        let a = try submit(1, category: "street_vending", title: "占道经营 解放路", address: "解放路1号")
        made.append(a)
        var cg = Self.agency(lead(a).agency)
        try run(.ack(StoreFixtures.make(["id": "a1", "dispatch_id": lead(a).dispatchID, "handler": "王五", "note": "已签收",
                                         "downstream": ["status": "10", "ref": "CG-2026-0001", "update": "CG-0001-1"]])), by: cg)
        // 城管's own system stutters, goes down and comes back (HEALTH).
        try run(.health(StoreFixtures.make(["id": "h1", "state": "down", "detail": "HTTP 503", "failures": 5])), by: cg)
        try run(.health(StoreFixtures.make(["id": "h2", "state": "ok"])), by: cg)
        try run(.progress(StoreFixtures.make(["id": "p1", "dispatch_id": lead(a).dispatchID, "note": "到场处置 \"现场\"\n第二行",
                                           "attachments": [["url": "https://files.example/1.jpg", "sha256": String(repeating: "ab", count: 32)],
                                                           ["url": "https://files.example/2.jpg"]]])), by: cg)
        try run(.extend(StoreFixtures.make(["id": "x1", "dispatch_id": lead(a).dispatchID, "by": "2wd", "reason": "等待配件"])), by: cg)
        // 2. The same problem reported again within the merge window: 并单.
        made.append(try submit(2, category: "street_vending", title: "又有人摆摊", address: "解放路1号"))
        try run(.resolve(StoreFixtures.make(["id": "r1", "dispatch_id": lead(a).dispatchID, "result": "已清理", "note": "摊位已撤"])), by: cg)
        try run(.verify(StoreFixtures.make(["id": "v1", "case_id": a, "passed": false, "note": "仍有摊位"])), by: Self.grid)
        try run(.ack(StoreFixtures.make(["id": "a1b", "dispatch_id": lead(a).dispatchID])), by: cg)
        try run(.resolve(StoreFixtures.make(["id": "r1b", "dispatch_id": lead(a).dispatchID])), by: cg)
        try run(.evaluate(StoreFixtures.make(["id": "e1", "case_id": a, "satisfaction": "dissatisfied", "note": "摊贩又回来了"])), by: Self.hotline)
        try run(.ack(StoreFixtures.make(["id": "a1c", "dispatch_id": lead(a).dispatchID, "handler": "赵六"])), by: cg)
        try run(.resolve(StoreFixtures.make(["id": "r1c", "dispatch_id": lead(a).dispatchID])), by: cg)
        try run(.verify(StoreFixtures.make(["id": "v1b", "case_id": a, "passed": true])), by: Self.grid)
        try run(.evaluate(StoreFixtures.make(["id": "e1b", "case_id": a, "satisfaction": "basically_satisfied"])), by: Self.hotline)

        // 3. A road collapse: a lead and two assists; an assist finishes its part; the lead
        //    returns it (to the fallback), the fallback returns it too (会商), the centre assigns.
        let c = try submit(3, category: "road_collapse", title: "道路塌陷", grid: "zz/jinshui/renminlu", address: "人民路8号")
        made.append(c)
        let assist = ledger.openDispatchRecords(of: c).first { $0.role == .assist }!
        try run(.ack(StoreFixtures.make(["id": "a3a", "dispatch_id": assist.dispatchID])), by: Self.agency(assist.agency))
        try run(.resolve(StoreFixtures.make(["id": "r3a", "dispatch_id": assist.dispatchID, "note": "已设围挡"])), by: Self.agency(assist.agency))
        try run(.return(StoreFixtures.make(["id": "x3", "dispatch_id": lead(c).dispatchID, "reason": "not_our_duty", "note": "属市政道路"])),
                by: Self.agency(lead(c).agency))
        try run(.return(StoreFixtures.make(["id": "x3b", "dispatch_id": lead(c).dispatchID, "reason": "not_our_duty"])),
                by: Self.agency(lead(c).agency))
        try run(.assign(StoreFixtures.make(["id": "as3", "case_id": c, "lead": "zhujian", "assists": ["chengguan"], "note": "会商决定"])), by: Self.ops)
        try run(.ack(StoreFixtures.make(["id": "a3", "dispatch_id": lead(c).dispatchID, "handler": "李四"])), by: Self.agency("zhujian"))

        // 4. Nobody's: it waits at the triage queue and is rejected.
        let d = try submit(4, category: nil, title: "咨询一件事", address: nil)
        made.append(d)
        try run(.reject(StoreFixtures.make(["id": "rj4", "case_id": d, "reason": "不属于受理范围"])), by: Self.ops)

        // 5. An emergency in 二七区; a case there gets the tight windows; back to normal.
        try run(.mode(StoreFixtures.make(["id": "m1", "mode": "emergency", "scope": "zz/erqi"])), by: Self.ops)
        let e = try submit(5, category: "street_vending", title: "占道经营 德化街", grid: "zz/erqi/jiefanglu", address: "解放路99号")
        made.append(e)
        try run(.mode(StoreFixtures.make(["id": "m2", "mode": "normal", "scope": "zz/erqi"])), by: Self.ops)
        let f = try submit(6, category: "heating_not_warm", title: "暖气不热", grid: "zz/jinshui/renminlu", address: "民主路3号院")
        made.append(f)
        let g = try submit(7, category: "noise", title: "夜间施工噪音", address: nil)
        made.append(g)

        // 6. The holiday schedule changes under the open dispatches: tomorrow becomes a day off.
        var changed = StoreFixtures.rules
        changed.calendar.daysOff.insert(CivilDay(now.adding(ms: 86_400_000)))
        now = now.adding(ms: 1000)
        try record(ledger.recalendar(from: StoreFixtures.rules.calendar, to: changed, now: now).decision)

        // 7. Time passes: rungs fire (催办, 督办, 通报); the late street vendor in 二七区 goes on the
        //    backlog (挂账) with an explanation; 德化街's heating is finished and waits for its call.
        now = lead(e).ackBy.adding(ms: 60_000)
        try fireDue()
        cg = Self.agency(lead(e).agency)
        try run(.ack(StoreFixtures.make(["id": "a5", "dispatch_id": lead(e).dispatchID])), by: cg)
        now = lead(e).resolveBy.adding(ms: 60_000)
        try fireDue()
        try run(.backlog(StoreFixtures.make(["id": "b5", "dispatch_id": lead(e).dispatchID, "explanation": "涉及历史遗留产权纠纷，需区政府协调"])), by: cg)
        let reli = Self.agency(lead(f).agency)
        try run(.ack(StoreFixtures.make(["id": "a6", "dispatch_id": lead(f).dispatchID])), by: reli)
        try run(.resolve(StoreFixtures.make(["id": "r6", "dispatch_id": lead(f).dispatchID])), by: reli)

        // 8. 解放路's street office whistles on the noise case: 城管 comes (en route, then on site
        //    with its position), 公安 does not and gets its rungs, 住建 joins later and is let go
        //    early; the centre stands the whistle down while the case is still open, with a reason.
        let street = Actor(adapter: "jiefanglu-street", roles: [.grid])
        try run(.whistle(StoreFixtures.make(["id": "w8", "grid": "zz/erqi/jiefanglu", "reason": "夜间施工扰民，多部门联合执法",
                                             "kind": "enforcement", "summon": ["chengguan", "gongan"], "case_id": g])), by: street)
        let w = ledger.whistles.keys.max()!
        try run(.report(StoreFixtures.make(["id": "rp1", "whistle_id": w, "status": "en_route"])), by: Self.agency("chengguan"))
        try run(.report(StoreFixtures.make(["id": "rp2", "whistle_id": w, "status": "on_site", "note": "已到场", "lat": 34.7533, "lon": 113.6653])),
                by: Self.agency("chengguan"))
        try run(.whistle(StoreFixtures.make(["id": "w8b", "whistle_id": w, "summon": ["zhujian"]])), by: street)
        try run(.standDown(StoreFixtures.make(["id": "sd8a", "whistle_id": w, "agency": "zhujian"])), by: street)
        now = now.adding(ms: 61 * 60_000)
        try fireDue()
        try run(.standDown(StoreFixtures.make(["id": "sd8", "whistle_id": w, "override": "施工已停止，转常规处置"])), by: Self.ops)
        // 9. 热力 declares a known incident (a failed heat exchange station); two calls join it;
        //    the repair drags on and it hands them back, each routed as a case of its own.
        try run(.incident(StoreFixtures.make(["id": "inc9", "ref": "RL-OUT-9", "title": "换热站故障", "categories": ["heating_not_warm"],
                                              "grids": ["zz/erqi/jiefanglu"], "message": "换热站抢修中，预计6小时内恢复",
                                              "expected_end": Timestamp.format(now.adding(ms: 6 * 3_600_000)),
                                              "notify_after": "1h", "notice": "no_heating_long"])), by: Self.agency("reli"))
        for n in 91...92 {
            let c: [String: Any] = ["source": "hotline_12345", "external_ref": "12345-\(n)", "title": "暖气不热", "category": "heating_not_warm",
                                    "location": ["grid": "zz/erqi/jiefanglu", "address": "解放路\(n)号"]]
            let d = try run(.submit(StoreFixtures.make(["id": "s\(n)", "case": c])), by: Self.hotline, reply: ("hotline-12345", "s\(n)"))
            guard case .acceptedIntoIncident(let id, _) = d.reply else { throw StoreError.corrupt("not joined") }
            made.append(id)
        }
        now = now.adding(ms: 61 * 60_000)
        try fireDue()  // still out after an hour: the centre is told
        try run(.incidentEnd(StoreFixtures.make(["id": "end9", "ref": "RL-OUT-9", "outcome": "hand_back", "note": "抢修延长，逐户处理"])),
                by: Self.agency("reli"))
        // 10. 违法搭建, a staged limit: 停工 reached; 处罚's clock runs on, left open.
        let k = try submit(10, category: "illegal_construction", title: "楼顶私搭彩钢房", address: "解放路10号")
        made.append(k)
        try run(.ack(StoreFixtures.make(["id": "a10", "dispatch_id": lead(k).dispatchID])), by: Self.agency(lead(k).agency))
        try run(.progress(StoreFixtures.make(["id": "p10", "dispatch_id": lead(k).dispatchID, "note": "阶段完成：停工", "milestone": "停工"])),
                by: Self.agency(lead(k).agency))
        // 11. 信访: a petition forwarded, told, objected to (overruled), accepted, answered and
        //     reviewed; its repeat merged and confirmed, another split off; a second unit's
        //     objection upheld; and a reply no one contests, whose window closes.
        let office = Actor(adapter: "petition-office", roles: [.intake])
        func notify(_ c: String, _ kind: String, _ id: String, by: Actor = office) throws {
            try run(.petition(StoreFixtures.make(["id": id, "case_id": c, "act": "notify",
                                                  "document": ["kind": kind, "number": "郑信\(id)号", "issuer": "郑州市信访局"]])), by: by)
        }
        func act(_ c: String, _ act: String, _ id: String, _ extra: [String: Any] = [:], by: Actor = office) throws {
            try run(.petition(StoreFixtures.make(extra.merging(["id": id, "case_id": c, "act": act]) { $1 })), by: by)
        }
        let p = try petition(11, category: "street_vending", address: "解放路11号")
        made.append(p)
        let pcg = Self.agency(lead(p).agency)
        try notify(p, "acceptance", "n11")
        try act(p, "object", "o11", ["reason": "不属本单位职责"], by: pcg)
        try act(p, "rule", "r11", ["agree": false, "reason": "属城管职责"])
        try run(.ack(StoreFixtures.make(["id": "a11", "dispatch_id": lead(p).dispatchID])), by: pcg)
        try run(.resolve(StoreFixtures.make(["id": "r11x", "dispatch_id": lead(p).dispatchID, "result": "已取缔"])), by: pcg)
        try notify(p, "reply", "d11", by: pcg)
        try act(p, "request_review", "rv11", ["reason": "对答复不服"])
        try notify(p, "review", "f11")
        made.append(try petition(12, category: "street_vending", address: "解放路11号"))  // the same petitioner and facts: merged
        try act(made.last!, "confirm_repeat", "c12")
        made.append(try petition(13, category: "street_vending", address: "解放路11号"))
        try act(made.last!, "split_repeat", "s13", ["reason": "新的诉求"])
        let q = try petition(14, category: "road_collapse", address: "人民路14号", name: "赵六")
        made.append(q)
        try act(q, "object", "o14", ["reason": "属燃气公司"], by: Self.agency(lead(q).agency))
        try act(q, "rule", "r14", ["agree": true])
        let u = try petition(15, category: "street_vending", address: "解放路15号", name: "钱七")
        made.append(u)
        try run(.ack(StoreFixtures.make(["id": "a15", "dispatch_id": lead(u).dispatchID])), by: Self.agency(lead(u).agency))
        try run(.resolve(StoreFixtures.make(["id": "r15", "dispatch_id": lead(u).dispatchID])), by: Self.agency(lead(u).agency))
        try notify(u, "reply", "d15")
        now = ledger.cases[u]!.petition!.windowCloses!.adding(ms: 1000)
        try fireDue()
        return made
    }

    /// A petition (信访) registered by the petition office.
    mutating func petition(_ n: Int, category: String, address: String, name: String = "王五") throws -> String {
        let c: [String: Any] = ["source": "petition", "external_ref": "XF-\(n)", "title": "信访：\(category)", "category": category,
                                "location": ["grid": "zz/erqi/jiefanglu", "address": address],
                                "reporter": ["name": name, "phone": "13800000000"], "petition": ["about": [String]()]]
        let d = try run(.submit(StoreFixtures.make(["id": "s\(n)", "case": c])), by: Actor(adapter: "petition-office", roles: [.intake]))
        guard case .acceptedPetition(let id, _, _, _, _, _) = d.reply else { throw StoreError.corrupt("not a petition") }
        return id
    }

    /// After a restart or an upgrade: whatever is open moves on — the waiting case is assigned,
    /// open dispatches are signed for and finished, a finished case's caller is dissatisfied
    /// (重办, a new round) — a new report comes in, a mode is set, and time passes.
    mutating func carryOn() throws {
        for c in ledger.cases.values.sorted(by: { $0.caseID < $1.caseID }) {
            switch c.state {
            case .triage, .consultation:
                try run(.assign(StoreFixtures.make(["id": "as-\(c.caseID)", "case_id": c.caseID, "lead": "chengguan"])), by: Self.ops)
            case .dispatched, .handling:
                let d = lead(c.caseID), by = Self.agency(d.agency)
                if d.state == .sent { try run(.ack(StoreFixtures.make(["id": "a-\(d.dispatchID)", "dispatch_id": d.dispatchID])), by: by) }
                try run(.resolve(StoreFixtures.make(["id": "r-\(d.dispatchID)", "dispatch_id": d.dispatchID, "result": "已处理"])), by: by)
            case .finished:
                try run(.evaluate(StoreFixtures.make(["id": "e-\(c.caseID)", "case_id": c.caseID, "satisfaction": "dissatisfied"])), by: Self.hotline)
            default:
                break
            }
        }
        try run(.mode(StoreFixtures.make(["id": "m-major", "mode": "major_event", "scope": "zz/jinshui"])), by: Self.ops)
        let n = try submit(100, category: "road_collapse", title: "路面塌陷", grid: "zz/jinshui/renminlu", address: "人民路100号")
        try run(.ack(StoreFixtures.make(["id": "a100", "dispatch_id": lead(n).dispatchID, "handler": "周七"])), by: Self.agency(lead(n).agency))
        now = now.adding(ms: 3 * 86_400_000)
        try fireDue()
    }
}
