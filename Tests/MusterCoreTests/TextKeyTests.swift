import Foundation
import PropertyBased
import Testing
@testable import MusterCore

/// The ledger's text keys match as the store's columns do: by their bytes, not by Unicode
/// canonical equivalence; and their kept hash never separates two equal keys.
struct TextKeyTests {
    /// Pieces, among them canonically equivalent spellings in other bytes (豈 and its compatibility
    /// ideograph, é composed and decomposed), an ideographic space and the key's separator.
    static let pieces = ["\u{8C48}", "\u{F900}", "é", "e\u{301}", "\u{3000}", "路", "1", "-", "\u{1F}", ""]

    @Test func keysAreEqualExactlyWhenTheirBytesAre() async {
        let text = Gen.int(in: 0..<Self.pieces.count).array(of: 0...5).map { $0.map { Self.pieces[$0] }.joined() }
        await propertyCheck(count: 500, input: text, text) { a, b in
            let (x, y) = (TextKey(a), TextKey(b))
            #expect((x == y) == (Array(a.utf8) == Array(b.utf8)))
            if x == y { #expect(x.hashValue == y.hashValue) }
            let table = [x: 1]
            #expect((table[TextKey(b)] != nil) == (Array(a.utf8) == Array(b.utf8)))
        }
    }

    @Test func aKeyMadeAgainFromTheSameTextFindsItsEntry() {
        func key(_ i: Int) -> TextKey { TextKey("hotline_12345\u{1F}解放路\(i)号") }
        var table: [TextKey: Int] = [:]
        for i in 0..<1_000 { table[key(i)] = i }
        let missed = (0..<1_000).filter { (i: Int) in table[key(i)] != i }
        #expect(missed.isEmpty)
        #expect(table[key(1_000)] == nil)
    }
}
