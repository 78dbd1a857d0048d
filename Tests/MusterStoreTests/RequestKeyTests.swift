import Testing
@testable import MusterStore

/// A request key hashes its two strings once, when made: keys made apart from the same strings
/// are one key, keys of other strings are not, however the strings split.
struct RequestKeyTests {
    @Test func keysOfTheSameStringsAreOneKeyAndNoOthersAre() {
        let a = RequestKey(adapter: "hotline-1", requestID: "r-7"), b = RequestKey(adapter: "hotline-" + "1", requestID: "r-" + "7")
        #expect(a == b && a.hashValue == b.hashValue)
        #expect(RequestKey(adapter: "ab", requestID: "c") != RequestKey(adapter: "a", requestID: "bc"))
        #expect(RequestKey(adapter: "hotline-1", requestID: "r-8") != a && RequestKey(adapter: "hotline-2", requestID: "r-7") != a)
        // Deletes move entries along the table by their hashes: what stays is still found.
        var replies: [RequestKey: Int] = [:]
        for i in 0..<2_000 { replies[RequestKey(adapter: "a\(i % 7)", requestID: "r\(i)")] = i }
        for i in stride(from: 0, to: 2_000, by: 2) { replies[RequestKey(adapter: "a\(i % 7)", requestID: "r\(i)")] = nil }
        #expect(replies.count == 1_000)
        #expect((0..<2_000).allSatisfy { i in replies[RequestKey(adapter: "a\(i % 7)", requestID: "r\(i)")] == (i % 2 == 1 ? i : nil) })
        #expect(replies[RequestKey(adapter: "a2", requestID: "r1")] == nil, "the request id under another adapter is another key")
    }
}
