import Crypto
import Foundation
@testable import HotlineIntake
import MusterAdapterKit
import MusterConfig
import MusterWire
import Testing
import WebhookDepartment

/// The 12345 intake's pure parts: a work order's shape and what its SUBMIT says, the broker's
/// answer in the platform's terms, the clients' proof, the settings' errors. Over HTTP against a
/// real broker: integration/test_hotline_intake.py.
@Suite struct HotlineIntakeTests {
    static func order(_ over: [String: Any] = [:]) -> [UInt8] {
        var o: [String: Any] = ["order_no": "GD20261202000123", "called_at": "2026-12-02T09:15:00+08:00", "kind": "投诉",
                                "content": "小区门口井盖丢了，晚上很危险", "address": "金水区人民路8号", "grid": "zz/jinshui/renminlu",
                                "contact": ["name": "王女士", "phone": "13800001111"], "anonymous": false, "callback": true]
        for (k, v) in over { o[k] = v }
        return Array(try! JSONSerialization.data(withJSONObject: o))
    }

    static func refusal(_ over: [String: Any]) -> WorkOrder.Refusal? {
        do { _ = try WorkOrder.parse(order(over)); return nil } catch { return error }
    }

    @Test func aWorkOrderBecomesTheCaseOfASubmit() throws {
        let w = try WorkOrder.parse(Self.order())
        let c = try #require(try JSONSerialization.jsonObject(with: Data(w.submittedCase(source: .hotline12345))) as? [String: Any])
        #expect(c["source"] as? String == "hotline_12345" && c["external_ref"] as? String == "GD20261202000123")
        #expect(c["title"] as? String == "小区门口井盖丢了，晚上很危险" && c["description"] as? String == "小区门口井盖丢了，晚上很危险")
        #expect(c["priority"] as? String == "normal" && c["category"] == nil, "no category: the broker classifies")
        #expect((c["location"] as? [String: Any])?["grid"] as? String == "zz/jinshui/renminlu")
        #expect(c["reporter"] as? [String: String] == ["name": "王女士", "phone": "13800001111"])
        #expect(c["reported_at"] as? String == "2026-12-02T09:15:00+08:00")
        #expect((c["hotline"] as? [String: Any])?["kind"] as? String == "投诉" && (c["hotline"] as? [String: Any])?["callback"] as? Bool == true)
        let consult = try WorkOrder.parse(Self.order(["kind": "咨询", "anonymous": true, "callback": false]))
        let a = try #require(try JSONSerialization.jsonObject(with: Data(consult.submittedCase(source: .hotline12345))) as? [String: Any])
        #expect(a["priority"] as? String == "consult")
        #expect(a["reporter"] as? [String: Bool] == ["anonymous": true], "an anonymous caller's name and phone stay with the platform")
        let urgent = try WorkOrder.parse(Self.order(["urgent": true]))
        #expect(String(decoding: urgent.submittedCase(source: .hotline12345), as: UTF8.self).contains(#""priority":"urgent""#))
    }

    @Test func aBadWorkOrderNamesItsMember() {
        let cases: [([String: Any], String)] = [
            (["content": "  "], "content"), (["kind": "吐槽"], "kind"), (["order_no": "GD 1"], "order_no"), (["order_no": 12], "order_no"),
            (["urgent": 1], "urgent"), (["anonymous": "no"], "anonymous"), (["lat": true], "lat"), (["colour": "red"], "colour"),
            (["contact": ["name": "李"]], "contact.phone"), (["contact": ["mobile": "1"]], "contact.mobile"), (["contact": "王"], "contact"),
            (["attachments": [["sha256": "ab"]]], "attachments[0].url"), (["called_at": NSNull()], "called_at"),
        ]
        for (over, field) in cases {
            #expect(Self.refusal(over)?.field == field, "\(over)")
        }
        #expect(Self.refusal([:]) == nil)
    }

    @Test func theBrokersAnswerInThePlatformsTerms() {
        let accepted = HotlineIntake.reply(ActAnswer(command: .accepted, body: Array(#"{"re":"x","case_id":"C0000000009","state":"dispatched","due":"2026-12-09T09:15:00+08:00"}"#.utf8)), orderNo: "GD1")
        #expect(accepted.0 == 201 && accepted.1["case_id"] as? String == "C0000000009" && accepted.1["order_no"] as? String == "GD1")
        let grid = HotlineIntake.reply(ActAnswer(command: .error, body: Array(#"{"code":"bad_field","message":"unknown grid \"zz/x\"","detail":{"field":"case.location.grid"}}"#.utf8)), orderNo: "GD1")
        #expect(grid.0 == 422 && grid.1["field"] as? String == "grid")
        #expect(WorkOrder.platformField("case.reporter.phone") == "contact.phone" && WorkOrder.platformField("case.title") == "title")
        let forbidden = HotlineIntake.reply(ActAnswer(command: .error, body: Array(#"{"code":"forbidden","message":"no"}"#.utf8)), orderNo: "GD1")
        #expect(forbidden.0 == 502)
        let body = Array(#"{"title":"x"}"#.utf8)
        #expect(HotlineIntake.actID("GD1", body) == HotlineIntake.actID("GD1", body) && HotlineIntake.actID("GD1", body) != HotlineIntake.actID("GD2", body))
        #expect(HotlineIntake.actID("GD1", body) != HotlineIntake.actID("GD1", body + [32]), "a corrected resend is a new request")
    }

    static func call(_ order: String, _ state: HotlineBook.CallState = .waiting, _ s: String? = nil, attempts: Int = 0, name: String? = nil) -> HotlineBook.Call {
        HotlineBook.Call(caseID: "C1", finishSeq: 40, orderNo: order, name: name, phone: "138", dueAt: "2026-12-03T17:30:00+08:00",
                         state: state, attempts: attempts, satisfaction: s, note: nil)
    }

    @Test func aFollowUpCallSettlesOnceAndTheWorstRatingIsTheCases() throws {
        var c = Self.call("GD1", name: "王女士")
        try FollowUp.apply(.unreached, note: nil, maxAttempts: 2, to: &c)
        #expect(c.state == .waiting && c.attempts == 1, "未接通: tried again")
        try FollowUp.apply(.unreached, note: nil, maxAttempts: 2, to: &c)
        #expect(c.state == .unreached && c.attempts == 2, "the last allowed attempt gives it up")
        #expect(throws: FollowUp.Refusal.self) { try FollowUp.apply(.satisfied, note: nil, maxAttempts: 2, to: &c) }
        var d = Self.call("GD2", name: "李先生")
        try FollowUp.apply(.basicallySatisfied, note: "还行", maxAttempts: 2, to: &d)
        #expect(d.state == .answered && d.satisfaction == "basically_satisfied")
        #expect(FollowUp.evaluation([d, Self.call("GD3")]) == nil, "a call still waits")
        #expect(FollowUp.evaluation([c]) == nil, "nobody reached: no rating (the broker's 回访 clock tells the centre)")
        let (s, note) = try #require(FollowUp.evaluation([c, d, Self.call("GD4", .answered, "dissatisfied")]))
        #expect(s == .dissatisfied && note == "回访：王女士：未接通（2次）；李先生：基本满意，还行；GD4：不满意")
        #expect(FollowUp.evaluate(caseID: "C1", finishSeq: 40, s, note: note).id == "ev-C1-40")
    }

    /// An ActSink that keeps what it is sent, dropping an id it has (as the act queue does).
    final class Recorder: ActSink, @unchecked Sendable {
        private let lock = NSLock()
        private var sent: [Act] = []
        var acts: [Act] { lock.withLock { sent } }
        func send(_ act: Act) async throws { _ = try await send([act], cursor: nil) }
        func send(_ acts: [Act], cursor: (name: String, value: String)?) async throws -> Int {
            lock.withLock {
                let fresh = acts.filter { a in !sent.contains { $0.id == a.id } }
                sent += fresh
                return fresh.count
            }
        }
        func cursor(_ name: String) async throws -> String? { nil }
        func subject(ofRef ref: String) async throws -> String? { nil }
        func ref(ofSubject subject: String) async throws -> String? { nil }
        func push(ofSubject subject: String) async throws -> [UInt8]? { nil }
    }

    /// An intake on a book of its own in a new temporary folder (no broker: its acts are the test's).
    static func intake() throws -> (HotlineIntake, HotlineBook) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("muster-hotline-\(UUID().uuidString)")
        let book = try HotlineBook(path: dir.appendingPathComponent("book.db").path)
        let settings = HotlineSettings(host: "127.0.0.1", port: 1, clients: [], wait: 1, source: .hotline12345, followupAttempts: 3,
                                       bookPath: book.path, open311: nil)
        return (HotlineIntake(settings: settings, book: book, logger: AdapterKitTests.logger()), book)
    }

    /// A crash after the last call of a finish was recorded and before its EVALUATE was queued:
    /// the next start queues it, once.
    @Test func aRatingLostToACrashIsQueuedAtTheNextStart() async throws {
        let (intake, book) = try Self.intake()
        try book.take(.init(orderNo: "GD1", actID: "hl-1", callback: true, name: "王女士", phone: "138"))
        try book.take(.init(orderNo: "GD2", actID: "hl-2", callback: true, name: "李先生", phone: "139"))
        try book.accepted("GD1", caseID: "C7", mergedInto: nil)
        try book.accepted("GD2", caseID: "C8", mergedInto: "C7")
        try book.scheduleCalls(caseID: "C7", finishSeq: 50, dueAt: "2026-12-03T17:30:00+08:00", orders: try book.orders(of: "C7"))
        let sink = Recorder()
        _ = try book.settle(caseID: "C7", orderNo: "GD1") { try FollowUp.apply(.satisfied, note: nil, maxAttempts: 3, to: &$0) }
        try await intake.requeueEvaluations(sink)
        #expect(sink.acts.isEmpty, "a call still waits: no rating yet")
        _ = try book.settle(caseID: "C7", orderNo: "GD2") { try FollowUp.apply(.dissatisfied, note: "又来了", maxAttempts: 3, to: &$0) }
        // (the crash: the EVALUATE of this finish was never queued)
        try await intake.requeueEvaluations(sink)
        try await intake.requeueEvaluations(sink)
        #expect(sink.acts.map(\.id) == ["ev-C7-50"] && sink.acts.first?.command == .evaluate)
        #expect(String(decoding: sink.acts[0].fields, as: UTF8.self).contains(#""satisfaction":"dissatisfied""#))
    }

    /// An ActSink whose act queue answers as the test says: a status, and a QUERY's answer.
    final class Scripted: ActSink, @unchecked Sendable {
        let status: (String) throws -> ActStatus
        let answer: [String: Any]
        init(status: @escaping (String) throws -> ActStatus = { _ in .unknown }, query answer: [String: Any] = [:]) {
            self.status = status; self.answer = answer
        }
        func send(_ act: Act) async throws {}
        func send(_ acts: [Act], cursor: (name: String, value: String)?) async throws -> Int { acts.count }
        func cursor(_ name: String) async throws -> String? { nil }
        func subject(ofRef ref: String) async throws -> String? { nil }
        func ref(ofSubject subject: String) async throws -> String? { nil }
        func push(ofSubject subject: String) async throws -> [UInt8]? { nil }
        func status(of id: String, within: Double) async throws -> ActStatus { try status(id) }
        func query(_ fill: @Sendable (inout JSONWriter) -> Void) async throws -> ActAnswer {
            ActAnswer(command: .result, body: Array(try JSONSerialization.data(withJSONObject: answer)))
        }
    }

    /// A merged order's feed begins at its merge, whichever reaches the adapter first: the
    /// answer to its SUBMIT or the case's events from before (the subscription and the answer are
    /// two channels). Its caller is called back when the case finishes.
    @Test func aMergedOrderFollowsItsCaseFromTheMergeOn() async throws {
        let (intake, book) = try Self.intake()
        func event(_ seq: Int64, _ type: String, _ data: [String: Any]) throws -> Push {
            Push(command: .event, delivery: "E\(seq)", body: Array(try JSONSerialization.data(withJSONObject: [
                "delivery": "E\(seq)", "seq": seq, "type": type, "case_id": "C7", "at": "2026-12-02T10:00:0\(seq % 10)+08:00", "actor": "x", "data": data])))
        }
        func feed() throws -> [String] { try book.updates(after: 0, limit: 100).map { "\($0.orderNo) \($0.status)" } }
        try book.take(.init(orderNo: "GD1", actID: "hl-1", callback: true, name: "王女士", phone: "138"))
        try book.take(.init(orderNo: "GD2", actID: "hl-2", callback: true, name: "李先生", phone: "139"))
        try book.accepted("GD1", caseID: "C7", mergedInto: nil)

        // GD2's merge is answered before the case's 已派单, from before the merge, is read.
        try book.accepted("GD2", caseID: "C8", mergedInto: "C7")
        #expect(try book.order("GD2")?.followsFrom == HotlineBook.mergeNotYetRead)
        #expect(await intake.deliver(try event(5, "case.dispatched", ["dispatch": ["role": "lead", "agency": "chengguan"]])) == .delivered(externalID: nil))
        #expect(try feed() == ["GD1 dispatched"], "GD2 had not joined yet")
        #expect(await intake.deliver(try event(6, "case.report_merged", ["from_case": "C8"])) == .delivered(externalID: nil))
        #expect(try book.order("GD2")?.followsFrom == 6)
        _ = await intake.deliver(try event(7, "dispatch.acked", ["dispatch_id": "D1", "handler": "张队长"]))
        #expect(try feed() == ["GD1 dispatched", "GD1 signed", "GD2 signed"])
        _ = await intake.deliver(try event(8, "clock.scheduled", ["rungs": [["clock": "evaluate", "deadline": "2026-12-03T17:30:00+08:00"]]]))
        #expect(Set(try book.calls().map(\.orderNo)) == ["GD1", "GD2"], "both callers are called back")

        // A merge whose order's answer is still out waits for it; once recorded, it is taken.
        try book.take(.init(orderNo: "GD3", actID: "hl-3", callback: false, name: nil, phone: nil))
        intake.acts.value.withLock { $0 = Scripted(status: { _ in .waiting }) }
        let merge = try event(9, "case.report_merged", ["from_case": "C9"])
        #expect(await intake.deliver(merge) == .retryLater(after: 0.2))
        try book.accepted("GD3", caseID: "C9", mergedInto: "C7")
        #expect(await intake.deliver(merge) == .delivered(externalID: nil))
        #expect(try book.order("GD3")?.followsFrom == 9)
        // A merge of a report that is none of the hotline's, with no answer out: nothing to wait for.
        intake.acts.value.withLock { $0 = nil }
        #expect(await intake.deliver(try event(10, "case.report_merged", ["from_case": "C10"])) == .delivered(externalID: nil))
        #expect(try book.order("GD1")?.followsFrom == nil, "an order's own case: every event")

        // Its answer recorded between the book's first read and the act queue's "answered": the
        // merge is still taken (the book is read again), not lost with the order's whole feed.
        try book.take(.init(orderNo: "GD4", actID: "hl-4", callback: true, name: nil, phone: "137"))
        intake.acts.value.withLock {
            $0 = Scripted(status: { _ in
                try book.accepted("GD4", caseID: "C11", mergedInto: "C7")
                return .answered(ActAnswer(command: .accepted, body: []))
            })
        }
        #expect(await intake.deliver(try event(11, "case.report_merged", ["from_case": "C11"])) == .delivered(externalID: nil))
        #expect(try book.order("GD4")?.followsFrom == 11)
        // Before the adapter's act queue is reachable, an order waiting for its answer holds a merge.
        try book.take(.init(orderNo: "GD5", actID: "hl-5", callback: true, name: nil, phone: "136"))
        intake.acts.value.withLock { $0 = nil }
        #expect(await intake.deliver(try event(12, "case.report_merged", ["from_case": "C12"])) == .retryLater(after: 0.2))
    }

    /// A merged order whose merge event never reached it is found in its case's timeline when its
    /// answer comes: it follows the case from there, status changes and call-backs alike — not a
    /// finish from before its report.
    @Test func aMergedOrderFindsItsMergeInTheCasesTimeline() async throws {
        let (intake, book) = try Self.intake()
        func entry(_ seq: Int, _ type: String, _ data: [String: Any]) -> [String: Any] {
            ["seq": seq, "type": type, "at": "2026-12-02T10:00:\(seq)+08:00", "data": data]
        }
        let timeline = [
            entry(20, "case.dispatched", ["dispatch": ["role": "lead", "agency": "chengguan"]]),
            entry(21, "clock.scheduled", ["rungs": [["clock": "evaluate", "deadline": "2026-12-03T09:00:00+08:00"]]]),
            entry(22, "case.report_merged", ["from_case": "C13"]),
            entry(23, "dispatch.acked", ["dispatch_id": "D1", "handler": "张队长"]),
            entry(24, "clock.scheduled", ["rungs": [["clock": "evaluate", "deadline": "2026-12-04T09:00:00+08:00"]]]),
        ]
        intake.acts.value.withLock { $0 = Scripted(query: ["timeline": timeline]) }
        try book.take(.init(orderNo: "GD6", actID: "hl-6", callback: true, name: "赵先生", phone: "135"))
        try book.accepted("GD6", caseID: "C13", mergedInto: "C7")
        await intake.backfill(try #require(try book.order("GD6")))
        #expect(try book.order("GD6")?.followsFrom == 22)
        #expect(try book.updates(after: 0, limit: 10).map { "\($0.orderNo) \($0.status) \($0.caseID)" } == ["GD6 signed C7"])
        #expect(try book.calls().map { "\($0.orderNo) \($0.finishSeq)" } == ["GD6 24"], "called back for the finish after its report only")
    }

    @Test func theEventsTheHotlineFollowsBecomeThePlatformsStatuses() throws {
        func event(_ type: String, _ data: [String: Any]) throws -> CaseEvents.Event {
            let body = try JSONSerialization.data(withJSONObject: ["delivery": "E9", "seq": 9, "type": type, "case_id": "C1",
                                                                   "at": "2026-12-02T10:00:00+08:00", "actor": "x", "data": data])
            return try #require(CaseEvents.parse(Array(body)))
        }
        #expect(CaseEvents.status(try event("case.dispatched", ["dispatch": ["role": "lead", "agency": "chengguan"]]))?.status == "dispatched")
        #expect(CaseEvents.status(try event("case.dispatched", ["dispatch": ["role": "assist", "agency": "gongan"]])) == nil, "the lead's only")
        #expect(CaseEvents.status(try event("dispatch.acked", ["dispatch_id": "D1", "handler": "张队长"]))?.note == "张队长")
        #expect(CaseEvents.status(try event("case.resolved", ["result": "已清理", "note": "恢复"]))?.note == "已清理 恢复")
        let rungs: [[String: Any]] = [["clock": "verify", "deadline": "v"], ["clock": "evaluate", "deadline": "2026-12-03T17:30:00+08:00"]]
        #expect(CaseEvents.followUpDue(try event("clock.scheduled", ["rungs": rungs])) == "2026-12-03T17:30:00+08:00")
        #expect(CaseEvents.followUpDue(try event("clock.scheduled", ["rungs": [["clock": "ack", "deadline": "x"]]])) == nil)
        #expect(CaseEvents.parse(Array("{}".utf8)) == nil)
    }

    @Test func aClientProvesItselfBySignatureOrKey() {
        let proof = ClientProof(clients: [.init(name: "platform", proof: .hmac(secret: Array("s3cret".utf8))), .init(name: "app", proof: .apiKey("k1"))])
        let body = Array(#"{"order_no":"GD1"}"#.utf8)
        let now = Date(timeIntervalSince1970: 1_795_000_000)
        let sig = "sha256=" + WebhookDepartment.signature(secret: SymmetricKey(data: Array("s3cret".utf8)), timestamp: "1795000000", body: body)
        #expect(proof.check(client: "platform", timestamp: "1795000000", signature: sig, authorization: "", body: body, now: now) == "platform")
        #expect(proof.check(client: "platform", timestamp: "1795000000", signature: sig, authorization: "", body: body + [32], now: now) == nil, "another body")
        #expect(proof.check(client: "platform", timestamp: "1795000000", signature: sig, authorization: "", body: body, now: now.addingTimeInterval(301)) == nil, "stale")
        #expect(proof.check(client: "app", timestamp: "", signature: sig, authorization: "", body: body, now: now) == nil, "a key client's signature is not its key")
        #expect(proof.check(client: "app", timestamp: "", signature: "", authorization: "Bearer k1", body: body, now: now) == "app")
        #expect(proof.check(client: "nobody", timestamp: "", signature: "", authorization: "Bearer k1", body: body, now: now) == nil)
    }

    @Test func everyBadSettingIsAnErrorAtItsKey() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("muster-hotline-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("hotline.yaml").path
        try """
            adapter: hotline-12345
            name: 12345
            roles: [intake]
            plugin: hotline12345
            settings:
              listen: "8720"
              wait: 2min
              source: phone
              clients:
                - {name: platform, secret_file: missing.secret}
                - {name: platform, api_key_file: missing.key, secret_file: x}

            """.write(toFile: path, atomically: true, encoding: .utf8)
        let cfg = try AdapterConfig.load(path)
        var errors: [ConfigError] = []
        do { _ = try HotlineIntake.descriptor.make(cfg.settings, .init(adapter: "hotline-12345", agency: nil, name: "12345", logger: AdapterKitTests.logger())) }
        catch { errors = error.errors }
        let keys = errors.map { "\($0.line ?? 0) \($0.key)" }
        #expect(keys.contains("6 settings.listen") && keys.contains("7 settings.wait") && keys.contains("8 settings.source"), "\(keys)")
        #expect(errors.contains { $0.message.contains("cannot read a secret") })
        #expect(errors.contains { $0.message.contains("given twice") } && errors.contains { $0.message.contains("one of them") })
    }
}
