import Foundation
@testable import MusterCore
import MusterWire
import Synchronization

/// A small city for pure tests: no files, no sockets.
enum Fixtures {
    static let grids = GridMap(
        root: "zz",
        names: [
            "zz": "郑州市", "zz/erqi": "二七区", "zz/erqi/jiefanglu": "解放路街道", "zz/erqi/dehuajie": "德化街街道",
            "zz/jinshui": "金水区", "zz/jinshui/renminlu": "人民路街道", "zz/guancheng": "管城区",
        ],
        dedicated: [GridMap.Dedicated(code: "erqita", name: "二七塔商圈", members: ["zz/erqi/dehuajie", "zz/jinshui/renminlu"],
                                      units: ["chengguan", "gongan"])],
        levels: ["zz": "city", "zz/erqi": "district", "zz/jinshui": "district", "zz/guancheng": "district",
                 "zz/erqi/jiefanglu": "street", "zz/erqi/dehuajie": "street", "zz/jinshui/renminlu": "street"],
        servedBy: ["chengguan": ["zz"], "gongan": ["zz"], "zhujian": ["zz/erqi"], "reli": ["zz/jinshui"]])

    static let routing = Routing(
        agencies: ["chengguan", "gongan", "zhujian", "reli", "gongshui"].map { Routing.Agency(code: $0, name: $0) },
        categories: [
            Routing.Category(code: "road_collapse", name: "道路塌陷", lead: "zhujian", assists: ["gongan"],
                             keywords: ["塌陷"], fallbacks: ["chengguan"]),
            Routing.Category(code: "street_vending", name: "占道经营", lead: "chengguan", keywords: ["占道", "摆摊"],
                             overrides: [Routing.Override(grid: "erqita", lead: "chengguan", assists: ["gongan"])]),
            Routing.Category(code: "heating_not_warm", name: "暖气不热", lead: "reli", keywords: ["暖气"]),
            Routing.Category(code: "noise", name: "噪音", lead: "zhujian",
                             overrides: [Routing.Override(grid: "zz/jinshui", lead: "chengguan")]),
        ])

    /// Weekdays only, 2026–2027: an explicit test schedule (the real one is tested with its holidays).
    static let calendar = WorkCalendar(
        years: [2026, 2027], daysOff: [], makeUpWorkdays: [],
        seasons: [.init(name: "all year", from: (1, 1), to: (12, 31), hours: [510..<720, 840..<1050])])

    static let sla = SLAPolicy(
        defaults: [.triage: Period(2, .h), .ack: Period(1, .h), .return: Period(24, .h), .resolve: Period(5, .d),
                   .verify: Period(1, .wd), .evaluate: Period(1, .wd)],
        rules: [SLAPolicy.Rule(name: "urgent", priorities: [.urgent], windows: [.ack: Period(15, .m), .resolve: Period(2, .h)])],
        modes: [.emergency: .init(scale: 0.25, caps: [.ack: Period(5, .m)], whistleCategories: ["road_collapse"])],
        ladders: [
            .ack: [.init(at: .percent(75), notice: "remind", to: ["agency"], level: 1),
                   .init(at: .percent(100), notice: "supervise", to: ["agency", "supervisor", "ops"], level: 2),
                   .init(at: .afterDeadline(Period(1, .wd)), notice: "report_overdue", to: ["supervisor", "ops"], level: 3)],
            .resolve: [.init(at: .percent(100), notice: "supervise", to: ["agency", "ops"], level: 2)],
            .triage: [.init(at: .percent(100), notice: "supervise", to: ["ops"], level: 2)],
            .verify: [.init(at: .percent(100), notice: "remind", to: ["ops"], level: 1)],
            .evaluate: [.init(at: .percent(100), notice: "remind", to: ["ops"], level: 1)],
            .whistle: [.init(at: .beforeDeadline(seconds: 600), notice: "remind", to: ["agency"], level: 1),
                       .init(at: .percent(100), notice: "supervise", to: ["agency", "supervisor", "street"], level: 2),
                       .init(at: .afterDeadline(Period(30, .m)), notice: "report_overdue", to: ["district", "ops"], level: 3)],
        ],
        extensions: .init(autoMaxCount: 1, autoMaxBy: Period(5, .wd), maxTotal: Period(30, .d)))

    static let rules = Rules(routing: routing, grids: grids, sla: sla, calendar: calendar)

    static let t0 = Date(ms: 1_795_000_000_000)

    static let hotline = Actor(adapter: "hotline-12345", roles: [.intake])
    static let ops = Actor(adapter: "ops-1", roles: [.ops])
    static let grid = Actor(adapter: "grid-1", roles: [.grid])
    static func agency(_ code: String) -> Actor { Actor(adapter: "\(code)-1", roles: [.agency], agency: code) }

    static let sequence = Atomic<Int>(0)

    static func submit(_ category: String? = "street_vending", grid: String? = "zz/erqi/jiefanglu", address: String? = nil,
                       title: String = "占道经营", ref: String? = nil, source: Source = .hotline12345, priority: Priority = .normal) -> CaseCommand {
        let counter = sequence.add(1, ordering: .relaxed).newValue
        var c: [String: Any] = ["source": source.rawValue, "external_ref": ref ?? "ref-\(counter)", "title": title,
                                "priority": priority.rawValue, "location": ["grid": grid, "address": address].compactMapValues { $0 }]
        if let category { c["category"] = category }
        return .submit(make(["id": "s-\(counter)", "case": c]))
    }

    static func ack(_ d: String, id: String? = nil) -> CaseCommand { .ack(make(["id": id ?? "a-\(d)", "dispatch_id": d, "handler": "张三"])) }
    static func progress(_ d: String) -> CaseCommand { .progress(make(["id": "p-\(d)", "dispatch_id": d, "note": "在处置"])) }
    static func resolve(_ d: String, id: String? = nil) -> CaseCommand { .resolve(make(["id": id ?? "r-\(d)", "dispatch_id": d, "result": "done"])) }
    static func giveBack(_ d: String) -> CaseCommand { .return(make(["id": "x-\(d)", "dispatch_id": d, "reason": "not_our_duty"])) }
    static func assign(_ c: String, lead: String, assists: [String] = []) -> CaseCommand {
        .assign(make(["id": "as-\(c)", "case_id": c, "lead": lead, "assists": assists, "note": "会商决定"]))
    }
    static func extend(_ d: String, by: String, id: String? = nil) -> CaseCommand {
        .extend(make(["id": id ?? "ext-\(d)-\(by)", "dispatch_id": d, "by": by, "reason": "需协调产权单位"]))
    }
    static func mode(_ m: String, scope: String? = nil) -> CaseCommand {
        var body: [String: Any] = ["id": "mode-\(m)", "mode": m]
        if let scope { body["scope"] = scope }
        return .mode(make(body))
    }
    static func whistle(_ body: [String: Any]) -> CaseCommand {
        var b = body
        b["id"] = b["id"] ?? "wh-\(sequence.add(1, ordering: .relaxed).newValue)"
        return .whistle(make(b))
    }
    static func report(_ w: String, _ status: String, id: String? = nil) -> CaseCommand {
        .report(make(["id": id ?? "rep-\(w)-\(status)-\(sequence.add(1, ordering: .relaxed).newValue)", "whistle_id": w, "status": status, "note": "到场"]))
    }
    static func standDown(_ w: String, agency: String? = nil, override: String? = nil) -> CaseCommand {
        var b: [String: Any] = ["id": "sd-\(w)-\(sequence.add(1, ordering: .relaxed).newValue)", "whistle_id": w, "note": "事已办完"]
        if let agency { b["agency"] = agency }
        if let override { b["override"] = override }
        return .standDown(make(b))
    }
    static func reject(_ c: String) -> CaseCommand { .reject(make(["id": "rj-\(c)", "case_id": c, "reason": "不属于受理范围"])) }
    static func verify(_ c: String, _ passed: Bool) -> CaseCommand { .verify(make(["id": "v-\(c)", "case_id": c, "passed": passed])) }
    static func evaluate(_ c: String, _ s: Satisfaction) -> CaseCommand { .evaluate(make(["id": "e-\(c)", "case_id": c, "satisfaction": s.rawValue])) }

    /// Request bodies are built the way peers build them: as JSON.
    static func make<T: Decodable>(_ json: [String: Any]) -> T {
        try! JSONDecoder().decode(T.self, from: JSONSerialization.data(withJSONObject: json))
    }
}

/// Drives a ledger through commands, failing loudly on refusals the test did not expect.
struct Driver {
    var ledger = Ledger()
    var now = Fixtures.t0
    let rules: Rules

    init(rules: Rules = Fixtures.rules) { self.rules = rules }

    @discardableResult
    mutating func run(_ command: CaseCommand, by actor: Actor) -> Result<Decision, WireError> {
        now = now.adding(ms: 1000)
        return ledger.decide(command, by: actor, rules: rules, now: now)
    }

    @discardableResult
    mutating func ok(_ command: CaseCommand, by actor: Actor, file: StaticString = #filePath, line: UInt = #line) -> Decision {
        switch run(command, by: actor) {
        case .success(let d): return d
        case .failure(let e): fatalError("unexpected refusal \(e) at \(file):\(line)")
        }
    }

    /// Submits and returns the new case id.
    mutating func newCase(_ command: CaseCommand = Fixtures.submit()) -> String {
        guard case .accepted(let id, _, _, _) = ok(command, by: Fixtures.hotline).reply else { fatalError("not accepted") }
        return id
    }

    func lead(_ caseID: String) -> DispatchRecord? {
        ledger.openDispatchRecords(of: caseID).first { $0.role == .lead }
    }

    /// The most recent lead dispatch, open or not.
    func lastLead(_ caseID: String) -> DispatchRecord? {
        ledger.dispatches.values.filter { $0.caseID == caseID && $0.role == .lead }.max { $0.dispatchID < $1.dispatchID }
    }

    func state(_ caseID: String) -> CaseState? { ledger.cases[caseID]?.state }
}
