import Foundation
import Testing
@testable import ReliDepartment
import MusterAdapterKit
import MusterConfig
import MusterWire
import WebhookDepartment

/// 热力's rules without HTTP: the heating season from sla.yaml, 暖气不热 out of season, the measured
/// room temperature a finish needs and how it is written into the record, the `reli:` settings
/// with file, line and key, and outages as known incidents against a stand-in feed.
@Suite struct ReliRulesTests {
    static func at(_ text: String) -> Date { Outage.moment(text)! }

    static let sla = """
        calendar: calendar
        heating_season:
          - {from: 2025-11-15, to: 2026-03-15}
          - {from: 2026-11-15, to: 2027-03-15}
        defaults: {}

        """

    /// An adapter config (and an sla.yaml beside it) in a new folder; the `reli:` section as given.
    static func settings(_ section: String, sla: String? = ReliRulesTests.sla, secret: Bool = true) -> (PluginSettings?, [ConfigError], String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("muster-reli-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        if let sla { try? sla.write(toFile: dir.appendingPathComponent("sla.yaml").path, atomically: true, encoding: .utf8) }
        if secret { try? "outage-secret\n".write(toFile: dir.appendingPathComponent("rl.secret").path, atomically: true, encoding: .utf8) }
        let path = dir.appendingPathComponent("reli.yaml").path
        try? ("adapter: reli-1\nagency: reli\nname: 热力\nroles: [agency]\nplugin: reli\nsettings:\n  url: http://127.0.0.1:1/wo\n  secret_file: rl.secret\n"
              + section).write(toFile: path, atomically: true, encoding: .utf8)
        do { return (try AdapterConfig.load(path).settings.section("reli"), [], dir.path) } catch { return (nil, error.errors, dir.path) }
    }

    static func errors(_ section: String, sla: String? = ReliRulesTests.sla) -> [ConfigError] {
        let (s, e, _) = settings(section, sla: sla)
        guard let s else { return e }
        do { _ = try ReliSettings.load(s); return [] } catch { return error.errors }
    }

    static func rules(on day: String, _ section: String = "  reli:\n    sla: sla.yaml\n", outages: (any OutageSource)? = nil) throws -> ReliRules {
        let (s, e, _) = settings(section)
        let loaded = try ReliSettings.load(try #require(s, "\(e)"))
        return ReliRules(loaded, outages: outages, now: { at(day) })
    }

    static func dispatch(_ category: String, id: String = "D0000000041") -> [String: Any] {
        ["dispatch_id": id, "role": "lead", "round": 1,
         "case": ["case_id": "C0000000041", "category": category, "title": "暖气不热", "grid": "zz/erqi/jiefanglu",
                  "location": ["grid": "zz/erqi/jiefanglu", "address": "民主路3号院2号楼"]]]
    }

    // MARK: the season

    @Test func theSeasonsAreSlaYamlsAndADayIsInOneOrNot() throws {
        let (s, _, _) = Self.settings("  reli:\n    sla: sla.yaml\n")
        let loaded = try ReliSettings.load(try #require(s))
        #expect(loaded.seasons.seasons.map(\.text) == ["2025-11-15至2026-03-15", "2026-11-15至2027-03-15"])
        let seasons = loaded.seasons
        func day(_ t: String) -> HeatingSeason.Day { HeatingSeason.Day(t)! }
        #expect(seasons.season(of: day("2026-11-15"))?.text == "2026-11-15至2027-03-15", "the first day is in")
        #expect(seasons.season(of: day("2027-03-15")) != nil, "the last day is in")
        #expect(seasons.season(of: day("2026-11-14")) == nil && seasons.season(of: day("2026-03-16")) == nil)
        #expect(seasons.next(after: day("2026-06-01"))?.text == "2026-11-15至2027-03-15")
        #expect(seasons.last(before: day("2027-06-01"))?.text == "2026-11-15至2027-03-15" && seasons.next(after: day("2027-06-01")) == nil)
        // the local day: 2026-11-14T16:30Z is 00:30 on the 15th in Zhengzhou
        #expect(HeatingSeason.Day(Self.at("2026-11-14T16:30:00Z"), in: loaded.zone) == day("2026-11-15"))
        #expect(HeatingSeason.Day("2026-02-30") == nil && HeatingSeason.Day("2026-1-5") == nil)
    }

    @Test func notWarmOutOfSeasonIsReturnedWithTheSeasonAndALeakIsNot() async throws {
        let summer = try Self.rules(on: "2026-07-01T10:00:00+08:00")
        let refused = await summer.screen(Self.dispatch("heating_not_warm"))
        guard case .refused(let reason, let note)? = refused else { Issue.record("not refused: \(String(describing: refused))"); return }
        #expect(reason == .notOurDuty)
        #expect(note.hasPrefix("非供暖季（下一供暖季 2026-11-15至2027-03-15）"), "\(note)")
        #expect(await summer.screen(Self.dispatch("heating_leak")) == nil, "a leak is a leak in any month")
        #expect(await summer.screen(Self.dispatch("street_vending")) == nil)
        let leak = await summer.workOrderFields(Self.dispatch("heating_leak"))
        #expect(leak["in_season"] as? Bool == false && leak["heating_season"] == nil && leak["min_room_temperature"] == nil)

        let afterAll = try Self.rules(on: "2027-04-01T10:00:00+08:00")
        guard case .refused(_, let late)? = await afterAll.screen(Self.dispatch("heating_not_warm")) else { Issue.record("not refused"); return }
        #expect(late.hasPrefix("非供暖季（上一供暖季 2026-11-15至2027-03-15）"), "\(late)")

        let winter = try Self.rules(on: "2026-12-02T20:00:00+08:00")
        #expect(await winter.screen(Self.dispatch("heating_not_warm")) == nil)
        let fields = await winter.workOrderFields(Self.dispatch("heating_not_warm"))
        #expect(fields["in_season"] as? Bool == true)
        #expect(fields["heating_season"] as? [String: String] == ["from": "2026-11-15", "to": "2027-03-15"])
        #expect(fields["min_room_temperature"] as? Double == 18)
        #expect((fields["finish_needs"] as? String)?.contains("不低于18℃") == true)
        #expect(await winter.workOrderFields(Self.dispatch("street_vending")).isEmpty)
    }

    // MARK: the room temperature

    static func refusal(_ rules: ReliRules, _ update: [String: Any], _ meaning: StatusMap.Meaning = .resolve,
                        dispatch: [String: Any]? = ReliRulesTests.dispatch("heating_not_warm")) -> StatusMap.Refusal? {
        do { try rules.check(update, meaning: meaning, subject: "D0000000041", dispatch: dispatch); return nil } catch { return error }
    }

    @Test func aFinishOfNotWarmNeedsAMeasuredRoomTemperatureOfAtLeastTheMinimum() throws {
        let rules = try Self.rules(on: "2026-12-02T20:00:00+08:00")
        let base: [String: Any] = ["update_id": "RL-1", "dispatch_id": "D0000000041", "status": "30", "result": "已排气"]
        let missing = Self.refusal(rules, base)
        #expect(missing?.field == "room_temperature" && missing?.status == 422)
        #expect(missing?.message.hasPrefix("办结需填写入户实测室温") == true, "\(String(describing: missing))")
        let cold = Self.refusal(rules, base.merging(["room_temperature": 16.5]) { $1 })
        #expect(cold?.field == "room_temperature")
        #expect(cold?.message.hasPrefix("实测室温 16.5℃ 低于 18℃（郑州市城市供热与用热管理办法") == true, "\(String(describing: cold))")
        #expect(cold?.message.contains("不能办结") == true)
        #expect(Self.refusal(rules, base.merging(["room_temperature": 17.99]) { $1 }) != nil)
        #expect(Self.refusal(rules, base.merging(["room_temperature": 18]) { $1 }) == nil, "18 ℃ is the standard: met")
        #expect(Self.refusal(rules, base.merging(["room_temperature": 19.5]) { $1 }) == nil)
        #expect(Self.refusal(rules, base.merging(["room_temperature": "19.5"]) { $1 }) == nil, "a numeric string is a reading")
        #expect(Self.refusal(rules, base.merging(["room_temperature": "暖和"]) { $1 })?.message.contains("须为数字") == true)
        #expect(Self.refusal(rules, base.merging(["room_temperature": 55]) { $1 })?.message.contains("合理范围") == true)
        #expect(Self.refusal(rules, base.merging(["room_temperature": -3]) { $1 }) != nil)

        // not a finish, not 暖气不热: nothing needed
        #expect(Self.refusal(rules, base, .progress) == nil && Self.refusal(rules, base, .ack) == nil)
        #expect(Self.refusal(rules, base.merging(["room_temperature": 15]) { $1 }, .progress) == nil, "a reading on the way is not a finish")
        #expect(Self.refusal(rules, base.merging(["room_temperature": 99]) { $1 }, .progress) != nil, "but an impossible one is still refused")
        #expect(Self.refusal(rules, base, dispatch: Self.dispatch("heating_leak")) == nil, "a leak is finished by its repair")
        // a dispatch the adapter no longer keeps: nothing to decide by but the reading itself
        #expect(Self.refusal(rules, base, dispatch: nil) == nil)
        #expect(Self.refusal(rules, base.merging(["room_temperature": 16]) { $1 }, dispatch: nil) != nil)

        let warmer = try Self.rules(on: "2026-12-02T20:00:00+08:00", "  reli:\n    sla: sla.yaml\n    min_room_temperature: 20\n")
        #expect(Self.refusal(warmer, base.merging(["room_temperature": 19.5]) { $1 })?.message.contains("低于 20℃") == true)
    }

    @Test func theReadingIsWrittenIntoTheRecord() throws {
        let rules = try Self.rules(on: "2026-12-02T20:00:00+08:00")
        let d = Self.dispatch("heating_not_warm")
        let done = rules.amend(["status": "30", "result": "已排气，暖气恢复正常", "room_temperature": 19.5], meaning: .resolve, dispatch: d)
        #expect(done["result"] as? String == "已排气，暖气恢复正常；入户实测室温 19.5℃")
        #expect(done["room_temperature"] as? Double == 19.5, "the rest of the update unchanged")
        let bare = rules.amend(["status": "30", "room_temperature": 20], meaning: .resolve, dispatch: d)
        #expect(bare["result"] as? String == "入户实测室温 20℃")
        let twice = rules.amend(done, meaning: .resolve, dispatch: d)
        #expect(twice["result"] as? String == "已排气，暖气恢复正常；入户实测室温 19.5℃", "amended once")
        let progress = rules.amend(["status": "20", "note": "已上门", "room_temperature": "16"], meaning: .progress, dispatch: d)
        #expect(progress["note"] as? String == "已上门；入户实测室温 16℃" && progress["result"] == nil)
        let none = rules.amend(["status": "30", "result": "已修复"], meaning: .resolve, dispatch: Self.dispatch("heating_leak"))
        #expect(none["result"] as? String == "已修复")
    }

    // MARK: settings

    @Test func theSettingsAndTheirErrorsWithFileLineAndKey() throws {
        let (s, _, _) = Self.settings("  reli:\n    sla: sla.yaml\n")
        let ok = try ReliSettings.load(try #require(s))
        #expect(ok.minRoomTemperature == 18 && ok.heatingCategories == ["heating_not_warm", "heating_leak"])
        #expect(ok.notWarmCategories == ["heating_not_warm"] && ok.outageCategories == ["heating_not_warm"] && ok.outages == nil)

        let missing = Self.errors("")
        #expect(missing.contains { $0.message.contains("sla") }, "\(missing)")
        let noFile = Self.errors("  reli:\n    sla: nowhere/sla.yaml\n")
        #expect(noFile.map { "\($0.line ?? 0) \($0.key)" } == ["10 settings.reli.sla"], "\(noFile)")
        let bad = Self.errors("  reli:\n    sla: sla.yaml\n    min_room_temperature: 45\n    not_warm_categories: [heating_cold]\n"
                              + "    outages_url: ftp://x/outages\n    outages_every: often\n")
        #expect(bad.map(\.key) == ["settings.reli.min_room_temperature", "settings.reli.not_warm_categories", "settings.reli.outages_url",
                                   "settings.reli.outages_every", "settings.reli.secret_file"], "\(bad)")
        #expect(bad.map(\.line) == [11, 12, 13, 14, 10], "\(bad)")
        let orphan = Self.errors("  reli:\n    sla: sla.yaml\n    outages_every: 30s\n")
        #expect(orphan.map(\.key) == ["settings.reli.outages_every"], "\(orphan)")
        let typo = Self.errors("  reli:\n    sla: sla.yaml\n    min_room_temprature: 18\n")
        #expect(typo.map { "\($0.line ?? 0) \($0.key)" } == ["11 settings.reli.min_room_temprature"], "\(typo)")

        // the seasons' own errors name sla.yaml, its line and key
        let season = Self.errors("  reli:\n    sla: sla.yaml\n", sla: "heating_season:\n  - {from: 2026-11-15, to: 2027-02-30}\n  - {from: 2027-11-15, to: 2027-03-15}\n")
        #expect(season.map { "\(($0.file as NSString).lastPathComponent):\($0.line ?? 0) \($0.key)" }
                == ["sla.yaml:2 heating_season[0].to", "sla.yaml:3 heating_season[1]"], "\(season)")
        let none = Self.errors("  reli:\n    sla: sla.yaml\n", sla: "calendar: calendar\n")
        #expect(none.map(\.key) == ["heating_season"] && none[0].message.contains("供暖季"), "\(none)")
    }

    // MARK: outages

    struct Feed: OutageSource {
        var answer: [Result<Outage, Outage.Invalid>]
        init(answer: [Any]) { self.answer = answer.map(Outage.parse) }
        func outages() async throws -> [Result<Outage, Outage.Invalid>] { answer }
    }

    static var outage: [String: Any] { ["id": "RL-OUT-7", "grids": ["zz/erqi/jiefanglu"], "area": "民主路3号院、5号院", "cause": "换热站故障",
                                        "expected_restore": "2026-12-02T22:00:00+08:00", "ended": false] }

    static func json(_ act: Act) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(act.body)) as? [String: Any])
    }

    @Test func anOutageIsAKnownIncidentAndItsEndEndsIt() async throws {
        let sink = ReliSink()
        let rules = try Self.rules(on: "2026-12-02T18:30:00+08:00", "  reli:\n    sla: sla.yaml\n", outages: Feed(answer: [Self.outage, ["id": "has space"]]))
        try await rules.pollOutages(try #require(rules.outages), sink)
        let acts = sink.acts
        #expect(acts.map(\.command) == [.incident] && acts.map(\.id) == ["rl-outage-RL-OUT-7"], "the bad entry left out")
        let incident = try Self.json(acts[0])
        #expect(incident["ref"] as? String == "RL-OUT-7" && incident["cause"] as? String == "换热站故障")
        #expect(incident["categories"] as? [String] == ["heating_not_warm"] && incident["grids"] as? [String] == ["zz/erqi/jiefanglu"])
        #expect(incident["message"] as? String == "民主路3号院、5号院因换热站故障停暖，预计 22:00 恢复供暖，热力公司正在抢修")
        #expect(incident["expected_end"] as? String == "2026-12-02T22:00:00+08:00" && incident["starts_at"] == nil)
        #expect(incident["notify_after"] == nil)

        // read again: the same act (the queue drops it by id)
        try await rules.pollOutages(try #require(rules.outages), sink)
        #expect(sink.acts.map(\.id) == ["rl-outage-RL-OUT-7", "rl-outage-RL-OUT-7"] && sink.acts[0] == sink.acts[1])

        var ended = Self.outage
        ended["ended"] = true
        let after = try Self.rules(on: "2026-12-02T21:40:00+08:00", "  reli:\n    sla: sla.yaml\n", outages: Feed(answer: [ended]))
        let endSink = ReliSink()
        try await after.pollOutages(try #require(after.outages), endSink)
        #expect(endSink.acts.map(\.command) == [.incidentEnd] && endSink.acts.map(\.id) == ["rl-outage-end-RL-OUT-7"])
        let end = try Self.json(endSink.acts[0])
        #expect(end["ref"] as? String == "RL-OUT-7" && end["outcome"] as? String == "resolved" && end["note"] as? String == "已恢复供暖")
        ended["outcome"] = "hand_back"
        let handBack = try #require(try? Outage.parse(ended).get())
        #expect(try Self.json(handBack.act(categories: ["heating_not_warm"], zone: rules.settings.zone, now: Date()))["outcome"] as? String == "hand_back")
    }

    @Test func anOutagePastItsPromisedTimeOrOnAnotherDayIsSaidSo() throws {
        let zone = TimeZone(secondsFromGMT: 8 * 3600)!
        let o = try #require(try? Outage.parse(Self.outage).get())
        let tomorrow = o.act(categories: ["heating_not_warm"], zone: zone, now: Self.at("2026-12-01T23:00:00+08:00"))
        #expect((try Self.json(tomorrow))["message"] as? String == "民主路3号院、5号院因换热站故障停暖，预计 12月2日 22:00 恢复供暖，热力公司正在抢修")
        let late = o.act(categories: ["heating_not_warm"], zone: zone, now: Self.at("2026-12-02T23:00:00+08:00"))
        let body = try Self.json(late)
        #expect(body["expected_end"] as? String == "2026-12-03T01:00:00+08:00", "a provisional end after now, or the broker refuses it")
        #expect((body["message"] as? String)?.contains("恢复时间待定（原预计 22:00 恢复）") == true)
        for (key, value) in [("expected_restore", "tonight"), ("grids", "zz"), ("cause", ""), ("outcome", "fixed")] as [(String, Any)] {
            var bad = Self.outage
            bad[key] = value
            #expect((try? Outage.parse(bad).get()) == nil, "\(key)")
        }
    }
}

/// Keeps the acts it is sent.
fileprivate final class ReliSink: ActSink, @unchecked Sendable {
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
