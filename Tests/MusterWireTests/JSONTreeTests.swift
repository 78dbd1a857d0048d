import Foundation
import PropertyBased
import Testing
@testable import MusterWire

/// The one-pass reader the broker decodes requests with: it takes exactly what JSON is, gives
/// each value's bytes, and decodes to what JSONDecoder gives, with the same errors.
@Suite struct JSONTreeTests {
    static func parses(_ s: String) -> Bool { (try? JSONTree.parse(Array(s.utf8))) != nil }
    static func foundationParses(_ s: String) -> Bool {
        (try? JSONSerialization.jsonObject(with: Data(s.utf8), options: [.fragmentsAllowed])) != nil
    }

    @Test(arguments: [
        #"{}"#, #"[]"#, #" { "a" : [ 1 , -2.5e+3 , true , false , null , "x" ] } "#, #""\u00e9\ud83d\ude00\n\t\/\\\"""#,
        #"0"#, #"-0.0e-0"#, #"1E9"#, #"{"a":{"b":{"c":[[[]]]}}}"#, "\"中文\"",
        #"01"#, #"1."#, #".5"#, #"-"#, #"1e"#, #"+1"#, #"{"a":1,}"#, #"[1,]"#, #"{,}"#, #"[,]"#, #"[1,,]"#, #"{"a" 1}"#, #"{a:1}"#, #"'x'"#,
        #"tru"#, #"nul"#, #"{"a":1}x"#, #"["#, #"{"#, #""abc"#, "\"\u{01}\"", #""\x""#, #""\u12G4""#, "",
    ])
    func acceptsExactlyWhatJSONIs(_ text: String) {
        #expect(Self.parses(text) == Self.foundationParses(text), "\(text)")
    }

    @Test func refusesWhatIsNotText() {
        #expect(!Self.parses(#""\ud800""#), "a lone high surrogate")
        #expect(!Self.parses(#""\udc00x""#), "a lone low surrogate")
        #expect((try? JSONTree.parse([0x22, 0xFF, 0x22])) == nil, "invalid UTF-8 in a string")
        // What decoding would repair into as many bytes (a truncated four-byte sequence becomes one
        // U+FFFD, three bytes) is refused all the same; overlong forms and surrogates too.
        for bad: [UInt8] in [[0xF0, 0x9F, 0x98], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xE6, 0x9A], [0x80], [0x61, 0xF8, 0x88, 0x80, 0x80, 0x80]] {
            #expect((try? JSONTree.parse([0x22] + bad + [0x22])) == nil, "\(bad)")
            #expect((try? JSONTree.parse([0x22, 0x5C, 0x6E] + bad + [0x22])) == nil, "after an escape: \(bad)")
        }
        guard case .string(let s)? = (try? JSONTree.parse(Array("\"暖气\\n不热😀\"".utf8)))?.value else { Issue.record("valid UTF-8 refused"); return }
        #expect(s == "暖气\n不热😀")
        let deep = String(repeating: "[", count: 600) + String(repeating: "]", count: 600)
        #expect(!Self.parses(deep), "nesting past 512")
    }

    @Test func everyValueKnowsItsBytes() throws {
        let body = Array(#"{"id":"s1", "case" : {"title":"a}b\\","k":[1,{"x":"]"}]} ,"z":2}"#.utf8)
        let tree = try JSONTree.parse(body)
        let c = try #require(tree["case"])
        #expect(String(decoding: body[c.range], as: UTF8.self) == #"{"title":"a}b\\","k":[1,{"x":"]"}]}"#)
        #expect(String(decoding: body[try #require(tree["z"]).range], as: UTF8.self) == "2")
        guard case .string(let title)? = c["title"]?.value else { Issue.record("no title"); return }
        #expect(title == #"a}b\"#)
        #expect(tree["missing"] == nil)
    }

    /// Random documents written by JSONSerialization read back as the same values.
    @Test func randomDocumentsReadBackAsWritten() throws {
        var rng = Xoshiro(seed: (20261202, 0x9E37_79B9_7F4A_7C15, 1, 2))  // seeded: a failure runs again
        for _ in 0..<300 {
            let doc = Self.randomObject(&rng, depth: 0)
            let data = try JSONSerialization.data(withJSONObject: doc)
            let tree = try JSONTree.parse(Array(data))
            #expect(NSDictionary(dictionary: doc).isEqual(Self.any(tree)), "\(String(decoding: data, as: UTF8.self))")
        }
    }

    /// The requests decode to what JSONDecoder makes of them, and fail the same way.
    @Test func decodesAsJSONDecoderDoes() throws {
        let bodies = [
            #"{"id":"s1","case":{"source":"hotline_12345","external_ref":"r1","title":"井盖丢了","location":{"grid":"zz","lat":34.75,"lon":113.6},"reporter":{"name":"李四","phone":"138","anonymous":false},"attachments":[{"url":"https://x/1.jpg"}]}}"#,
            #"{"id":"s1","case":{"source":"hotline_12345","external_ref":"r1","title":"t","location":{"grid":"zz"},"priority":null}}"#,
            #"{"id":"s1","case":{"source":"hotline_12345","external_ref":"r1","title":5,"location":{}}}"#,
            #"{"id":"s1","case":{"source":"nowhere","external_ref":"r1","title":"t","location":{}}}"#,
            #"{"id":"s1","case":{"source":"hotline_12345","title":"t","location":{}}}"#,
            #"{"id":"s1","case":{"source":"hotline_12345","external_ref":"r1","title":"t","location":{"lat":"north"}}}"#,
            #"{"id":"s1","case":{"source":"hotline_12345","external_ref":"r1","title":"t","location":{},"attachments":[{"url":1}]}}"#,
            #"{"id":"s1","case":null}"#,
        ]
        for body in bodies {
            let ours = BodyDecoder.decode(Submit.self, from: Array(body.utf8))
            let theirs: Result<Submit, WireError>
            do { theirs = .success(try JSONDecoder().decode(Submit.self, from: Data(body.utf8))) } catch let e as DecodingError {
                theirs = .failure(BodyDecoder.wireError(e))
            }
            switch (ours, theirs) {
            case (.success(let a), .success(let b)):
                #expect(a.case.title == b.case.title && a.case.location == b.case.location && a.case.reporter == b.case.reporter
                        && a.case.attachments == b.case.attachments && a.case.priority == b.case.priority, "\(body)")
            case (.failure(let a), .failure(let b)):
                #expect(a.field == b.field && a.code == b.code && a.message == b.message, "\(body): \(a) vs \(b)")
            default:
                Issue.record("\(body): ours \(ours), JSONDecoder's \(theirs)")
            }
        }
    }

    static func any(_ t: JSONTree) -> Any {
        switch t.value {
        case .object(let members): Dictionary(members.map { ($0.key, any($0.value)) }, uniquingKeysWith: { _, b in b }) as NSDictionary
        case .array(let items): items.map(any) as NSArray
        case .string(let s): s
        case .number(let n): (Int(n).map { NSNumber(value: $0) } ?? NSNumber(value: Double(n)!))
        case .bool(let b): NSNumber(value: b)
        case .null: NSNull()
        }
    }

    static func randomObject(_ rng: inout Xoshiro, depth: Int) -> [String: Any] {
        var o: [String: Any] = [:]
        for i in 0..<Int(rng.next() % 5) { o["k\(i)\(Self.randomString(&rng))"] = randomValue(&rng, depth: depth + 1) }
        return o
    }

    static func randomValue(_ rng: inout Xoshiro, depth: Int) -> Any {
        switch rng.next() % (depth > 4 ? 4 : 6) {
        case 0: return randomString(&rng)
        case 1: return Int(truncatingIfNeeded: rng.next() % 2_000_000) - 1_000_000
        case 2: return rng.next() % 2 == 0
        case 3: return NSNull()
        case 4: return (0..<Int(rng.next() % 4)).map { _ in randomValue(&rng, depth: depth + 1) }
        default: return randomObject(&rng, depth: depth)
        }
    }

    static func randomString(_ rng: inout Xoshiro) -> String {
        let alphabet = Array("aZ 9\"\\/\n\t\u{01}中文😀é{}[],:")
        return String((0..<Int(rng.next() % 8)).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] })
    }
}
