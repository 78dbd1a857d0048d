import Foundation
import MusterConfig
import MusterCore
@testable import MusterWeb
import Testing
import WebLogin

/// `muster web`'s pure parts against the shipped config: cases counted per street and 专属网格,
/// the map drawn from grids.yaml's outlines, the feed's order, resume and privacy. Against a real
/// broker in Chromium: integration/test_web_screen.py.
@Suite struct WebScreenTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let rules = try! BrokerConfig.load(repo.appendingPathComponent("config/muster.yaml").path, insecure: true).rules
    static let names = Names(grids: rules.grids, routing: rules.routing)
    static let now = Date(timeIntervalSince1970: 1_796_000_000)

    static func open(_ grid: String, _ state: String = "handling", dueIn hours: Double = 24) -> [String: Any] {
        ["grid": grid, "state": state, "resolve_by": Time.rfc3339(now.addingTimeInterval(hours * 3600))]
    }

    static func event(_ seq: Int64, _ type: String = "case.accepted", _ data: String = "{}") -> [UInt8] {
        Array(#"{"delivery":"E\#(seq)","seq":\#(seq),"type":"\#(type)","case_id":"C\#(String(format: "%010d", seq))","at":"2026-12-03T10:00:00+08:00","actor":"x","data":\#(data)}"#.utf8)
    }

    @Test func casesCountForTheirStreetAndTheDedicatedGridsItLiesIn() {
        let t = GridTally([
            Self.open("zz/erqi/jiefanglu/minzhulu/g01/m01", dueIn: -2),       // overdue, deep in 解放路
            Self.open("zz/erqi/jiefanglu", "dispatched"),
            Self.open("zz/erqi/jiefanglu", "finished", dueIn: -5),            // finished: not overdue however late
            Self.open("zz/jinshui/huayuanlu/weiwulu/g01", "dispatched", dueIn: -1),
            Self.open("zz/erqi"),                                             // a district's: no street
            Self.open("erqita"),                                              // the 专属网格 itself
        ], grids: Self.rules.grids, now: Self.now)
        #expect(t.streets["zz/erqi/jiefanglu"] == .init(open: 3, overdue: 1))
        #expect(t.streets["zz/jinshui/huayuanlu"] == .init(open: 1, overdue: 1))
        #expect(t.streets["zz/erqi/dehuajie"] == nil)
        #expect(t.dedicated["erqita"] == .init(open: 4, overdue: 1), "解放路's three and its own one; 花园路 is not in 二七塔商圈")
        #expect(t.elsewhere == .init(open: 1, overdue: 0) && t.total == .init(open: 6, overdue: 2), "the 专属网格's own case is its, not 区、市级")
    }

    @Test func theMapIsDrawnFromTheConfigsOutlines() throws {
        let svg = MapDrawing(names: Self.names).svg(GridTally([Self.open("zz/erqi/jiefanglu", dueIn: -1), Self.open("zz/erqi/dehuajie")],
                                                              grids: Self.rules.grids, now: Self.now))
        let streets = Self.rules.grids.areas.keys
        #expect(streets.count == 13)
        #expect(svg.components(separatedBy: "class=\"street").count - 1 == streets.count)
        #expect(svg.contains(#"class="street late" points="#) && svg.contains(#"data-grid="zz/erqi/jiefanglu" data-open="1" data-overdue="1""#))
        #expect(svg.components(separatedBy: #"data-dedicated="erqita""#).count - 1 == 5, "the 专属网格's five streets outlined")
        #expect(svg.contains(">解放路</text>") && !svg.contains("http"), "labels from grids.yaml; nothing fetched")
        #expect(MapDrawing.shade(0, of: 4) != MapDrawing.shade(4, of: 4))
        var bare = Self.rules.grids
        bare.areas = [:]
        #expect(MapDrawing(names: Names(grids: bare, routing: Self.rules.routing)).svg(GridTally([], grids: bare, now: Self.now)).contains("未给出网格轮廓"))
    }

    @Test func theFeedKeepsTheLogsOrderAndAPageResumesAfterItsLastEvent() async {
        let feed = EventFeed(capacity: 5, names: Self.names)
        let before = feed.listen(after: nil)
        feed.append(Self.event(10))
        feed.append(Self.event(11, "clock.scheduled"))          // seen, not shown
        feed.append(Self.event(8))                              // the backlog, after the first live one
        feed.append(Self.event(9))
        feed.append(Self.event(10))                             // again: once
        feed.append(Self.event(12, "case.dispatched", #"{"dispatch":{"agency":"chengguan","role":"assist"}}"#))
        #expect(feed.recent(10).map(\.seq) == [8, 9, 10, 12] && feed.lastSeq == 12)
        let resumed = feed.listen(after: 9)
        #expect(resumed.missed.map(\.seq) == [10, 12] && resumed.complete)
        #expect(resumed.missed.last?.text == "→ 城管（协办）")
        let old = feed.listen(after: 2)
        #expect(!old.complete, "events 3…7 are not held: the page is told to reload")
        for s in Int64(13)...16 { feed.append(Self.event(s)) }
        #expect(feed.recent(10).map(\.seq) == [12, 13, 14, 15, 16], "at most `capacity` kept")
        // Live: only what is newer than everything went to the page listening from the start.
        before.stop()
        var live: [Int64] = []
        for await line in before.stream { live.append(line.seq) }
        #expect(live == [10, 12, 13, 14, 15, 16])
    }

    @Test func theWallShowsNoReporter() {
        let data = #"{"case":{"case_id":"C0000000001","title":"井盖丢失","address":"解放路1号","grid":"zz/erqi/jiefanglu"},"reporter":{"name":"王五","phone":"13812345678"}}"#
        let line = FeedLine(eventBody: Self.event(1, "case.accepted", data), names: Self.names)
        #expect(line?.text == "井盖丢失 · 解放路1号")
        #expect(!(line?.sse ?? "").contains("13812345678") && !(line?.sse ?? "").contains("王五"))
        #expect(line?.sse.hasPrefix("id: 1\nevent: muster\ndata: {") == true)
        #expect(FeedLine(eventBody: Array("not json".utf8)) == nil)
    }

    @Test func theOperatorsFileIsDecodedStrictly() throws {
        let shipped = try WebConfig.load(Self.repo.appendingPathComponent("config/web.yaml").path)
        #expect(shipped.operators.isEmpty && shipped.title == "城市运行中心", "shipped read-only")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("muster-web-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("web.yaml").path
        let good = PasswordHash.make("zhiban-2026!", salt: "salt-zhangsan")
        try """
            operators:
              - {login: zhangsan, name: 张三, may: [assign, whistle], password_hash: "\(good)"}
              - {login: ZhangSan, name: 张三, may: [asign], password_hash: hunter2}
              - {login: zhangsan, name: 又一个, may: [], password_hash: "\(good)"}
            colour: red
            """.write(toFile: path, atomically: true, encoding: .utf8)
        do { _ = try WebConfig.load(path); Issue.record("a bad operators file was taken") } catch {
            let keys = error.errors.map(\.key)
            #expect(keys.contains("colour") || error.errors.contains { $0.message.contains("colour") }, "\(error)")
        }
        try """
            operators:
              - {login: zhangsan, name: 张三, may: [assign, whistle], password_hash: "\(good)"}
              - {login: ZhangSan, name: 张三, may: [asign], password_hash: hunter2}
              - {login: zhangsan, name: 又一个, may: [], password_hash: "\(good)"}
            """.write(toFile: path, atomically: true, encoding: .utf8)
        do { _ = try WebConfig.load(path); Issue.record("a bad operators file was taken") } catch {
            let found = Dictionary(error.errors.map { ($0.key, $0.message) }, uniquingKeysWith: { a, b in a + " | " + b })
            #expect(found["operators[1].login"]?.contains("lower-case") == true, "\(found)")
            #expect(found["operators[1].may[0]"]?.contains("did you mean \"assign\"") == true, "\(found)")
            #expect(found["operators[1].password_hash"]?.contains("never a plain password") == true, "\(found)")
            #expect(found["operators[2].login"]?.contains("listed twice") == true, "\(found)")
            #expect(error.errors.allSatisfy { $0.line != nil })
        }
        #expect(WebConfig.empty.operatorNamed("zhangsan") == nil)
    }

    @Test func afterLoginOnlyLocalPathsAndOnlyPhonesAreSearchedAsPhones() {
        #expect(WebServer.safe("/case/C0000000001") == "/case/C0000000001")
        for evil in ["//evil.example", "/\\evil.example", "https://evil.example", "/\tx", "evil"] {
            #expect(WebServer.safe(evil) == "/", "\(evil)")
        }
        #expect(Search.isPhone("138 0000 1111") && Search.isPhone("0371-6788-1234") && Search.isPhone("+8613800001111"))
        #expect(!Search.isPhone("2026-0100") && !Search.isPhone("GD20261202000123") && !Search.isPhone("12345"))
        #expect(Search.masked("138-0000-1111") == "138****1111")
    }
}
