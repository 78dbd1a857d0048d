import Foundation
import Testing
import MusterWire

/// `withUTF8Bytes` hands over a string's UTF-8 as it is: small (kept inline), large (on the
/// heap), in other scripts, through NSString, and cut from a longer one.
@Suite struct UTF8BytesTests {
    @Test(arguments: ["", "ack", "D0000000001/milestone.2/0", "解放路12号，小区暖气不热，室温低于18度", "a\u{0}b\"\\\n"])
    func theBytesAreTheStringsUTF8(_ s: String) {
        #expect(s.withUTF8Bytes { Array($0) } == Array(s.utf8))
        let made = NSString(string: s) as String
        #expect(made.withUTF8Bytes { Array($0) } == Array(s.utf8))
        let sliced = String(("x" + s + "y").dropFirst().dropLast())
        #expect(sliced.withUTF8Bytes { Array($0) } == Array(s.utf8))
    }

    @Test func aStringIsWrittenPartByPartAsTheJoinedText() {
        let written = String(capacity: 64) { s in
            s.append("解放路"); s.append(byte: 0x1F); s.append("D1"); s.append(byte: UInt8(ascii: "/"))
            s.append(decimal: 31); s.append(byte: UInt8(ascii: ".")); s.append(decimal: -7); s.append(decimal: 0)
        }
        #expect(written == "解放路\u{1F}D1/31.-70")
        #expect(String(capacity: 0) { _ in } == "")
    }
}
