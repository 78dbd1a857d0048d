import Foundation
import MusterCore
import MusterWire

/// libFuzzer target for the core: a byte string becomes a sequence of commands from every kind
/// of peer against a small city; the ledger must never crash, refusals must change nothing, and
/// replaying the facts must rebuild the ledger.
enum City {
    static let grids = GridMap(root: "zz", names: ["zz": "郑州市", "zz/erqi": "二七区", "zz/erqi/jiefanglu": "解放路街道", "zz/jinshui": "金水区"],
                               dedicated: [.init(code: "erqita", name: "二七塔商圈", members: ["zz/erqi/jiefanglu"], units: ["chengguan", "gongan"])],
                               levels: ["zz/erqi": "district", "zz/erqi/jiefanglu": "street"], servedBy: ["zhujian": ["zz"], "reli": ["zz/jinshui"]])
    static let routing = Routing(
        agencies: ["chengguan", "gongan", "zhujian", "reli"].map { Routing.Agency(code: $0, name: $0) },
        categories: [
            .init(code: "street_vending", name: "占道经营", lead: "chengguan", keywords: ["占道"],
                  overrides: [.init(grid: "erqita", lead: "chengguan", assists: ["gongan"])]),
            .init(code: "road_collapse", name: "道路塌陷", lead: "zhujian", assists: ["gongan"], fallbacks: ["chengguan"]),
            .init(code: "heating_not_warm", name: "暖气不热", lead: "reli"),
        ])
    static let calendar = WorkCalendar(years: [2026, 2027], daysOff: [], makeUpWorkdays: [],
                                       seasons: [.init(name: "all", from: (1, 1), to: (12, 31), hours: [510..<720, 840..<1050])])
    static let sla = SLAPolicy(
        defaults: [.triage: Period(2, .h), .ack: Period(1, .h), .return: Period(1, .wd), .resolve: Period(5, .wd),
                   .verify: Period(1, .wd), .evaluate: Period(1, .wd)],
        modes: [.emergency: .init(scale: 0.25, caps: [.ack: Period(5, .m)], whistleCategories: ["road_collapse"])],
        ladders: [.ack: [.init(at: .percent(75), notice: "remind", to: ["agency"], level: 1),
                         .init(at: .percent(100), notice: "supervise", to: ["ops"], level: 2)],
                  .resolve: [.init(at: .percent(100), notice: "supervise", to: ["ops"], level: 2)],
                  .triage: [.init(at: .percent(100), notice: "supervise", to: ["ops"], level: 2)],
                  .whistle: [.init(at: .beforeDeadline(seconds: 600), notice: "remind", to: ["agency"], level: 1),
                             .init(at: .afterDeadline(Period(30, .m)), notice: "report_overdue", to: ["district"], level: 3)]])
    static let rules = Rules(routing: routing, grids: grids, sla: sla, calendar: calendar)

    static func make<T: Decodable>(_ json: [String: Any]) -> T? {
        guard let data = try? JSONSerialization.data(withJSONObject: json) else { return nil }
        return try? JSONDecoder().decode(T.self, from: data)
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCore(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    var ledger = Ledger()
    var facts: [Fact] = []
    var now = Date(ms: 1_795_000_000_000)
    let agencies = ["chengguan", "gongan", "zhujian", "reli"]
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var i = 0
    while i + 1 < bytes.count && i < 400 {
        let op = Int(bytes[i]), arg = Int(bytes[i + 1])
        i += 2
        now = now.adding(ms: Int64(arg) * 60_000)
        let cases = ledger.cases.keys.sorted()
        let c = cases.isEmpty ? "C0000000001" : cases[arg % cases.count]
        let ds = ledger.dispatches.keys.sorted()
        let d = ds.isEmpty ? "D0000000001" : ds[arg % ds.count]
        let agency = Actor(adapter: "a", roles: [.agency], agency: agencies[arg % agencies.count])
        let ops = Actor(adapter: "ops", roles: [.ops]), intake = Actor(adapter: "in", roles: [.intake])
        let command: CaseCommand?, actor: Actor
        let ws = ledger.whistles.keys.sorted()
        let w = ws.isEmpty ? "W0000000001" : ws[arg % ws.count]
        let grid = Actor(adapter: ["street-1", "street-2"][arg % 2], roles: [.grid])
        switch op % 17 {
        case 0, 1:
            let cats = ["street_vending", "road_collapse", "heating_not_warm", "unknown"]
            command = City.make(["id": "s\(i)", "case": ["source": "camera", "external_ref": "r\(arg % 23)", "category": cats[arg % 4],
                                                         "title": "t", "location": ["grid": arg % 3 == 0 ? "zz/jinshui" : "zz/erqi/jiefanglu",
                                                                                    "address": "addr\(arg % 3)"]]]).map(CaseCommand.submit)
            actor = intake
        case 2: command = City.make(["id": "a\(i)", "dispatch_id": d]).map(CaseCommand.ack); actor = agency
        case 3: command = City.make(["id": "p\(i)", "dispatch_id": d, "note": "n"]).map(CaseCommand.progress); actor = agency
        case 4: command = City.make(["id": "r\(i)", "dispatch_id": d]).map(CaseCommand.resolve); actor = agency
        case 5: command = City.make(["id": "x\(i)", "dispatch_id": d, "reason": "not_our_duty"]).map(CaseCommand.return); actor = agency
        case 6: command = City.make(["id": "as\(i)", "case_id": c, "lead": agencies[arg % 4]]).map(CaseCommand.assign); actor = ops
        case 7: command = City.make(["id": "rj\(i)", "case_id": c, "reason": "r"]).map(CaseCommand.reject); actor = ops
        case 8: command = City.make(["id": "v\(i)", "case_id": c, "passed": arg % 2 == 0]).map(CaseCommand.verify); actor = ops
        case 9: command = City.make(["id": "e\(i)", "case_id": c, "satisfaction": ["satisfied", "dissatisfied"][arg % 2]]).map(CaseCommand.evaluate); actor = intake
        case 10: command = City.make(["id": "ex\(i)", "dispatch_id": d, "by": ["1d", "2wd", "3wh"][arg % 3], "reason": "r"]).map(CaseCommand.extend); actor = arg % 2 == 0 ? ops : agency
        case 11: command = City.make(["id": "m\(i)", "mode": ["emergency", "normal"][arg % 2], "scope": "zz/erqi"]).map(CaseCommand.mode); actor = ops
        case 12: command = City.make(["id": "b\(i)", "dispatch_id": d, "explanation": "long enough explanation"]).map(CaseCommand.backlog); actor = agency
        case 13:
            var body: [String: Any] = ["id": "w\(i)", "grid": ["zz/erqi/jiefanglu", "erqita", "zz/jinshui", "zz/nowhere"][arg % 4],
                                       "reason": "r", "kind": ["emergency", "enforcement", "resident_concern"][arg % 3]]
            if arg % 5 == 0 { body["case_id"] = c }
            if arg % 3 == 1 { body["summon"] = Array(agencies.prefix(arg % 4 + 1)) + (arg % 7 == 0 ? ["nobody"] : []) }
            if arg % 11 == 0 { body = ["id": "w\(i)", "whistle_id": w, "summon": [agencies[arg % 4]]] }
            command = City.make(body).map(CaseCommand.whistle); actor = arg % 6 == 0 ? ops : grid
        case 14:
            command = City.make(["id": "rp\(i)", "whistle_id": w, "status": ["en_route", "on_site"][arg % 2]]).map(CaseCommand.report); actor = agency
        case 15:
            var body: [String: Any] = ["id": "sd\(i)", "whistle_id": w]
            if arg % 3 == 0 { body["agency"] = agencies[arg % 4] } else if arg % 3 == 1 { body["override"] = "reason" }
            command = City.make(body).map(CaseCommand.standDown); actor = arg % 2 == 0 ? ops : grid
        default:
            for t in ledger.timers.all.sorted(by: { $0.id < $1.id }) { facts += ledger.fire(t.id, of: t.owner, now: now).facts }
            continue
        }
        guard let command else { continue }
        let before = ledger
        switch ledger.decide(command, by: actor, rules: City.rules, now: now) {
        case .success(let decision): facts += decision.facts
        case .failure: if ledger != before { fatalError("a refusal changed the ledger") }
        }
    }
    var replayed = Ledger()
    for f in facts { replayed.apply(f) }
    if replayed.cases != ledger.cases || replayed.dispatches != ledger.dispatches || replayed.timers != ledger.timers
        || replayed.whistles != ledger.whistles {
        fatalError("replaying the facts does not rebuild the ledger")
    }
    return 0
}

#if !FUZZING
/// Without libFuzzer: replays the corpus (see FuzzWire).
@main struct Replay {
    static func main() throws {
        var n = 0
        for path in CommandLine.arguments.dropFirst() {
            for file in (try? FileManager.default.contentsOfDirectory(atPath: path).map { "\(path)/\($0)" }) ?? [path] {
                let data = try Data(contentsOf: URL(fileURLWithPath: file))
                _ = data.withUnsafeBytes { fuzzCore($0.bindMemory(to: UInt8.self).baseAddress ?? UnsafePointer(bitPattern: 1)!, data.count) }
                n += 1
            }
        }
        print("FuzzCore: replayed \(n) inputs, no crash")
    }
}
#endif
