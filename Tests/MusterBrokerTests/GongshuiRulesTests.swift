import Foundation
import Testing
@testable import GongshuiDepartment
import MusterAdapterKit
import MusterConfig
import MusterWire

/// 供水's rules without HTTP: shut-off notices as known-incident acts (starts_at, the emergency
/// notice after 24 h, a planned notice published late flagged but never dropped), their ends,
/// and the `gongshui:` settings with file, line and key.
@Suite struct GongshuiRulesTests {
    static func at(_ text: String) -> Date { ShutOffNotice.moment(text)! }

    static func settings(_ section: String) -> (PluginSettings?, [ConfigError]) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("muster-gongshui-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try? "notice-secret\n".write(toFile: dir.appendingPathComponent("gs.secret").path, atomically: true, encoding: .utf8)
        let path = dir.appendingPathComponent("gongshui.yaml").path
        try? ("adapter: gongshui-1\nagency: gongshui\nname: 供水\nroles: [agency]\nplugin: gongshui\nsettings:\n  url: http://127.0.0.1:1/wo\n  secret_file: gs.secret\n"
              + section).write(toFile: path, atomically: true, encoding: .utf8)
        do { return (try AdapterConfig.load(path).settings.section("gongshui"), []) } catch { return (nil, error.errors) }
    }

    static func errors(_ section: String) -> [ConfigError] {
        let (s, e) = settings(section)
        guard let s else { return e }
        do { _ = try GongshuiSettings.load(s); return [] } catch { return error.errors }
    }

    static let minimal = "  gongshui:\n    notices_url: http://127.0.0.1:9/notices\n    secret_file: gs.secret\n"

    struct Feed: NoticeSource {
        var answer: [Result<ShutOffNotice, ShutOffNotice.Invalid>]
        init(_ docs: [Any]) { answer = docs.map(ShutOffNotice.parse) }
        func notices() async throws -> [Result<ShutOffNotice, ShutOffNotice.Invalid>] { answer }
    }

    static func rules(_ docs: [Any], now: String, section: String = GongshuiRulesTests.minimal) throws -> GongshuiRules {
        let (s, e) = settings(section)
        return GongshuiRules(try GongshuiSettings.load(try #require(s, "\(e)")), notices: Feed(docs), now: { at(now) })
    }

    static func json(_ act: Act) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(act.body)) as? [String: Any])
    }

    static var planned: [String: Any] {
        ["id": "TS-2026-118", "kind": "planned", "grids": ["zz/erqi/jiefanglu"], "area": "解放路一带",
         "starts_at": "2026-12-03T08:00:00+08:00", "expected_end": "2026-12-03T20:00:00+08:00", "reason": "DN300管网改造",
         "published_at": "2026-12-02T09:00:00+08:00", "ended": false]
    }
    static var unplanned: [String: Any] {
        ["id": "GS-OUT-9", "kind": "unplanned", "grids": ["zz/erqi/jiefanglu/minzhulu"], "starts_at": "2026-12-02T13:10:00+08:00",
         "expected_end": "2026-12-02T22:00:00+08:00", "reason": "DN300管道爆裂", "ended": false]
    }

    // MARK: notices → incidents

    @Test func aPlannedShutOffIsAnIncidentFromItsStartWithTheEmergencyNotice() async throws {
        let sink = GongshuiSink()
        let rules = try Self.rules([Self.planned], now: "2026-12-02T15:00:00+08:00")
        try await rules.pollNotices(sink)
        #expect(sink.acts.map(\.command) == [.incident] && sink.acts.map(\.id) == ["gs-notice-TS-2026-118"])
        let b = try Self.json(sink.acts[0])
        #expect(b["ref"] as? String == "TS-2026-118" && b["categories"] as? [String] == ["water_outage"])
        #expect(b["grids"] as? [String] == ["zz/erqi/jiefanglu"])
        #expect(b["starts_at"] as? String == "2026-12-03T08:00:00+08:00", "reports join from the start of the shut-off")
        #expect(b["expected_end"] as? String == "2026-12-03T20:00:00+08:00")
        #expect(b["notify_after"] as? String == "24h" && b["notice"] as? String == "emergency_supply")
        #expect(b["cause"] as? String == "DN300管网改造", "published 23 h ahead: in time, no flag")
        #expect(b["title"] as? String == "解放路一带计划停水（DN300管网改造）")
        #expect(b["message"] as? String == "解放路一带因DN300管网改造计划停水，停水时间 12月3日 08:00至12月3日 20:00（停水通知 TS-2026-118），请提前储水")
        // read again: the same act
        try await rules.pollNotices(sink)
        #expect(sink.acts.count == 2 && sink.acts[0] == sink.acts[1])
    }

    @Test func anUnplannedOutageIsAnIncidentAtOnce() async throws {
        let sink = GongshuiSink()
        try await Self.rules([Self.unplanned], now: "2026-12-02T15:00:00+08:00").pollNotices(sink)
        let b = try Self.json(try #require(sink.acts.first))
        #expect(b["starts_at"] as? String == "2026-12-02T13:10:00+08:00", "24 h counts from when the water went off")
        #expect(b["notify_after"] as? String == "24h" && b["notice"] as? String == "emergency_supply" && b["cause"] as? String == "DN300管道爆裂")
        #expect(b["message"] as? String == "您所在区域因DN300管道爆裂停水，预计 22:00 恢复供水，供水公司正在抢修")
        #expect(b["title"] as? String == "zz/erqi/jiefanglu/minzhulu停水（DN300管道爆裂）")

        var noStart = Self.unplanned
        noStart["starts_at"] = nil
        let late = try #require(try? ShutOffNotice.parse(noStart).get())
        let body = try Self.json(late.act(categories: ["water_outage"], emergencyAfter: "36h", lateness: nil,
                                          zone: TimeZone(secondsFromGMT: 8 * 3600)!, now: Self.at("2026-12-02T23:00:00+08:00")))
        #expect(body["starts_at"] == nil && body["notify_after"] as? String == "36h")
        #expect(body["expected_end"] as? String == "2026-12-03T01:00:00+08:00", "past its promised time: a provisional end after now")
        #expect((body["message"] as? String)?.contains("恢复时间待定（原预计 22:00 恢复）") == true)
    }

    @Test func aPlannedShutOffPublishedLateIsFlaggedNeverDropped() async throws {
        var late = Self.planned
        late["published_at"] = "2026-12-03T02:00:00+08:00"  // 6 h before 08:00
        var unsaid = Self.planned
        unsaid["id"] = "TS-2026-119"
        unsaid["published_at"] = nil
        let sink = GongshuiSink()
        try await Self.rules([late, unsaid], now: "2026-12-03T03:00:00+08:00").pollNotices(sink)
        #expect(sink.acts.map(\.id) == ["gs-notice-TS-2026-118", "gs-notice-TS-2026-119"], "declared all the same")
        #expect(try Self.json(sink.acts[0])["cause"] as? String == "DN300管网改造；未按规定提前12小时通知（02:00 发布，08:00 停水）")
        #expect(try Self.json(sink.acts[1])["cause"] as? String == "DN300管网改造；未按规定提前12小时通知（通知未注明发布时间）")
        #expect(try Self.json(sink.acts[0])["starts_at"] as? String == "2026-12-03T08:00:00+08:00")

        // the national rule, 24 h: the notice published 23 h ahead is late
        let national = GongshuiSink()
        try await Self.rules([Self.planned], now: "2026-12-02T15:00:00+08:00",
                             section: Self.minimal + "    notice_ahead: 24h\n").pollNotices(national)
        #expect(try Self.json(try #require(national.acts.first))["cause"] as? String
                == "DN300管网改造；未按规定提前24小时通知（09:00 发布，12月3日 08:00 停水）")
        // an unplanned outage has no notice to be late with
        let n = try #require(try? ShutOffNotice.parse(Self.unplanned).get())
        #expect(n.lateness(ahead: 12 * 3600, zone: TimeZone(secondsFromGMT: 8 * 3600)!, now: Date()) == nil)
    }

    @Test func anEndedNoticeEndsItsIncidentAndBadEntriesAreLeftOut() async throws {
        var ended = Self.unplanned
        ended["ended"] = true
        let sink = GongshuiSink()
        try await Self.rules([ended, ["id": "X 1"], ["id": "TS-3", "kind": "planned", "grids": ["zz"], "reason": "检修",
                                                     "expected_end": "2026-12-03T20:00:00+08:00"]],
                             now: "2026-12-02T21:00:00+08:00").pollNotices(sink)
        #expect(sink.acts.map(\.command) == [.incidentEnd] && sink.acts.map(\.id) == ["gs-notice-end-GS-OUT-9"])
        let b = try Self.json(sink.acts[0])
        #expect(b["ref"] as? String == "GS-OUT-9" && b["outcome"] as? String == "resolved" && b["note"] as? String == "已恢复供水")
        for (key, value) in [("kind", "maybe"), ("expected_end", "2026-12-03T07:00:00+08:00"), ("grids", "zz"), ("reason", " ")] as [(String, Any)] {
            var bad = Self.planned
            bad[key] = value
            #expect((try? ShutOffNotice.parse(bad).get()) == nil, "\(key)")
        }
    }

    // MARK: settings

    @Test func theSettingsAndTheirErrorsWithLineAndKey() throws {
        let (s, _) = Self.settings(Self.minimal)
        let ok = try GongshuiSettings.load(try #require(s))
        #expect(ok.noticeAhead == 12 * 3600 && ok.emergencyAfter == "24h" && ok.waterCategories == ["water_outage"])
        #expect(ok.every == 30 && ok.timeout == 10 && ok.secret == Array("notice-secret".utf8))

        let missing = Self.errors("")
        #expect(missing.contains { $0.message.contains("notices_url") }, "\(missing)")
        let bad = Self.errors("  gongshui:\n    notices_url: ftp://x/notices\n    secret_file: nope\n    notices_every: 500ms\n"
                              + "    notice_ahead: half a day\n    water_categories: []\n    emergency_after: 1d\n")
        #expect(bad.map(\.key) == ["settings.gongshui.notices_url", "settings.gongshui.notices_every", "settings.gongshui.notice_ahead",
                                   "settings.gongshui.secret_file", "settings.gongshui.water_categories", "settings.gongshui.emergency_after"], "\(bad)")
        #expect(bad.map(\.line) == [10, 12, 13, 11, 14, 15], "\(bad)")
        let typo = Self.errors(Self.minimal + "    emergncy_after: 24h\n")
        #expect(typo.map { "\($0.line ?? 0) \($0.key)" } == ["12 settings.gongshui.emergncy_after"], "\(typo)")
        #expect(GongshuiSettings.isClockDuration("90m") && !GongshuiSettings.isClockDuration("0h") && !GongshuiSettings.isClockDuration("h"))
    }
}

/// Keeps the acts it is sent; a repeat of an id is still kept (the queue's dedupe is not modelled),
/// but counted as not new, as the queue answers.
fileprivate final class GongshuiSink: ActSink, @unchecked Sendable {
    private let lock = NSLock()
    private var sent: [Act] = []
    var acts: [Act] { lock.withLock { sent } }
    func send(_ act: Act) async throws { lock.withLock { sent.append(act) } }
    func send(_ acts: [Act], cursor: (name: String, value: String)?) async throws -> Int {
        lock.withLock {
            let new = acts.filter { a in !sent.contains { $0.id == a.id } }.count
            sent += acts
            return new
        }
    }
    func cursor(_ name: String) async throws -> String? { nil }
    func subject(ofRef ref: String) async throws -> String? { nil }
    func ref(ofSubject subject: String) async throws -> String? { nil }
    func push(ofSubject subject: String) async throws -> [UInt8]? { nil }
}
