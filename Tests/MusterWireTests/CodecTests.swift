import Foundation
import Testing
@testable import MusterWire

@Suite struct EnvelopeTests {
    static let v = Array("MUSTER/1".utf8)
    static func b(_ s: String) -> [UInt8] { Array(s.utf8) }

    @Test func aWellFormedMessageParses() throws {
        let env = try Envelope.parse([Self.v, Self.b("SUBMIT"), Self.b(" {\"id\":\"1\"}")]).get()
        #expect(env.command == .submit)
    }

    @Test(arguments: [
        ([b("MUSTER/1"), b("SUBMIT")], ErrorCode.badFrame),
        ([b("MUSTER/1"), b("SUBMIT"), b("{}"), b("{}")], .badFrame),
        ([b("MUSTER/2"), b("SUBMIT"), b("{}")], .badVersion),
        ([b("MUSTER/1"), b("SUBMITX"), b("{}")], .unknownCommand),
        ([b("MUSTER/1"), b("submit"), b("{}")], .unknownCommand),
        ([b("MUSTER/1"), b("DISPATCH"), b("{}")], .unknownCommand),
        ([b("MUSTER/1"), b("SUBMIT"), b("[1]")], .badJSON),
        ([b("MUSTER/1"), b("SUBMIT"), b("")], .badJSON),
        ([b("MUSTER/1"), b("SUBMIT"), [0x7B, 0xFF, 0x7D]], .badJSON),
    ])
    func malformedMessagesGetTheirCode(_ frames: [[UInt8]], _ code: ErrorCode) {
        guard case .failure(let e) = Envelope.parse(frames) else { Issue.record("parsed"); return }
        #expect(e.code == code)
    }

    @Test func overOneMebibyteIsTooLarge() {
        let frames = [Self.v, Self.b("SUBMIT"), [UInt8](repeating: 0x20, count: (1 << 20) + 1)]
        guard case .failure(let e) = Envelope.parse(frames) else { Issue.record("parsed"); return }
        #expect(e.code == .tooLarge)
    }
}

@Suite struct BodyDecoderTests {
    static let goodCase = #"{"source":"hotline_12345","external_ref":"r1","title":"t","location":{"grid":"zz"}}"#

    func submit(_ body: String) -> Result<Submit, WireError> { BodyDecoder.decode(Submit.self, from: Array(body.utf8)) }

    @Test func aGoodSubmitDecodes() throws {
        let s = try submit(#"{"id":"s1","case":\#(Self.goodCase)}"#).get()
        #expect(s.case.source == .hotline12345 && s.case.location.grid == "zz")
    }

    @Test(arguments: [
        (#"{"case":GOOD}"#, "id"),
        (#"{"id":"s","case":{"source":"hotline_12345","external_ref":"r","location":{}}}"#, "case.title"),
        (#"{"id":"s","case":{"source":"fax","external_ref":"r","title":"t","location":{}}}"#, "case.source"),
        (#"{"id":"s","case":{"source":"camera","external_ref":"r","title":5,"location":{}}}"#, "case.title"),
        (#"{"id":"s","case":{"source":"camera","external_ref":"r","title":"t","location":{"lat":"x"}}}"#, "case.location.lat"),
        (#"{"id":"s","case":{"source":"camera","external_ref":"r","title":"t","location":{"lat":91}}}"#, "case.location.lat"),
        (#"{"id":"s","case":{"source":"camera","external_ref":"r","title":"t","location":{},"reported_at":"yesterday"}}"#, "case.reported_at"),
        (#"{"id":"s","case":{"source":"camera","external_ref":"r","title":"t","location":{},"attachments":[{"sha256":"x"}]}}"#, "case.attachments[0].url"),
        (#"{"id":"s","case":{"source":"camera","external_ref":"","title":"t","location":{}}}"#, "case.external_ref"),
        (#"{"id":"0123456789012345678901234567890123456789012345678901234567890123456789","case":GOOD}"#, "id"),
        (#"{"id":"","case":GOOD}"#, "id"),
        (#"{"id":null,"case":GOOD}"#, "id"),
        (#"{"id":"a\u0007b","case":GOOD}"#, "id"),
        (#"{"id":"s","case":{"source":"camera","external_ref":"r","title":"a\u0000b","location":{}}}"#, "case.title"),
        (#"{"id":"s","case":{"source":"camera","external_ref":"r","title":"t","description":"\u0000","location":{}}}"#, "case.description"),
        (#"{"id":"s","case":{"source":"camera","external_ref":"r","title":"t","location":{"address":"LONG500"}}}"#, "case.location.address"),
        (#"{"id":"s","case":{"source":"camera","external_ref":"r","title":"t","location":{},"reporter":{"phone":"138; rm -rf /"}}}"#, "case.reporter.phone"),
        (#"{"id":"s","case":{"source":"camera","external_ref":"r","title":"t","location":{},"reporter":{"name":"LONG500"}}}"#, "case.reporter.name"),
        (#"{"id":"s","case":{"source":"camera","external_ref":"r","title":"t","location":{},"attachments":[{"url":"file:///etc/passwd"}]}}"#, "case.attachments[0].url"),
        (#"{"id":"s","case":{"source":"camera","external_ref":"r","title":"t","location":{},"attachments":[{"url":"https://a/b","sha256":"' OR 1=1"}]}}"#, "case.attachments[0].sha256"),
    ])
    func badFieldsAreNamed(_ body: String, _ field: String) {
        let r = submit(body.replacingOccurrences(of: "GOOD", with: Self.goodCase).replacingOccurrences(of: "LONG500", with: String(repeating: "路", count: 200)))
        guard case .failure(let e) = r else { Issue.record("decoded \(body)"); return }
        #expect(e.code == .badField)
        #expect(e.field == field, "\(e)")
    }

    @Test(arguments: [
        (Command.ack, #"{"id":"a","dispatch_id":"D1","handler":"LONG"}"#, "handler"),
        (.ack, #"{"id":"a","dispatch_id":"D1","note":"NOTE"}"#, "note"),
        (.progress, #"{"id":"a","dispatch_id":"D1","attachments":[{"url":"ftp://x"}]}"#, "attachments[0].url"),
        (.resolve, #"{"id":"a","dispatch_id":"D1","result":"NOTE"}"#, "result"),
        (.return, #"{"id":"a","dispatch_id":"D1","reason":"duplicate","note":"a\u0000"}"#, "note"),
        (.extend, #"{"id":"a","dispatch_id":"D1","by":"2d","reason":""}"#, "reason"),
        (.reject, #"{"id":"a","case_id":"C1","reason":"NOTE"}"#, "reason"),
        (.verify, #"{"id":"a","case_id":"C1","passed":true,"note":"NOTE"}"#, "note"),
        (.evaluate, #"{"id":"a","case_id":"C1","satisfaction":"satisfied","note":"NOTE"}"#, "note"),
        (.assign, #"{"id":"a","case_id":"C1","lead":"chengguan","note":"NOTE"}"#, "note"),
    ])
    func everyTextFieldIsBounded(_ command: Command, _ body: String, _ field: String) throws {
        let text = body.replacingOccurrences(of: "LONG", with: String(repeating: "x", count: 201))
            .replacingOccurrences(of: "NOTE", with: String(repeating: "记", count: 7000))
        let bytes = Array(text.utf8)
        let e: WireError? = switch command {
        case .ack: BodyDecoder.decode(Ack.self, from: bytes).failure
        case .progress: BodyDecoder.decode(ProgressUpdate.self, from: bytes).failure
        case .resolve: BodyDecoder.decode(Resolve.self, from: bytes).failure
        case .return: BodyDecoder.decode(Return.self, from: bytes).failure
        case .extend: BodyDecoder.decode(Extend.self, from: bytes).failure
        case .reject: BodyDecoder.decode(Reject.self, from: bytes).failure
        case .verify: BodyDecoder.decode(Verify.self, from: bytes).failure
        case .evaluate: BodyDecoder.decode(Evaluate.self, from: bytes).failure
        case .assign: BodyDecoder.decode(Assign.self, from: bytes).failure
        default: nil
        }
        let error = try #require(e, "\(command) \(field) was accepted")
        #expect(error.code == .badField && error.field == field, "\(error)")
    }

    @Test func notJSONIsBadJSON() {
        guard case .failure(let e) = submit(#"{"id":"s1","case":"#) else { Issue.record("decoded"); return }
        #expect(e.code == .badJSON)
    }

    @Test func theRequestIDIsFoundEvenInABadBody() {
        #expect(BodyDecoder.requestID(in: Array(#"{"id":"x-1","case":5}"#.utf8)) == "x-1")
    }
}

@Suite struct JSONTests {
    @Test func theWriterEscapesWhatJSONRequires() throws {
        var w = JSONWriter()
        let nasty = "引号\"反斜杠\\换行\n制表\t控制\u{01}'; DROP TABLE cases; --"
        w.field("s", nasty)
        w.field("n", 42)
        w.field("b", true)
        w.field("list", ["a", "\"b\""])
        w.field("absent", nil as String?)
        let obj = try JSONSerialization.jsonObject(with: Data(w.finish())) as! [String: Any]
        #expect(obj["s"] as? String == nasty)
        #expect(obj["n"] as? Int == 42)
        #expect(obj["list"] as? [String] == ["a", "\"b\""])
        #expect(obj["absent"] == nil)
    }

    /// Literal keys are copied as written; a key made at run time (a plugin's configured name)
    /// is escaped like a value; integers are written digit by digit, both signs.
    @Test func keysMadeAtRunTimeAreEscapedAndIntegersWrittenExactly() throws {
        var w = JSONWriter()
        let name = "字段\"名\\\n"
        w.field(JSONWriter.Key(name), "v")
        w.field("已知", 1)
        for (i, n) in [Int64.min, -1, 0, 7, 10, Int64.max].enumerated() { w.field(JSONWriter.Key("i\(i)"), n) }
        let bytes = w.finish()
        let obj = try JSONSerialization.jsonObject(with: Data(bytes)) as! [String: Any]
        #expect(obj[name] as? String == "v" && obj["已知"] as? Int == 1)
        #expect(String(decoding: bytes, as: UTF8.self).hasSuffix(#""i0":-9223372036854775808,"i1":-1,"i2":0,"i3":7,"i4":10,"i5":9223372036854775807}"#))
    }

    /// A literal key and its integer are written at once: the same bytes, first field or not,
    /// inside nested objects and arrays of objects.
    @Test func literalKeysAndIntegersAreWrittenExactly() {
        var w = JSONWriter()
        w.field("min", Int64.min); w.field("m1", -1); w.field("zero", 0); w.field("nine", 9); w.field("ten", 10)
        w.field("max", Int64.max); w.field("s", "x"); w.field("e", ""); w.field("q", "a\"b")
        w.object("o") { $0.field("a", 1); $0.field("b", "2") }
        w.objects("l", count: 2) { i, o in o.field("i", i); o.field("", Int64(-i)) }
        let long = String(repeating: "长", count: 100)  // 300 bytes: written the long way
        var l = JSONWriter(); l.field("long", long); l.field("n", 1)
        #expect(String(decoding: l.finish(), as: UTF8.self) == "{\"long\":\"\(long)\",\"n\":1}")
        #expect(String(decoding: w.finish(), as: UTF8.self) == #"{"min":-9223372036854775808,"m1":-1,"zero":0,"nine":9,"ten":10,"max":9223372036854775807,"s":"x","e":"","q":"a\"b","o":{"a":1,"b":"2"},"l":[{"i":0,"":0},{"i":1,"":-1}]}"#)
    }

    @Test func aMembersBytesAreFoundPastTrickyStrings() {
        let body = Array(#"{"id":"x\"}{","nested":{"case":1},"case" : {"title":"a}b\\","k":[1,{"x":"]"}]} ,"z":2}"#.utf8)
        let span = JSONSpan.value(of: "case", in: body).map { String(decoding: $0, as: UTF8.self) }
        #expect(span == #"{"title":"a}b\\","k":[1,{"x":"]"}]}"#)
        #expect(JSONSpan.value(of: "z", in: body).map { String(decoding: $0, as: UTF8.self) } == "2")
        #expect(JSONSpan.value(of: "missing", in: body) == nil)
    }
}

@Suite struct PersonalDataTests {
    @Test func phonesAndNamesAreMasked() {
        #expect(PersonalData.maskPhone("13812345678") == "138****5678")
        #expect(PersonalData.maskPhone("110") == "*10")
        #expect(PersonalData.maskName("李四") == "李*")
        #expect(PersonalData.maskName("欧阳娜娜") == "欧***")
    }

    static let submitted = Array(#"{"title":"t","reporter":{"name":"李四","phone":"13812345678","anonymous":false},"location":{"grid":"zz"}}"#.utf8)

    func reporter(_ bytes: [UInt8]) -> [String: Any] {
        ((try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any])?["reporter"] as? [String: Any] ?? [:]
    }

    @Test func anAgencyThatDoesNotCallReportersSeesThemMasked() {
        let shown = PersonalData.reporterShown(in: Self.submitted, reveal: false)
        #expect(reporter(shown)["phone"] as? String == "138****5678" && reporter(shown)["name"] as? String == "李*")
        #expect(!String(decoding: shown, as: UTF8.self).contains("13812345678"))
        #expect(String(decoding: shown, as: UTF8.self).hasSuffix(#""location":{"grid":"zz"}}"#), "the rest passes through")
        #expect(PersonalData.reporterShown(in: Self.submitted, reveal: true) == Self.submitted)
    }

    @Test func anonymousReportsRevealNothingToAnyone() {
        let anon = Array(#"{"reporter":{"name":"王五","phone":"13900000000","anonymous":true}}"#.utf8)
        for reveal in [true, false] {
            let shown = String(decoding: PersonalData.reporterShown(in: anon, reveal: reveal), as: UTF8.self)
            #expect(shown == #"{"reporter":{"anonymous":true}}"#)
        }
    }
}

extension Result {
    var failure: Failure? { if case .failure(let e) = self { e } else { nil } }
}

/// SUBMIT and RECEIVED read straight from the tree give what Codable gives, or nothing (and then
/// Codable decides, with its precise error): bodies of every shape, each member present or not,
/// of the right type or another, null, repeated.
@Suite struct PlainDecodingTests {
    /// A small deterministic generator (xorshift), so that a failure names its body.
    struct Dice { var s: UInt64; mutating func roll(_ n: Int) -> Int { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return Int(s % UInt64(n)) } }

    static func value(_ d: inout Dice, _ good: [String]) -> String? {
        switch d.roll(16) {
        case 0: nil
        case 1: "null"
        case 2: ["1", "true", "[]", "{}", "1e400", "-0.5"][d.roll(6)]
        default: good[d.roll(good.count)]
        }
    }

    static func object(_ d: inout Dice, _ members: [(String, [String])]) -> String {
        var parts: [String] = []
        for (key, good) in members { if let v = value(&d, good) { parts.append("\"\(key)\":\(v)") } }
        if d.roll(10) == 0 { let (key, good) = members[d.roll(members.count)]; parts.append("\"\(key)\":\(good[0])") }
        if d.roll(6) == 0 { parts.append(#""extra":{"x":[1,2]}"#) }
        return "{" + parts.joined(separator: ",") + "}"
    }

    /// Reads `body` both ways, counting each that reads it: a plain read must be Codable's, member for member.
    static func readBothWays<R: Decodable & PlainDecodable>(_ type: R.Type, _ body: String, _ counts: inout (plain: Int, codable: Int)) throws {
        let tree = try JSONTree.parse(Array(body.utf8))
        let byCodable = try? R(from: TreeDecoder(tree: tree, codingPath: []))
        if let read = R(plain: tree) {
            counts.plain += 1
            #expect(byCodable.map { "\($0)" } == "\(read)", "\(body)")
        }
        if byCodable != nil { counts.codable += 1 }
    }

    @Test func aSubmitReadPlainlyIsWhatCodableReads() throws {
        var d = Dice(s: 0x9E37_79B9_7F4A_7C15)
        var counts = (plain: 0, codable: 0)
        for _ in 0..<6000 {
            let location = Self.object(&d, [("grid", [#""zz/erqi/jiefanglu""#, #""""#]), ("address", [#""解放路3号""#, #""a\"b""#]),
                                            ("lat", ["34.75", "35", "1e2", "-91"]), ("lon", ["113.6", "0"])])
            let reporter = Self.object(&d, [("name", [#""张三""#]), ("phone", [#""13812345678""#]), ("id_number", [#""41010219900101123X""#]),
                                            ("anonymous", ["true", "false"])])
            let kase = Self.object(&d, [("source", [#""hotline_12345""#, #""petition""#, #""sensor""#, #""fax""#]),
                                        ("external_ref", [#""r-1""#, #""""#]), ("category", [#""heating_not_warm""#]),
                                        ("title", [#""暖气不热""#]), ("description", [#""x\ny""#]),
                                        ("priority", [#""urgent""#, #""normal""#, #""later""#]), ("location", [location]),
                                        ("reporter", [reporter]), ("reported_at", [#""2026-12-03T10:00:00+08:00""#]),
                                        ("attachments", [#"[{"url":"https://a/b","sha256":"ab"}]"#, #"[{"sha256":"ab"}]"#]),
                                        ("petition", [#"{"about":["gongan"]}"#, #"{"about":[1]}"#])])
            try Self.readBothWays(Submit.self, Self.object(&d, [("id", [#""s1""#, #""""#]), ("case", [kase])]), &counts)
        }
        // Every body Codable reads here is read plainly too (a few in a hundred: the rest have a wrong member).
        #expect(counts.plain > 100 && counts.plain == counts.codable, "\(counts)")
        // The harness's body, the common shape, is read plainly.
        let harness = #"{"id":"s7","case":{"source":"hotline_12345","external_ref":"a-7-1","category":"heating_not_warm","title":"暖气不热","location":{"grid":"zz/erqi/jiefanglu","address":"解放路7号"}}}"#
        #expect(Submit(plain: try JSONTree.parse(Array(harness.utf8)))?.case.location.address == "解放路7号")
    }

    /// The four acts of every lifecycle, read plainly, are what Codable reads, member for member.
    @Test func theLifecycleActsReadPlainlyAreWhatCodableReads() throws {
        var d = Dice(s: 0x2545_F491_4F6C_DD1D)
        let id = [#""a1""#, #""""#], dispatch = [#""D-1""#], kase = [#""C-1""#], note = [#""现场已处理""#, #""a\"b""#]
        let downstream = [#"{"status":"已签收","ref":"GD-1"}"#, #"{"ref":"GD-1"}"#, #"{"status":7}"#]
        let attachments = [#"[{"url":"https://a/b","sha256":"ab"}]"#, #"[{"sha256":"ab"}]"#, "[]"]
        func check<R: Request & PlainDecodable>(_ type: R.Type, _ members: [(String, [String])]) throws -> (plain: Int, codable: Int) {
            var counts = (plain: 0, codable: 0)
            for _ in 0..<3000 { try Self.readBothWays(R.self, Self.object(&d, members), &counts) }
            return counts
        }
        let counts = [
            try check(Ack.self, [("id", id), ("dispatch_id", dispatch), ("handler", [#""李四""#]), ("note", note), ("downstream", downstream)]),
            try check(Resolve.self, [("id", id), ("dispatch_id", dispatch), ("result", [#""已修复""#]), ("note", note),
                                     ("attachments", attachments), ("downstream", downstream)]),
            try check(Verify.self, [("id", id), ("case_id", kase), ("passed", ["true", "false"]), ("note", note)]),
            try check(Evaluate.self, [("id", id), ("case_id", kase), ("satisfaction", [#""satisfied""#, #""dissatisfied""#, #""happy""#]),
                                      ("note", note)]),
        ]
        for (plain, codable) in counts { #expect(plain > 100 && plain == codable, "plain \(plain), codable \(codable)") }
        // A wrong member still gets Codable's precise error.
        #expect(BodyDecoder.decode(Verify.self, from: Array(#"{"id":"v1","case_id":"C-1","passed":"yes"}"#.utf8)).failure?.message
                == "passed has the wrong type; expected a boolean")
    }

    @Test func aReceivedReadPlainlyIsWhatCodableReads() throws {
        for body in [#"{"deliveries":["d1","d2"]}"#, #"{"deliveries":[]}"#, #"{"deliveries":["d1",2]}"#, #"{"deliveries":null}"#,
                     #"{}"#, #"[]"#, #"{"deliveries":"d1"}"#, #"{"deliveries":["a"],"deliveries":["b"]}"#] {
            let tree = try JSONTree.parse(Array(body.utf8))
            let byCodable = try? Received(from: TreeDecoder(tree: tree, codingPath: []))
            #expect(Received(plain: tree)?.deliveries == byCodable?.deliveries, "\(body)")
        }
        #expect(BodyDecoder.decodePlain(Received.self, from: Array(#"{"deliveries":["d1",2]}"#.utf8)).failure?.message
                == "deliveries[1] has the wrong type; expected a string")
    }
}
