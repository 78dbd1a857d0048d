import Foundation
import Testing
@testable import ZhujianDepartment
import MusterAdapterKit
import MusterConfig
import MusterWire

/// 住建's rules without HTTP: night-work windows (dates, hours, across midnight), the `zhujian:`
/// settings with file, line and key, and what a complaint becomes against a stand-in register.
@Suite struct ZhujianRulesTests {
    static let beijing = TimeZone(secondsFromGMT: 8 * 3600)!

    static func at(_ text: String) -> Date { ZhujianRules.moment(text)! }

    static func window(_ from: String, _ to: String, _ hours: String, _ reason: String = "混凝土连续浇筑") -> NightWorkWindow {
        try! NightWorkWindow.parse(["from": from, "to": to, "hours": hours, "reason": reason]).get()
    }

    @Test func aWindowAcrossMidnightCoversTheNightThatBeginsOnEachOfItsDays() {
        let w = Self.window("2026-12-01", "2026-12-31", "22:00-06:00")
        #expect(w.crossesMidnight)
        #expect(w.contains(Self.at("2026-12-01T22:00:00+08:00"), in: Self.beijing), "opens at 22:00 on its first day")
        #expect(w.contains(Self.at("2026-12-10T23:30:00+08:00"), in: Self.beijing))
        #expect(w.contains(Self.at("2026-12-11T05:59:00+08:00"), in: Self.beijing), "the morning after a night inside")
        #expect(!w.contains(Self.at("2026-12-11T06:00:00+08:00"), in: Self.beijing), "closes at 06:00")
        #expect(!w.contains(Self.at("2026-12-10T21:59:00+08:00"), in: Self.beijing))
        #expect(!w.contains(Self.at("2026-12-01T03:00:00+08:00"), in: Self.beijing), "the night of Nov 30 is not permitted")
        #expect(w.contains(Self.at("2027-01-01T03:00:00+08:00"), in: Self.beijing), "the night of Dec 31 runs into Jan 1")
        #expect(!w.contains(Self.at("2027-01-01T22:30:00+08:00"), in: Self.beijing))
        #expect(w.contains(Self.at("2026-12-10T15:30:00Z"), in: Self.beijing), "23:30 in Zhengzhou, whatever offset it is written in")
        #expect(!w.contains(Self.at("2026-12-10T15:30:00Z"), in: TimeZone(secondsFromGMT: 0)!), "the register's hours are local")
    }

    @Test func aWindowWithinOneDayAndItsEnds() {
        let w = Self.window("2026-12-05", "2026-12-06", "20:00-24:00")
        #expect(!w.crossesMidnight)
        #expect(w.contains(Self.at("2026-12-06T23:59:00+08:00"), in: Self.beijing))
        #expect(!w.contains(Self.at("2026-12-07T00:30:00+08:00"), in: Self.beijing))
        #expect(!w.contains(Self.at("2026-12-05T19:59:00+08:00"), in: Self.beijing))
        let allDay = Self.window("2026-12-05", "2026-12-05", "00:00-24:00")
        #expect(allDay.contains(Self.at("2026-12-05T00:00:00+08:00"), in: Self.beijing) && !allDay.contains(Self.at("2026-12-06T00:00:00+08:00"), in: Self.beijing))
    }

    @Test func whatIsNotAWindowIsSaidSo() {
        func error(_ doc: [String: Any]) -> String? {
            if case .failure(let e) = NightWorkWindow.parse(doc) { return e.message }
            return nil
        }
        #expect(error(["from": "2026-12-31", "to": "2026-12-01", "hours": "22:00-06:00"])?.contains("after") == true)
        #expect(error(["from": "2026-02-30", "to": "2026-03-01", "hours": "22:00-06:00"])?.contains("dates") == true)
        #expect(error(["from": "2026-12-01", "to": "2026-12-31", "hours": "22:00-22:00"])?.contains("hours") == true)
        #expect(error(["from": "2026-12-01", "to": "2026-12-31", "hours": "25:00-06:00"]) != nil)
        #expect(error(["from": "2026-12-01", "to": "2026-12-31", "hours": "22点-6点"]) != nil)
        #expect(error(["from": "2026-12-01", "to": "2026-12-31", "hours": "22:00-06:00"]) == nil)
        // A bad window is left out of a site; its good ones still count.
        let site = SiteRegister.site(["permit": "P1", "night_work": [["from": "x"], ["from": "2026-12-01", "to": "2026-12-02", "hours": "22:00-06:00"]]])
        #expect(site?.nightWork.count == 1)
        #expect(SiteRegister.site(["company": "no permit"]) == nil)
    }

    // MARK: settings

    static func settings(_ section: String, secret: Bool = true) -> (PluginSettings?, [ConfigError]) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("muster-zhujian-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        if secret { try? "register-secret\n".write(toFile: dir.appendingPathComponent("zj.secret").path, atomically: true, encoding: .utf8) }
        let path = dir.appendingPathComponent("zhujian.yaml").path
        try? ("adapter: zhujian-1\nagency: zhujian\nname: 住建\nroles: [agency]\nplugin: zhujian\nsettings:\n  url: http://127.0.0.1:1/wo\n  secret_file: zj.secret\n"
              + section).write(toFile: path, atomically: true, encoding: .utf8)
        do { return (try AdapterConfig.load(path).settings.section("zhujian"), []) } catch { return (nil, error.errors) }
    }

    static func errors(_ section: String, secret: Bool = true) -> [ConfigError] {
        let (s, e) = settings(section, secret: secret)
        guard let s else { return e }
        do { _ = try ZhujianSettings.load(s); return [] } catch { return error.errors }
    }

    @Test func theSettingsAndTheirErrorsWithLineAndKey() throws {
        let (s, _) = Self.settings("  zhujian:\n    sites_url: http://127.0.0.1:9/sites\n    secret_file: zj.secret\n")
        let ok = try ZhujianSettings.load(try #require(s))
        #expect(ok.siteCategories == ["noise_at_night", "construction_dust"] && ok.nightWorkCategories == ["noise_at_night"])
        #expect(ok.zone.secondsFromGMT() == 8 * 3600 && ok.timeout == 5 && ok.secret == Array("register-secret".utf8))

        let missing = Self.errors("")
        #expect(missing.contains { $0.message.contains("sites_url") }, "\(missing)")
        let bad = Self.errors("  zhujian:\n    sites_url: ftp://x/sites\n    secret_file: nope\n    site_categories: [construction_dust]\n"
                              + "    night_work_categories: [noise_at_night]\n    timezone_offset: CST\n    timeout: soon\n")
        #expect(bad.map(\.key) == ["settings.zhujian.sites_url", "settings.zhujian.secret_file", "settings.zhujian.night_work_categories",
                                   "settings.zhujian.timezone_offset", "settings.zhujian.timeout"], "\(bad)")
        #expect(bad.map(\.line) == [10, 11, 13, 14, 15], "\(bad)")
        let typo = Self.errors("  zhujian:\n    sites_url: http://127.0.0.1:9/sites\n    secret_file: zj.secret\n    site_catgories: []\n")
        #expect(typo.map { "\($0.line ?? 0) \($0.key)" } == ["12 settings.zhujian.site_catgories"], "\(typo)")
    }

    // MARK: against a stand-in register

    struct StandIn: SiteLookup {
        var answer: Result<[Site], SiteRegister.Unreachable>
        func sites(address: String, grid: String) async throws -> [Site] { try answer.get() }
    }

    static let site = Site(permit: "410100202611010101", company: "郑州建工集团有限公司", address: "淮河路与大学路口 华润悦府三期",
                           nightWork: [window("2026-12-01", "2026-12-31", "22:00-06:00")])

    static func rules(_ answer: Result<[Site], SiteRegister.Unreachable>) throws -> ZhujianRules {
        let (s, _) = settings("  zhujian:\n    sites_url: http://127.0.0.1:9/sites\n    secret_file: zj.secret\n    site_categories: [noise_at_night, construction_dust]\n")
        return ZhujianRules(try ZhujianSettings.load(try #require(s)), register: StandIn(answer: answer), now: { at("2026-12-10T14:00:00+08:00") })
    }

    static func dispatch(_ category: String, reportedAt: String? = "2026-12-10T23:40:00+08:00", id: String = "D0000000031") -> [String: Any] {
        var c: [String: Any] = ["case_id": "C0000000031", "category": category, "title": "工地夜间施工噪音",
                                "location": ["grid": "zz/erqi/huaihelu", "address": "淮河路与大学路口"], "grid": "zz/erqi/huaihelu"]
        c["reported_at"] = reportedAt
        return ["dispatch_id": id, "role": "lead", "round": 1, "case": c]
    }

    @Test func insideAPermittedWindowTheWorkOrderExplainsAndThePluginAnswersWithThePermit() async throws {
        let rules = try Self.rules(.success([Self.site]))
        let d = Self.dispatch("noise_at_night")
        #expect(await rules.screen(d) == nil, "never refused: the department keeps the record")
        let fields = await rules.workOrderFields(d)
        #expect(fields["action"] as? String == "explain" && fields["permit"] as? String == "410100202611010101")
        #expect((fields["permitted_window"] as? [String: Any])?["hours"] as? String == "22:00-06:00")
        let sink = ZhujianSink()
        try await rules.delivered(d, ref: "ZJ-WO-1", sink)
        let acts = sink.acts
        #expect(acts.map(\.command) == [.ack, .resolve] && acts.map(\.id) == ["zj-explain-ack-D0000000031", "zj-explain-D0000000031"])
        let resolve = try #require(try JSONSerialization.jsonObject(with: Data(acts[1].body)) as? [String: Any])
        #expect(resolve["result"] as? String == "解释答复：该工地持夜间施工许可（许可证号 410100202611010101，郑州建工集团有限公司，许可时段 22:00-06:00，2026-12-01至2026-12-31，事由 混凝土连续浇筑）")
        #expect((resolve["downstream"] as? [String: Any])?["ref"] as? String == "ZJ-WO-1")
        // the same dispatch delivered again: the same acts
        _ = await rules.screen(d)
        let again = ZhujianSink()
        try await rules.delivered(d, ref: "ZJ-WO-1", again)
        #expect(again.acts == acts)
    }

    @Test func outsideAWindowWithoutASiteOrWithoutTheRegisterTheComplaintIsEnforced() async throws {
        let outside = await (try Self.rules(.success([Self.site]))).workOrderFields(Self.dispatch("noise_at_night", reportedAt: "2026-12-10T21:30:00+08:00"))
        #expect(outside["action"] as? String == "enforce" && (outside["site"] as? [String: Any])?["permit"] as? String == "410100202611010101")
        let late = await (try Self.rules(.success([Self.site]))).workOrderFields(Self.dispatch("noise_at_night", reportedAt: "2027-01-02T01:00:00+08:00"))
        #expect(late["action"] as? String == "enforce", "after the permit's last night")
        let dust = await (try Self.rules(.success([Self.site]))).workOrderFields(Self.dispatch("construction_dust"))
        #expect(dust["action"] as? String == "enforce", "a night-work permit does not excuse dust")
        let none = await (try Self.rules(.success([]))).workOrderFields(Self.dispatch("noise_at_night"))
        #expect(none["action"] as? String == "enforce" && none["site"] == nil && (none["register"] as? String)?.contains("未查到") == true)
        let down = await (try Self.rules(.failure(.init(description: "HTTP 503")))).workOrderFields(Self.dispatch("noise_at_night"))
        #expect(down["action"] as? String == "enforce" && (down["register"] as? String)?.contains("HTTP 503") == true)
        let noTime = await (try Self.rules(.success([Self.site]))).workOrderFields(Self.dispatch("noise_at_night", reportedAt: nil))
        #expect(noTime["action"] as? String == "enforce" && noTime["complaint_at"] as? String == "2026-12-10T14:00:00+08:00", "no reported_at: now")
        let hazard = await (try Self.rules(.success([Self.site]))).workOrderFields(Self.dispatch("road_collapse"))
        #expect(hazard.isEmpty, "hazards are not site complaints: nothing added, the broker's clocks stand")

        let rules = try Self.rules(.success([Self.site]))
        let d = Self.dispatch("noise_at_night", reportedAt: "2026-12-10T21:30:00+08:00")
        _ = await rules.screen(d)
        let sink = ZhujianSink()
        try await rules.delivered(d, ref: "ZJ-WO-2", sink)
        #expect(sink.acts.isEmpty, "an enforced complaint is the department's to sign for")
    }
}

/// Keeps the acts it is sent.
fileprivate final class ZhujianSink: ActSink, @unchecked Sendable {
    private let lock = NSLock()
    private var sent: [Act] = []
    var acts: [Act] { lock.withLock { sent } }
    func send(_ act: Act) async throws { lock.withLock { sent.append(act) } }
    func send(_ acts: [Act], cursor: (name: String, value: String)?) async throws -> Int { lock.withLock { sent += acts }; return acts.count }
    func cursor(_ name: String) async throws -> String? { nil }
    func subject(ofRef ref: String) async throws -> String? { nil }
    func ref(ofSubject subject: String) async throws -> String? { nil }
    func push(ofSubject subject: String) async throws -> [UInt8]? { nil }
}
