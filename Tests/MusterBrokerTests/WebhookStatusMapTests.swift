import Foundation
import Testing
import MusterAdapterKit
import MusterConfig
import MusterWire
@testable import WebhookDepartment

/// The webhook's way back, without HTTP: the status map turns the department's updates into acts
/// (reverse total: an unknown code is refused, never guessed), keeps the raw code with the act,
/// and its config section is checked with file, line and key. The HTTP ends are black-box
/// tested in integration/test_webhook_updates.py.
@Suite struct WebhookStatusMapTests {
    static let map = StatusMap(reverse: ["10": .ack, "20": .progress, "30": .resolve, "40": .return, "50": .extend,
                                         "60": .backlog, "70": .enRoute, "80": .onSite, "90": .ignore],
                               forward: ["dispatch": "01"])

    static func act(_ doc: [String: Any], known: [String: String] = ["RL-WO-1": "D0000000007"], at prefix: String = "") throws -> Act? {
        try map.act(doc, at: prefix, lookUp: { known[$0] }, refOf: { s in known.first { $0.value == s }?.key })
    }

    static func fields(_ act: Act?) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(act?.body ?? []))) as? [String: Any] ?? [:]
    }

    @Test func eachStatusBecomesItsActWithTheRawCodeKept() throws {
        let ack = try #require(try Self.act(["update_id": "u1", "work_order": "RL-WO-1", "status": "10", "handler": "张师傅"]))
        #expect(ack.command == .ack)
        let f = Self.fields(ack)
        #expect(f["dispatch_id"] as? String == "D0000000007" && f["handler"] as? String == "张师傅")
        #expect(f["downstream"] as? [String: String] == ["status": "10", "ref": "RL-WO-1", "update": "u1"])
        // A number is the same code; the ref is found from the dispatch too.
        let done = try #require(try Self.act(["update_id": "u2", "dispatch_id": "D0000000007", "status": 30, "result": "已修复"]))
        #expect(done.command == .resolve && Self.fields(done)["result"] as? String == "已修复")
        #expect((Self.fields(done)["downstream"] as? [String: String])?["ref"] == "RL-WO-1")
        let commands = try [("20", Command.progress), ("40", .return), ("60", .backlog)].map { code, _ in
            try Self.act(["update_id": "u-\(code)", "dispatch_id": "D1", "status": code, "note": "一个足够长的说明文字"])?.command
        }
        #expect(commands == [.progress, .return, .backlog])
        let ext = try Self.act(["update_id": "u5", "dispatch_id": "D1", "status": "50", "by": "3d", "note": "等待配件"])
        #expect(ext?.command == .extend && Self.fields(ext)["by"] as? String == "3d" && Self.fields(ext)["reason"] as? String == "等待配件")
        let onSite = try Self.act(["update_id": "u8", "summon_id": "W0000000002/reli", "status": "80"])
        #expect(onSite?.command == .report && Self.fields(onSite)["whistle_id"] as? String == "W0000000002" && Self.fields(onSite)["status"] as? String == "on_site")
        #expect(try Self.act(["update_id": "u9", "dispatch_id": "D1", "status": "90"]) == nil, "ignore: nothing on the bus")
    }

    @Test func theSameUpdateIsTheSameActAndAnotherIsNot() throws {
        let a = try Self.act(["update_id": "RL-77-3", "dispatch_id": "D1", "status": "10"])
        let b = try Self.act(["update_id": "RL-77-3", "dispatch_id": "D1", "status": "10", "note": "again"])
        let c = try Self.act(["update_id": "RL-77-4", "dispatch_id": "D1", "status": "10"])
        #expect(a?.id == b?.id && a?.id != c?.id && (a?.id.count ?? 99) <= 64)
    }

    @Test func whatTheMapCannotTakeIsRefusedNamingTheField() {
        func refusal(_ doc: Any, at prefix: String = "") -> StatusMap.Refusal? {
            do { _ = try Self.map.act(doc, at: prefix, lookUp: { _ in nil }, refOf: { _ in nil }); return nil } catch { return error as? StatusMap.Refusal }
        }
        #expect(refusal(["update_id": "u", "dispatch_id": "D1", "status": "35"], at: "updates[1]")?.field == "updates[1].status")
        #expect(refusal(["update_id": "u", "dispatch_id": "D1", "status": "35"])?.message.contains("unknown status \"35\"") == true)
        #expect(refusal(["dispatch_id": "D1", "status": "10"])?.field == "update_id")
        #expect(refusal(["update_id": "u", "work_order": "RL-X", "status": "10"]).map { "\($0.status) \($0.field)" } == "404 work_order")
        #expect(refusal(["update_id": "u", "status": "10"])?.field == "dispatch_id")
        #expect(refusal(["update_id": "u", "dispatch_id": "D1", "status": "40", "reason": "busy"])?.field == "reason")
        #expect(refusal(["update_id": "u", "dispatch_id": "D1", "status": "50", "note": "x"])?.field == "by")
        #expect(refusal(["update_id": "u", "dispatch_id": "D1", "status": "80"])?.field == "summon_id", "a report names a summon")
        #expect(refusal("not an object")?.status == 422)
    }

    @Test func theWayBacksSettingsAreCheckedWithFileLineAndKey() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("muster-webhook-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try "s3cret\n".write(to: dir.appendingPathComponent("s.secret"), atomically: true, encoding: .utf8)
        let path = dir.appendingPathComponent("reli.yaml").path
        try """
            adapter: reli-1
            agency: reli
            name: 热力
            roles: [agency]
            plugin: webhook
            settings:
              url: http://127.0.0.1:9/work-orders
              secret_file: s.secret
              updates:
                listen: localhost
                poll_every: often
              statuses:
                ack: ["10"]
                resolve: ["30", "10"]
                finish: ["31"]
              push_statuses:
                case: "01"
            """.write(toFile: path, atomically: true, encoding: .utf8)
        let cfg = try AdapterConfig.load(path)
        do {
            _ = try WebhookDepartment.descriptor.make(cfg.settings, .init(adapter: "reli-1", agency: "reli", name: "热力", logger: AdapterKitTests.logger()))
            Issue.record("bad settings taken")
        } catch {
            #expect(error.errors.map { "\($0.line ?? 0) \($0.key)" } == ["15 settings.statuses.finish", "14 settings.statuses.resolve", "17 settings.push_statuses.case",
                                                                          "10 settings.updates.listen", "11 settings.updates.poll_every"],
                    "\(error.errors)")
            #expect(error.errors.first?.message.contains("\"finish\" is not an act") == true)
        }
    }
}
