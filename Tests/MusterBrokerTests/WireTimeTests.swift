import Foundation
import Testing
import MusterCore
import MusterWire
@testable import MusterBroker

/// A time written into a message in place is the formatted text, quoted: in and outside years
/// 0…9999 (their edges included), with and without milliseconds, and nothing for nil.
struct WireTimeTests {
    @Test func aTimeWrittenInPlaceIsTheFormattedTextQuoted() {
        let strided = Array(stride(from: Int64(-62_135_596_800_000), to: 253_402_271_999_999, by: 49_999_999_937))
        let edges: [Int64] = [0, -1, 999, 1_782_525_600_123, -62_167_248_000_000, -62_167_248_000_001,
                              253_402_271_999_999, 253_402_272_000_000, -62_200_000_000_000]
        for ms in edges + strided {
            var w = JSONWriter()
            w.field("at", Date(ms: ms))
            w.field("none", nil as Date?)
            #expect(String(decoding: w.finish(), as: UTF8.self) == "{\"at\":\"\(Timestamp.format(Date(ms: ms)))\"}", "\(ms)")
        }
    }
}
