import Foundation
import Logging
import Testing
@testable import ConsoleDepartment
import MusterAdapterKit
import MusterConfig
import MusterWire
import WebLogin

/// The seat console (`plugin: console`) without a browser: its settings (checked with file, line
/// and key), the seats' password hashes, the inbox across a reopen, and the act each action on
/// the page makes — refused in Chinese, nothing sent, when 办结 lacks a required field.
@Suite struct ConsoleTests {
    static let wangwu = PasswordHash.make("xinfang-2026!", salt: "salt-wangwu")

    static func settings(_ section: String) throws(ConfigErrors) -> (PluginSettings, String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("muster-console-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("reli-console.yaml").path
        let text = "adapter: reli-console-1\nagency: reli\nname: 热力\nroles: [agency]\nplugin: console\nsettings:\n" + section
        try? text.write(toFile: path, atomically: true, encoding: .utf8)
        return (try AdapterConfig.load(path).settings, dir.path)
    }

    static func load(_ section: String) throws(ConfigErrors) -> ConsoleSettings {
        try ConsoleSettings.load(try settings(section).0, adapter: "reli-console-1")
    }

    static func errors(_ section: String) -> [ConfigError] {
        do { _ = try load(section); return [] } catch { return error.errors }
    }

    static let good = """
          listen: 127.0.0.1:8801
          seats:
            - {login: wangwu, name: 王五, password: "\(wangwu)"}
          finish_fields:
            - {key: result, label: 处理结果, required: true, kind: textarea}
            - {key: temperature, label: 复测室温, required: false}
            - {key: photo, label: 处置后照片URL, required: true, kind: url}

        """

    @Test func theSettingsAndTheirDefaults() throws {
        let s = try Self.load(Self.good)
        #expect(s.host == "127.0.0.1" && s.port == 8801 && s.sessionHours == 12)
        #expect(s.seats.map(\.login) == ["wangwu"] && s.seats[0].name == "王五")
        #expect(s.finishFields.map(\.key) == ["result", "temperature", "photo"] && s.finishFields[2].kind == .url && !s.finishFields[1].required)
        #expect(s.inboxPath.hasSuffix("/data/console/reli-console-1.db"), "\(s.inboxPath)")
        let minimal = try Self.load("  listen: 127.0.0.1:8802\n  seats: [{login: a, name: 甲, password: \"\(Self.wangwu)\"}]\n")
        #expect(minimal.finishFields == ConsoleSettings.defaultFinishFields)
    }

    @Test func aWrongSettingIsAnErrorWithItsLineAndKey() {
        let typo = Self.errors(Self.good + "  sessoin_hours: 8\n")
        #expect(typo.map { "\($0.line ?? 0) \($0.key)" } == ["14 settings.sessoin_hours"], "\(typo)")
        let bad = Self.errors("""
              listen: localhost
              seats:
                - {login: wangwu, name: 王五, password: hunter2}
                - {login: wangwu, name: " ", password: "\(Self.wangwu)"}
              finish_fields:
                - {key: photo, label: 照片, kind: photo}
              session_hours: 0

            """)
        #expect(bad.allSatisfy { $0.line != nil }, "\(bad)")
        func message(_ key: String, _ containing: String) -> Bool { bad.contains { $0.key == key && $0.message.contains(containing) } }
        #expect(message("settings.listen", "HOST:PORT"), "\(bad)")
        #expect(message("settings.seats", "seats[0].password: not a pbkdf2_sha256"), "\(bad)")
        #expect(message("settings.seats", "seats[1].login \"wangwu\" is given twice"), "\(bad)")
        #expect(message("settings.seats", "seats[1].name may not be empty"), "\(bad)")
        #expect(message("settings.finish_fields", "finish_fields[0].kind \"photo\""), "\(bad)")
        #expect(message("settings.session_hours", "more than 0"), "\(bad)")
        #expect(bad.first { $0.key == "settings.listen" }?.line == 7, "\(bad)")
        // A required key missing: named too.
        #expect(Self.errors("  listen: 127.0.0.1:1\n").contains { $0.key.contains("seats") })
    }

    @Test func thePasswordIsCheckedAgainstItsHash() throws {
        guard case .success(let hash) = PasswordHash.parse(Self.wangwu) else { Issue.record("not parsed"); return }
        #expect(hash.rounds == 210_000 && hash.salt == "salt-wangwu")
        #expect(hash.matches("xinfang-2026!"))
        #expect(!hash.matches("xinfang-2026") && !hash.matches(""))
        // Python's hashlib.pbkdf2_hmac("sha256", b"xinfang-2026!", b"salt-wangwu", 210000), base64 — the README's recipe.
        #expect(Self.wangwu == "pbkdf2_sha256$210000$salt-wangwu$bnx5kPdEpWcDQ9TcT3TfFxk9FlJp2S5hh1ONLKpj7bc=")
        guard case .failure(let few) = PasswordHash.parse("pbkdf2_sha256$1000$salt-wangwu$" + Self.wangwu.split(separator: "$")[3]) else {
            Issue.record("1000 rounds taken"); return
        }
        #expect(few.message.contains("at least 210000"))
        if case .success = PasswordHash.parse("hunter2") { Issue.record("a plain password taken") }
    }

    static func dispatch(_ id: String = "D0000000007", delivery: String = "7") -> [UInt8] {
        let doc: [String: Any] = [
            "delivery": delivery, "dispatch_id": id, "role": "lead", "round": 1,
            "case": ["case_id": "C0000000003", "category": "heating_not_warm", "title": "暖气不热",
                     "location": ["grid": "zz/erqi/jiefanglu", "address": "民主路12号院"], "grid": "zz/erqi/jiefanglu"],
            "due": ["ack_by": "2026-11-22T09:18:36.605+08:00", "resolve_by": "2026-11-22T10:48:36.605+08:00", "return_by": "2026-11-24T08:30:00+08:00"],
        ]
        return Array(try! JSONSerialization.data(withJSONObject: doc))
    }

    static func summon() -> [UInt8] {
        Array(#"{"delivery":"9","whistle_id":"W0000000001","summon_id":"W0000000001/reli","agency":"reli","kind":"emergency","grid":"zz/erqi/jiefanglu","grid_name":"郑州市 / 二七区 / 解放路街道","reason":"供热管道爆裂","blown_by":"jiefanglu-street","summoned_at":"2026-12-02T19:24:33.720+08:00","report_by":"2026-12-02T19:54:33.720+08:00"}"#.utf8)
    }

    static func tempInbox() -> String { NSTemporaryDirectory() + "console-\(UUID().uuidString)/inbox.db" }

    @Test func theInboxKeepsAnItemAndItsStateAcrossAReopen() throws {
        let path = Self.tempInbox()
        var inbox: Inbox? = try Inbox(path: path)
        let (item, fresh) = try inbox!.store(.dispatch, body: Self.dispatch())
        #expect(fresh && item.state == .sent && item.subject == "D0000000007" && item.ref == "ZX-1")
        // Delivered again (the broker resends until RECEIVED): the same item.
        let (again, freshAgain) = try inbox!.store(.dispatch, body: Self.dispatch())
        #expect(!freshAgain && again.seq == item.seq)
        try inbox!.record(item.seq, state: .acked, seat: "王五", action: "zx-ack-1-00aa11bb", text: "签收")
        inbox = nil

        let reopened = try Inbox(path: path)
        let kept = try #require(try reopened.item(subject: "D0000000007"))
        #expect(kept.state == .acked && kept.seq == item.seq)
        #expect((kept.body["case"] as? [String: Any])?["title"] as? String == "暖气不热")
        #expect(try reopened.history(item.seq).map(\.text) == ["签收"])
        #expect(try reopened.all().count == 1)
    }

    static func seat() -> ConsoleSettings.Seat {
        guard case .success(let h) = PasswordHash.parse(wangwu) else { fatalError() }
        return .init(login: "wangwu", name: "王五", password: h)
    }

    static func item(_ state: Inbox.State, summon: Bool = false) throws -> Inbox.Item {
        let inbox = try Inbox(path: tempInbox())
        var (item, _) = try inbox.store(summon ? .summon : .dispatch, body: summon ? Self.summon() : Self.dispatch())
        item.state = state
        return item
    }

    static func body(_ act: Act) -> [String: Any] { (try? JSONSerialization.jsonObject(with: Data(act.body))) as? [String: Any] ?? [:] }

    @Test func aFinishWithoutARequiredFieldIsRefusedWithTheFieldNamed() throws {
        let fields = try Self.load(Self.good).finishFields
        let item = try Self.item(.acked)
        let form = ["nonce": "0123456789abcdef", "f_result": "已排气，室温19℃", "f_temperature": "19"]
        guard case .failure(let r) = SeatAction.resolve.make(item: item, form: form, seat: Self.seat(), finishFields: fields) else {
            Issue.record("finished without the photo"); return
        }
        #expect(r.field == "f_photo" && r.message == "「处置后照片URL」为必填项，未办结")
        guard case .failure(let notURL) = SeatAction.resolve.make(item: item, form: form.merging(["f_photo": "照片.jpg"]) { $1 },
                                                                  seat: Self.seat(), finishFields: fields) else { Issue.record("not a URL taken"); return }
        #expect(notURL.field == "f_photo" && notURL.message.contains("http"))

        let done = try SeatAction.resolve.make(item: item, form: form.merging(["f_photo": "https://files.example/a.jpg"]) { $1 },
                                               seat: Self.seat(), finishFields: fields).get()
        let b = Self.body(done.act)
        #expect(done.act.command == .resolve && done.act.id == "zx-resolve-1-0123456789abcdef")
        #expect(b["dispatch_id"] as? String == "D0000000007" && b["result"] as? String == "已排气，室温19℃" && b["note"] as? String == "复测室温：19")
        #expect((b["attachments"] as? [[String: Any]])?.map { $0["url"] as? String } == ["https://files.example/a.jpg"])
        let ds = b["downstream"] as? [String: Any]
        #expect(ds?["status"] as? String == "console:resolve" && ds?["ref"] as? String == "ZX-1" && ds?["update"] as? String == "wangwu:0123456789abcdef")
    }

    @Test func eachActionMakesItsActWithAnIdStableForItsNonce() throws {
        let seat = Self.seat(), fields = ConsoleSettings.defaultFinishFields
        let sent = try Self.item(.sent), acked = try Self.item(.acked)
        func make(_ a: SeatAction, _ item: Inbox.Item, _ form: [String: String]) -> Result<SeatAction.Made, SeatAction.Refusal> {
            a.make(item: item, form: form, seat: seat, finishFields: fields)
        }
        // 签收: the handler is the seat's name; the same nonce, the same act; another nonce, another id.
        let ack = try make(.ack, sent, ["nonce": "aaaaaaaa11111111"]).get().act
        #expect(ack.command == .ack && Self.body(ack)["handler"] as? String == "王五" && ack.id == "zx-ack-1-aaaaaaaa11111111")
        #expect(try make(.ack, sent, ["nonce": "aaaaaaaa11111111"]).get().act == ack)
        #expect(try make(.ack, sent, ["nonce": "bbbbbbbb22222222"]).get().act.id != ack.id)
        #expect(throws: SeatAction.Refusal.self) { try make(.ack, sent, [:]).get() }  // no nonce: a stale form
        #expect((try? make(.ack, acked, ["nonce": "aaaaaaaa11111111"]).get()) == nil)  // signed already
        if case .failure(let r) = make(.ack, acked, ["nonce": "aaaaaaaa11111111"]) { #expect(r.message == "此件当前为「处置中」，不能签收") }

        // 处置反馈 with photos as attachments; a line that is not a URL is refused.
        let progress = try make(.progress, acked, ["nonce": "cccccccc", "note": "已到场排查", "photos": "https://f.example/1.jpg\n\nhttps://f.example/2.jpg"]).get()
        #expect(progress.act.command == .progress && Self.body(progress.act)["note"] as? String == "已到场排查")
        #expect((Self.body(progress.act)["attachments"] as? [[String: Any]])?.count == 2)
        #expect((try? make(.progress, acked, ["nonce": "cccccccc", "note": "x", "photos": "not a url"]).get()) == nil)
        #expect((try? make(.progress, sent, ["nonce": "cccccccc", "note": "x"]).get()) == nil)  // not signed for yet

        // 退单 with a reason (其他 needs a note); 申请延期 with a duration and a reason.
        let giveBack = try make(.giveBack, sent, ["nonce": "dddddddd", "reason": "not_our_jurisdiction", "note": "不在本公司供热范围"]).get().act
        #expect(giveBack.command == .return && Self.body(giveBack)["reason"] as? String == "not_our_jurisdiction")
        #expect((try? make(.giveBack, sent, ["nonce": "dddddddd", "reason": "other"]).get()) == nil)
        #expect((try? make(.giveBack, sent, ["nonce": "dddddddd", "reason": "because"]).get()) == nil)
        let extend = try make(.extend, acked, ["nonce": "eeeeeeee", "by": "2wd", "reason": "需更换主管道阀门，等待配件"]).get().act
        #expect(extend.command == .extend && Self.body(extend)["by"] as? String == "2wd")
        for by in ["", "0d", "2 days", "两天", "wd"] {
            #expect((try? make(.extend, acked, ["nonce": "eeeeeeee", "by": by, "reason": "r"]).get()) == nil, "\(by)")
        }
        #expect((try? make(.extend, acked, ["nonce": "eeeeeeee", "by": "2d", "reason": " "]).get()) == nil)

        // A SUMMON: 出发, then 到场 (REPORT on the whistle).
        let summoned = try Self.item(.summoned, summon: true)
        let enRoute = try make(.enRoute, summoned, ["nonce": "ffffffff"]).get().act
        #expect(enRoute.command == .report && Self.body(enRoute)["whistle_id"] as? String == "W0000000001"
                && Self.body(enRoute)["status"] as? String == "en_route" && Self.body(enRoute)["note"] as? String == "王五 已出发")
        var onTheWay = summoned
        onTheWay.state = .enRoute
        #expect(Self.body(try make(.onSite, onTheWay, ["nonce": "ffffffff"]).get().act)["status"] as? String == "on_site")
        #expect((try? make(.enRoute, onTheWay, ["nonce": "ffffffff"]).get()) == nil)
    }

    @Test func aPushIsDeliveredOnceItIsInTheInbox() async throws {
        var s = try Self.load(Self.good)
        s.inboxPath = Self.tempInbox()
        let plugin = ConsoleDepartment(desk: Desk(settings: s, department: "热力"), logger: Logger(label: "test"))
        let push = Push(command: .dispatch, delivery: "7", body: Self.dispatch(), dispatchID: "D0000000007")
        #expect(await plugin.deliver(push) == .delivered(externalID: "ZX-1"))
        #expect(await plugin.deliver(push) == .delivered(externalID: "ZX-1"))  // redelivered: the same item
        #expect(await plugin.deliver(Push(command: .summon, delivery: "9", body: Self.summon())) == .delivered(externalID: "ZX-2"))
        let items = try Inbox(path: s.inboxPath).all()
        #expect(items.map(\.state) == [.summoned, .sent])
        // The page's rows: the state, the category, the overdue mark (these deadlines are long past).
        let rows = Pages(desk: plugin.desk).rows(items)
        #expect(rows.contains("data-subject=\"D0000000007\"") && rows.contains("待签收") && rows.contains("已超时"))
        #expect(rows.contains("【吹哨召集】供热管道爆裂"))
    }

    @Test func caseTextIsAlwaysEscapedOnThePage() throws {
        var s = try Self.load(Self.good)
        s.inboxPath = Self.tempInbox()
        let desk = Desk(settings: s, department: "热力")
        let doc: [String: Any] = [
            "delivery": "8", "dispatch_id": "D0000000008", "role": "lead", "round": 1,
            "case": ["case_id": "C0000000004", "category": "heating_not_warm", "title": "\u{1}<img src=x onerror=alert(1)>",
                     "description": "<script>alert(2)</script>", "attachments": [["url": "javascript:alert(3)"], ["url": "https://p.example/a.jpg"]],
                     "location": ["grid": "zz/erqi/jiefanglu", "address": "\u{1}<b>民主路</b>"], "grid": "zz/erqi/jiefanglu"],
            "due": ["ack_by": "2026-11-22T09:18:36.605+08:00", "resolve_by": "2026-11-22T10:48:36.605+08:00", "return_by": "2026-11-24T08:30:00+08:00"],
        ]
        let (item, _) = try Inbox(path: s.inboxPath).store(.dispatch, body: Array(try JSONSerialization.data(withJSONObject: doc)))
        let page = Pages(desk: desk).item(seat: Self.seat(), item, history: [])
        #expect(!page.contains("<img src=x") && !page.contains("<script>alert(2)") && !page.contains("<b>民主路"))
        #expect(page.contains("&lt;img src=x onerror=alert(1)&gt;") && page.contains("&lt;script&gt;"))
        #expect(!page.contains("javascript:") && page.contains("https://p.example/a.jpg"), "only http(s) links")
        let rows = Pages(desk: desk).rows([item])
        #expect(!rows.contains("<img src=x"))
    }
}
