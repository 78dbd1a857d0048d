import Foundation
import GRDB
import Testing
import MusterConfig
@testable import MusterCore
@testable import MusterStore
import MusterWire

enum StoreFixtures {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let rules = try! BrokerConfig.load(repo.appendingPathComponent("config/muster.yaml").path, insecure: true).rules

    static func tempDB() -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("muster-store-\(UUID().uuidString)")
        return dir.appendingPathComponent("test.db").path
    }

    static func make<T: Decodable>(_ json: [String: Any]) -> T {
        try! JSONDecoder().decode(T.self, from: JSONSerialization.data(withJSONObject: json))
    }

    static func submitJSON(_ n: Int, category: String = "street_vending") -> [String: Any] {
        ["source": "hotline_12345", "external_ref": "12345-\(n)", "category": category, "title": "占道经营 \(n)",
         "location": ["grid": "zz/erqi/jiefanglu", "address": "解放路\(n)号"]]
    }
}

/// A backend the store contract runs against — as nats-server's testAllStoreAllPermutations runs
/// each JetStream store test on every storage type and option. A PostgreSQL backend joins `all`.
struct StoreBackend: Sendable, CustomTestStringConvertible {
    var name: String
    /// A new, empty store.
    var make: @Sendable () throws -> any CaseStore
    /// The same data opened again, as a restarted broker opens it.
    var reopen: @Sendable (any CaseStore) throws -> any CaseStore
    /// Runs SQL on the store's tables behind its back (the tampering tests).
    var tamper: @Sendable (any CaseStore, String) throws -> Void
    var testDescription: String { name }

    static let all: [StoreBackend] = [.sqlite(.full), .sqlite(.normal)]

    static func sqlite(_ sync: Store.Synchronous) -> StoreBackend {
        StoreBackend(
            name: "SQLite synchronous=\(sync.rawValue)",
            make: { try Store(path: StoreFixtures.tempDB(), synchronous: sync) },
            reopen: { try Store(path: $0.path, synchronous: sync) },
            tamper: { store, sql in try DatabaseQueue(path: store.path).write { try $0.execute(sql: sql) } })
    }
}

/// Runs commands through the core and commits each decision, like the broker does.
struct Harness {
    var ledger = Ledger()
    let store: any CaseStore
    var now = Date(ms: 1_795_000_000_000)
    /// What a SUBMIT run here keeps as the case's submitted bytes.
    var submittedBytes = Array(#"{"title":"x"}"#.utf8)

    init(_ store: any CaseStore) throws {
        self.store = store
        ledger = try store.loadLedger()
    }

    @discardableResult
    mutating func run(_ command: CaseCommand, by actor: Actor, reply: (String, String)? = nil) throws -> Decision {
        now = now.adding(ms: 1000)
        let decision = try ledger.decide(command, by: actor, rules: StoreFixtures.rules, now: now).get()
        var batch = Batch()
        batch.add(decision.facts, touched: decision.touched)
        for action in decision.actions {
            switch action {
            case .keepSubmitted(let id): batch.submitted[id] = submittedBytes
            case .push(let d):
                batch.pushes.append(Batch.Push(delivery: store.nextDelivery(), target: "agency:\(d.agency)", command: "DISPATCH",
                                               body: Array("{}".utf8), dispatchID: d.dispatchID, createdAt: now))
            case .withdraw(let id):
                batch.withdrawn.append(id)
                batch.withdrawnDeliveries += try store.pendingPushes().filter { $0.dispatchID == id }.map(\.delivery)
            case .summon(let s):
                batch.pushes.append(Batch.Push(delivery: store.nextDelivery(), target: "agency:\(s.agency)", command: "SUMMON",
                                               body: Array("{}".utf8), dispatchID: s.summonID, createdAt: now))
            case .notice, .schedule, .alert: break
            }
        }
        if let (adapter, id) = reply {
            batch.replies.append(Batch.StoredReply(adapter: adapter, requestID: id, command: .ok, body: Array("{\"re\":\"\(id)\"}".utf8), at: now))
        }
        try store.commit(batch, ledger: ledger)
        return decision
    }

    mutating func fullCase(_ n: Int) throws -> String {
        let d = try run(.submit(StoreFixtures.make(["id": "s\(n)", "case": StoreFixtures.submitJSON(n)])), by: Actor(adapter: "hotline", roles: [.intake]))
        guard case .accepted(let c, _, _, _) = d.reply else { throw StoreError.corrupt("no case") }
        let lead = ledger.openDispatchRecords(of: c).first { $0.role == .lead }!
        let cg = Actor(adapter: "cg-1", roles: [.agency], agency: lead.agency)
        try run(.ack(StoreFixtures.make(["id": "a\(n)", "dispatch_id": lead.dispatchID, "handler": "王五"])), by: cg)
        if n % 4 == 0 {
            try run(.extend(StoreFixtures.make(["id": "x\(n)e", "dispatch_id": lead.dispatchID, "by": "2wd", "reason": "等待配件"])), by: cg)
        }
        if n % 3 == 0 {
            try run(.return(StoreFixtures.make(["id": "x\(n)", "dispatch_id": lead.dispatchID, "reason": "not_our_duty"])), by: cg)
            return c
        }
        try run(.resolve(StoreFixtures.make(["id": "r\(n)", "dispatch_id": lead.dispatchID])), by: cg)
        let satisfaction = n % 5 == 0 ? "dissatisfied" : "satisfied"
        try run(.evaluate(StoreFixtures.make(["id": "e\(n)", "case_id": c, "satisfaction": satisfaction])), by: Actor(adapter: "hotline", roles: [.intake]))
        return c
    }
}
