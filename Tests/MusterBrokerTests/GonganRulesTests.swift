import Foundation
import Synchronization
import Testing
@testable import GonganDepartment
import MusterAdapterKit
import MusterConfig
import MusterWire
import WebhookDepartment

/// 公安's rules without HTTP: the `gongan:` settings (checked with file, line and key), the work
/// order's 110 fields, the ACK built when 110 answers its 警情号, and the 非警务 check.
@Suite struct GonganRulesTests {
    /// The rules from a `gongan:` section written to a real adapter config (so errors carry lines).
    static func rules(_ section: String) throws(ConfigErrors) -> GonganRules {
        GonganRules(try GonganSettings.load(try settings(section).section("gongan")))
    }

    static func settings(_ section: String) throws(ConfigErrors) -> PluginSettings {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("muster-gongan-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("gongan.yaml").path
        let text = "adapter: gongan-110-1\nagency: gongan\nname: 公安 110\nroles: [agency]\nplugin: gongan\nsettings:\n"
            + "  url: http://127.0.0.1:1/jcj\n  secret_file: s\n" + section
        try? text.write(toFile: path, atomically: true, encoding: .utf8)
        return try AdapterConfig.load(path).settings
    }

    static func errors(_ section: String) -> [ConfigError] {
        do { _ = try rules(section); return [] } catch { return error.errors }
    }

    static func dispatch(priority: String = "urgent", reporter: [String: Any]? = ["name": "王强", "phone": "13812345678"]) -> [String: Any] {
        var c: [String: Any] = ["case_id": "C0000000007", "source": "hotline_12345", "title": "醉酒闹事", "priority": priority,
                                "reported_at": "2026-12-02T22:10:00+08:00",
                                "location": ["grid": "zz/erqi/huaihelu", "address": "淮河路12号", "lat": 34.72, "lon": 113.64]]
        c["reporter"] = reporter
        return ["dispatch_id": "D0000000042", "role": "lead", "round": 1, "case": c]
    }

    @Test func theSectionIsOptionalAndItsDefaultsAreThe12345To110Linkage() throws {
        let s = try GonganSettings.load(try Self.settings("").section("gongan"))
        #expect(s.signAs == "110接处警中心" && s.linkage == "12345-110" && s.emergencyPriorities == [.urgent])
        #expect(s.levels == [.urgent: "一级", .normal: "三级", .consult: "四级"] && s.nonPoliceStatus == nil)
        let custom = try GonganSettings.load(try Self.settings("  gongan:\n    sign_as: 二七分局指挥中心\n    emergency_priority: [urgent, normal]\n    levels: {normal: 二级}\n    non_police_status: \"05\"\n").section("gongan"))
        #expect(custom.signAs == "二七分局指挥中心" && custom.emergencyPriorities == [.urgent, .normal])
        #expect(custom.levels[.normal] == "二级" && custom.levels[.urgent] == "一级" && custom.nonPoliceStatus == "05")
    }

    @Test func aWrongSettingIsAnErrorWithItsLineAndKey() {
        let typo = Self.errors("  gongan:\n    sign_az: 110\n")
        #expect(typo.map { "\($0.line ?? 0) \($0.key)" } == ["10 settings.gongan.sign_az"], "\(typo)")
        let values = Self.errors("  gongan:\n    emergency_priority: [urgent, critical]\n    levels: {urgent: 一级, high: 二级}\n    sign_as: \" \"\n")
        #expect(values.map(\.key).sorted() == ["settings.gongan.emergency_priority", "settings.gongan.levels.high", "settings.gongan.sign_as"], "\(values)")
        #expect(values.first { $0.key.hasSuffix("emergency_priority") }?.message.contains("\"critical\" is not a priority") == true)
        #expect(values.allSatisfy { $0.line != nil }, "\(values)")
    }

    @Test func theWorkOrderCarriesTheLinkageTheLevelAndTheReportersContacts() async throws {
        let rules = try Self.rules("")
        let urgent = await rules.workOrderFields(Self.dispatch())
        #expect(urgent["linkage"] as? String == "12345-110" && urgent["level"] as? String == "一级" && urgent["emergency"] as? Bool == true)
        let callback = try #require(urgent["callback"] as? [String: Any])
        #expect(callback["available"] as? Bool == true && callback["phone"] as? String == "13812345678" && callback["name"] as? String == "王强")
        #expect(urgent["reported_at"] as? String == "2026-12-02T22:10:00+08:00" && urgent["source"] as? String == "hotline_12345")
        #expect((urgent["position"] as? [String: Any])?["lat"] as? Double == 34.72)

        let normal = await rules.workOrderFields(Self.dispatch(priority: "normal", reporter: ["name": "王*", "phone": "138****5678"]))
        #expect(normal["level"] as? String == "三级" && normal["emergency"] as? Bool == false)
        let masked = try #require(normal["callback"] as? [String: Any])
        #expect(masked["available"] as? Bool == false && masked["phone"] == nil && (masked["why"] as? String)?.contains("遮蔽") == true,
                "a masked number is not one 110 can dial")
        let anonymous = await rules.workOrderFields(Self.dispatch(reporter: ["anonymous": true]))
        #expect((anonymous["callback"] as? [String: Any])?["why"] as? String == "匿名反映")
    }

    @Test func when110AnswersItsIncidentNumberThePluginSignsAtOnceUnderAnIdOfTheDispatch() async throws {
        let rules = try Self.rules("  gongan:\n    sign_as: 郑州110指挥中心\n")
        let sink = RecordingSink()
        try await rules.delivered(Self.dispatch(), ref: "J2026120200017", sink)
        try await rules.delivered(Self.dispatch(), ref: "J2026120200017", sink)  // redelivered: the same act
        let acts = sink.acts
        #expect(acts.count == 2 && acts[0] == acts[1], "a redelivery builds the very same act (id and body)")
        let ack = try #require(acts.first)
        #expect(ack.command == .ack && ack.id == "ga-110-ack-D0000000042")
        let body = try #require(try JSONSerialization.jsonObject(with: Data(ack.body)) as? [String: Any])
        #expect(body["dispatch_id"] as? String == "D0000000042" && body["handler"] as? String == "郑州110指挥中心")
        #expect(body["note"] as? String == "110已接警，警情号 J2026120200017")
        let downstream = try #require(body["downstream"] as? [String: Any])
        #expect(downstream["ref"] as? String == "J2026120200017" && downstream["status"] as? String == "accepted")

        let none = RecordingSink()
        try await rules.delivered(Self.dispatch(), ref: nil, none)
        try await rules.delivered(Self.dispatch(), ref: "", none)
        #expect(none.acts.isEmpty, "no 警情号, no 签收: 110's own ack status will say when it signs")
    }

    @Test func aNonPoliceReturnMustSayWhyAndBeNotOurDuty() throws {
        let rules = try Self.rules("  gongan:\n    non_police_status: \"05\"\n")
        let ok: [String: Any] = ["update_id": "U1", "status": "05", "note": "经核实系邻里噪音纠纷，非警务"]
        #expect(throws: Never.self) { try rules.check(ok, meaning: .return, subject: "D1", dispatch: nil) }
        #expect(throws: Never.self) { try rules.check(ok.merging(["reason": "not_our_duty"]) { $1 }, meaning: .return, subject: "D1", dispatch: nil) }
        #expect(throws: StatusMap.Refusal.self) { try rules.check(["update_id": "U2", "status": "05"], meaning: .return, subject: "D1", dispatch: nil) }
        do { try rules.check(["update_id": "U2", "status": "05"], meaning: .return, subject: "D1", dispatch: nil) } catch { #expect(error.field == "note") }
        do { try rules.check(ok.merging(["reason": "duplicate"]) { $1 }, meaning: .return, subject: "D1", dispatch: nil); Issue.record("taken") } catch {
            #expect(error.field == "reason")
        }
        do { try rules.check(ok, meaning: .resolve, subject: "D1", dispatch: nil); Issue.record("taken") } catch {
            #expect(error.field == "status" && error.message.contains("list it under return"))
        }
        #expect(throws: Never.self) { try rules.check(["update_id": "U3", "status": "04"], meaning: .resolve, subject: "D1", dispatch: nil) }
    }
}

/// An ActSink that keeps what it is sent (for rules that act at once).
fileprivate final class RecordingSink: ActSink, Sendable {
    private let sent = Mutex<[Act]>([])
    var acts: [Act] { sent.withLock { $0 } }
    func send(_ act: Act) async throws { sent.withLock { $0.append(act) } }
    func send(_ acts: [Act], cursor: (name: String, value: String)?) async throws -> Int { sent.withLock { $0 += acts }; return acts.count }
    func cursor(_ name: String) async throws -> String? { nil }
    func subject(ofRef ref: String) async throws -> String? { nil }
    func ref(ofSubject subject: String) async throws -> String? { nil }
    func push(ofSubject subject: String) async throws -> [UInt8]? { nil }
}
