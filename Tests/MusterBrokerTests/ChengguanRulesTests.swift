import Foundation
import Testing
import MusterAdapterKit
import MusterConfig
import MusterWire
@testable import ChengguanDepartment
@testable import WebhookDepartment

/// 城管's rules without HTTP: the `chengguan:` settings checked with file, line and key; the work
/// order carries the dispatch's 数字城管 class; a finish without the after-photo, and a stage the
/// class does not have, are refused with the field and the reason the desk sees. The HTTP ends
/// are black-box tested in integration/test_dept_chengguan.py.
@Suite struct ChengguanRulesTests {
    static let vending = SzcgClass(code: "0501", major: "街面秩序", minor: "无照经营游商", filing: "道路、广场流动摆卖",
                                   limit: TimeLimit(2, .wh), closing: "现场无游商、无遗留物")
    static let construction = SzcgClass(code: "0101", major: "市容环境", minor: "私搭乱建", filing: "未经审批私自搭建",
                                        limit: TimeLimit(15, .wd), closing: "彻底拆除",
                                        stages: [.init(name: "停工", limit: TimeLimit(4, .wh)), .init(name: "处罚", limit: TimeLimit(7, .wd)),
                                                 .init(name: "拆除", limit: TimeLimit(20, .wd))])
    static let cleaning = SzcgClass(code: "0104", major: "市容环境", minor: "道路不洁", filing: "8:00 后路面脏乱",
                                    limit: TimeLimit(2, .wh), closing: "路面整洁", afterPhoto: false)
    static let rules = ChengguanRules(classes: ["street_vending": vending, "illegal_construction": construction, "road_cleaning": cleaning])

    static func dispatch(_ category: String) -> [String: Any] {
        ["dispatch_id": "D0000000012", "role": "lead", "round": 1,
         "case": ["case_id": "C0000000009", "category": category, "title": "解放路流动摊贩", "priority": "normal",
                  "grid": "zz/erqi/yimalu", "location": ["grid": "zz/erqi/yimalu", "address": "一马路 8 号"]]]
    }

    static func refusal(_ update: [String: Any], _ meaning: StatusMap.Meaning, _ category: String?) -> StatusMap.Refusal? {
        do {
            try rules.check(update, meaning: meaning, subject: "D0000000012", dispatch: category.map(dispatch))
            return nil
        } catch { return error }
    }

    static var photo: [String: Any] { ["url": "https://szcg.example/photos/after-1.jpg", "sha256": String(repeating: "ab", count: 32)] }

    // MARK: settings

    static func write(_ yaml: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("muster-chengguan-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try "s3cret\n".write(to: dir.appendingPathComponent("s.secret"), atomically: true, encoding: .utf8)
        let path = dir.appendingPathComponent("chengguan.yaml").path
        try ("""
            adapter: chengguan-1
            agency: chengguan
            name: 城管
            roles: [agency]
            plugin: chengguan
            settings:
              url: http://127.0.0.1:9/work-orders
              secret_file: s.secret

            """ + yaml).write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func make(_ path: String) throws -> any DepartmentPlugin {
        let cfg = try AdapterConfig.load(path)
        return try ChengguanDepartment.descriptor.make(cfg.settings, .init(adapter: "chengguan-1", agency: "chengguan", name: "城管",
                                                                            logger: AdapterKitTests.logger()))
    }

    static func errors(_ yaml: String) throws -> [ConfigError] {
        do { _ = try make(try write(yaml)); return [] } catch let e as ConfigErrors { return e.errors }
    }

    @Test func everyBadValueIsAnErrorAtItsLineAndKey() throws {
        let errors = try Self.errors("""
              chengguan:
                codes:
                  street_vending:
                    code: "501"
                    kind: building
                    major: 街面秩序
                    minor: 无照经营游商
                    filing: 流动摆卖
                    limit: 2 hours
                    closing: 现场无游商
                  illegal_construction:
                    code: "0101"
                    major: 市容环境
                    minor: 私搭乱建
                    filing: 未经审批私自搭建
                    limit: 15wd
                    closing: ""
                    stages:
                      - {name: 停工, limit: 4wh}
                      - {name: 处罚, limit: 7days}
                      - {name: 停工, limit: 20wd}
                  exposed_garbage:
                    code: "0101"
                    major: 市容环境
                    minor: 暴露垃圾
                    filing: 成堆垃圾
                    limit: 4wh
                    closing: 彻底清理
                  manhole_cover:
                    code: "0101"
                    kind: component
                    major: 公用设施
                    minor: 上水井盖
                    filing: 井盖缺失、破损
                    limit: 2h
                    closing: 井盖完好
            """)
        // Sorted by category; within one, in the order checked. (manhole_cover: a component's
        // 0101 is not an event's.)
        #expect(errors.map { "\($0.line ?? 0) \($0.key)" } == [
            "20 settings.chengguan.codes.illegal_construction.code",
            "25 settings.chengguan.codes.illegal_construction.closing",
            "26 settings.chengguan.codes.illegal_construction.stages",
            "26 settings.chengguan.codes.illegal_construction.stages",
            "12 settings.chengguan.codes.street_vending.code",
            "13 settings.chengguan.codes.street_vending.kind",
            "17 settings.chengguan.codes.street_vending.limit",
        ], "\(errors)")
        let messages = errors.map(\.message)
        guard messages.count == 7 else { return }
        #expect(messages[0].contains("code 0101 is 市容环境/暴露垃圾 under exposed_garbage"), "one code, one class")
        #expect(messages[2].contains("stages[1] (处罚): \"7days\" is not a limit"))
        #expect(messages[3].contains("stages[2]: \"停工\" is listed twice"))
        #expect(messages[4].contains("\"501\" is not a 数字城管 code"))
        #expect(messages[5].contains("\"building\" is not a kind"))
        #expect(errors.allSatisfy { $0.file.hasSuffix("chengguan.yaml") })
    }

    @Test func aMisspeltKeyAndTheWebhooksOwnErrorsComeTogether() throws {
        let errors = try Self.errors("""
              timeout: soon
              chengguan:
                codes:
                  street_vending:
                    code: "0501"
                    major: 街面秩序
                    minor: 无照经营游商
                    filing: 流动摆卖
                    limt: 2wh
                    closing: 现场无游商
            """)
        let keys = errors.map { "\($0.line ?? 0) \($0.key)" }
        // (The key's suffix: MusterConfig's "did you mean" error drops a section's prefix today.)
        #expect(errors.contains { $0.line == 17 && $0.key.hasSuffix("codes.street_vending.limit") }, "\(errors)")
        #expect(errors.first { $0.key.hasSuffix(".limit") }?.message.contains("`limt`") == true, "did you mean")
        #expect(keys.contains("9 settings.timeout"), "the transport's settings are checked too: \(errors)")
    }

    @Test func withoutCodesThePluginIsNotMade() throws {
        let errors = try Self.errors("  chengguan: {codes: {}}\n")
        #expect(errors.map(\.key) == ["settings.chengguan.codes"] && errors.first?.line == 9, "\(errors)")
        let none = try Self.errors("")
        #expect(none.count == 1 && none.first?.message.contains("needs codes") == true, "\(none)")
    }

    @Test func unquotedCodesAndDefaultsAreTaken() throws {
        let plugin = try Self.make(try Self.write("""
              chengguan:
                codes:
                  manhole_cover:
                    code: 0102
                    kind: component
                    major: 公用设施
                    minor: 污水井盖
                    filing: 井盖缺失、破损、移位
                    limit: 2h
                    closing: 井盖完好归位
            """))
        let classes = try #require(((plugin as? WebhookDepartment)?.rules as? ChengguanRules)?.classes)
        #expect(classes == ["manhole_cover": SzcgClass(code: "0102", kind: .component, major: "公用设施", minor: "污水井盖",
                                                        filing: "井盖缺失、破损、移位", limit: TimeLimit(2, .h), closing: "井盖完好归位")])
        #expect(classes["manhole_cover"]?.afterPhoto == true, "after_photo defaults to true")
    }

    @Test func limitsAreTheProtocolsUnits() {
        #expect(["2wh", "4wh", "7wd", "20wd", "30m", "3d"].map { TimeLimit($0)?.description } == ["2wh", "4wh", "7wd", "20wd", "30m", "3d"])
        #expect(["", "0wd", "07wd", "4", "wh", "4 wh", "-1d", "4hours", "1w"].allSatisfy { TimeLimit($0) == nil })
        #expect(TimeLimit(4, .wh).chinese == "4 工作时" && TimeLimit(7, .wd).chinese == "7 工作日")
    }

    // MARK: the work order

    @Test func theWorkOrderCarriesTheDispatchsClass() async throws {
        let plugin = try #require(try Self.make(try Self.write("""
              chengguan:
                codes:
                  illegal_construction:
                    code: "0101"
                    major: 市容环境
                    minor: 私搭乱建
                    filing: 未经审批私自搭建的建筑物、构筑物
                    limit: 15wd
                    closing: 彻底拆除
                    stages:
                      - {name: 停工, limit: 4wh}
                      - {name: 处罚, limit: 7wd}
                      - {name: 拆除, limit: 20wd}
            """)) as? WebhookDepartment)
        func order(_ category: String) async throws -> [String: Any] {
            let body = try JSONSerialization.data(withJSONObject: Self.dispatch(category))
            let bytes = await plugin.workOrder(Push(command: .dispatch, delivery: "41-x", body: Array(body), dispatchID: "D0000000012"))
            return try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        }
        let staged = try await order("illegal_construction")
        let szcg = try #require(staged["szcg"] as? [String: Any])
        #expect(szcg["code"] as? String == "0101" && szcg["kind"] as? String == "event")
        #expect(szcg["major"] as? String == "市容环境" && szcg["minor"] as? String == "私搭乱建")
        #expect(szcg["filing"] as? String == "未经审批私自搭建的建筑物、构筑物" && szcg["closing"] as? String == "彻底拆除")
        #expect(szcg["limit"] as? String == "15wd" && szcg["after_photo"] as? Bool == true)
        #expect(szcg["stages"] as? [[String: String]] == [["name": "停工", "limit": "4wh"], ["name": "处罚", "limit": "7wd"],
                                                          ["name": "拆除", "limit": "20wd"]])
        #expect(staged["category"] as? String == "illegal_construction" && staged["dispatch_id"] as? String == "D0000000012")
        // A category without a class: the webhook's work order, nothing added.
        #expect(try await order("street_vending")["szcg"] == nil)
        // A class without stages says none.
        #expect(Self.vending.workOrder["stages"] == nil)
    }

    // MARK: the check of each update

    @Test func aFinishWithoutTheAfterPhotoIsRefusedAndWithItPasses() {
        let resolve: [String: Any] = ["update_id": "SZ-1", "dispatch_id": "D0000000012", "status": "30", "result": "已劝离"]
        let refused = Self.refusal(resolve, .resolve, "street_vending")
        #expect(refused?.status == 422 && refused?.field == "attachments")
        #expect(refused?.message.hasPrefix("办结需上传处置后照片（数字城管 0501 无照经营游商 结案条件：现场无游商、无遗留物）") == true, "\(refused?.message ?? "")")
        #expect(Self.refusal(resolve.merging(["attachments": []]) { $1 }, .resolve, "street_vending")?.field == "attachments", "an empty list is none")
        #expect(Self.refusal(resolve.merging(["attachments": [Self.photo]]) { $1 }, .resolve, "street_vending") == nil)
        // Only a finish needs it; a class with after_photo: false, a category without a class, and
        // an update whose dispatch the adapter no longer has pass unchanged.
        #expect(Self.refusal(["update_id": "SZ-2", "status": "20", "note": "已到场"], .progress, "street_vending") == nil)
        #expect(Self.refusal(resolve, .resolve, "road_cleaning") == nil)
        #expect(Self.refusal(resolve, .resolve, "heating_not_warm") == nil)
        #expect(Self.refusal(resolve, .resolve, nil) == nil)
    }

    @Test func aStageMustBeOneOfTheClasssStagesAndGoesToTheBrokerAsTheMilestone() {
        func progress(_ stage: Any, note: String? = nil) -> [String: Any] {
            var u: [String: Any] = ["update_id": "SZ-S", "dispatch_id": "D0000000012", "status": "20", "stage": stage]
            if let note { u["note"] = note }
            return u
        }
        #expect(Self.refusal(progress("停工", note: "阶段完成：停工"), .progress, "illegal_construction") == nil)
        #expect(Self.refusal(progress("拆除", note: "阶段完成：拆除"), .progress, "illegal_construction") == nil,
                "the order is not the plugin's to judge (README.md, Staged limits)")
        let unknown = Self.refusal(progress("停业", note: "阶段完成：停业"), .progress, "illegal_construction")
        #expect(unknown?.status == 422 && unknown?.field == "stage")
        #expect(unknown?.message.contains("数字城管 0101 私搭乱建 无“停业”阶段，其阶段为 停工（4 工作时） → 处罚（7 工作日） → 拆除（20 工作日）") == true,
                "\(unknown?.message ?? "")")
        #expect(Self.refusal(progress("停工"), .progress, "illegal_construction") == nil)
        let amended = Self.rules.amend(progress("停工"), meaning: .progress, dispatch: Self.dispatch("illegal_construction"))
        #expect(amended["milestone"] as? String == "停工" && amended["note"] as? String == "阶段完成：停工", "the log says which stage")
        let own = Self.rules.amend(progress("处罚", note: "决定书已送达当事人"), meaning: .progress, dispatch: Self.dispatch("illegal_construction"))
        #expect(own["note"] as? String == "阶段完成：处罚 — 决定书已送达当事人")
        #expect(Self.rules.amend(progress("停工", note: "已停工"), meaning: .progress, dispatch: Self.dispatch("illegal_construction"))["note"] as? String == "已停工")
        #expect(Self.rules.amend(progress("停工"), meaning: .progress, dispatch: Self.dispatch("street_vending"))["milestone"] == nil)
        #expect(Self.refusal(progress("停工", note: "阶段完成：停工"), .progress, "street_vending")?.message.contains("不分阶段") == true)
        #expect(Self.refusal(progress(3, note: "3"), .progress, "illegal_construction")?.field == "stage")
        #expect(Self.refusal(progress("停工", note: "阶段完成：停工"), .ack, "illegal_construction")?.field == "stage",
                "a stage is reported with a progress update")
        #expect(Self.refusal(progress("停业", note: "x"), .progress, "heating_not_warm") == nil, "no class, nothing checked")
    }
}
