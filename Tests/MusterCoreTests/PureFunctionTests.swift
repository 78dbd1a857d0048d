import Foundation
import Testing
import MusterWire
@testable import MusterCore

@Suite struct PureFunctionTests {
    @Test func timestampsAreChinaStandardTimeToTheMillisecond() {
        #expect(Timestamp.format(Date(ms: 0)) == "1970-01-01T08:00:00+08:00")
        #expect(Timestamp.format(Date(ms: 1_782_525_600_000)) == "2026-06-27T10:00:00+08:00")
        #expect(Timestamp.format(Date(ms: 1_782_525_600_123)) == "2026-06-27T10:00:00.123+08:00")
        #expect(Timestamp.format(Date(ms: -1000)) == "1970-01-01T07:59:59+08:00")
        #expect(Timestamp.parse("2026-06-27T10:00:00+08:00") == Date(ms: 1_782_525_600_000))
        #expect(Timestamp.parse("2026-06-27T02:00:00Z") == Date(ms: 1_782_525_600_000))
    }

    @Test func everyFormattedDayParsesBack() {
        var ms: Int64 = 946_684_800_000  // 2000-01-01
        while ms < 4_102_444_800_000 {  // 2100
            #expect(Timestamp.parse(Timestamp.format(Date(ms: ms))) == Date(ms: ms))
            ms += 86_400_000 * 13 + 3_601_000
        }
    }

    @Test func periodsParseTheProtocolUnits() {
        #expect(Period("30s") == Period(30, .s))
        #expect(Period("15m")?.seconds == 900)
        #expect(Period("2h")?.seconds == 7200)
        #expect(Period("60d")?.seconds == 5_184_000)
        #expect(Period("5wd")?.seconds == nil)
        #expect(Period("4wh")?.unit == .wh)
        for bad in ["", "m", "1.5h", "-1h", "3y", "h2"] { #expect(Period(bad) == nil, "\(bad)") }
    }

    @Test func gridPrefixesRespectSegments() {
        #expect(GridMap.isPrefix("zz/erqi", of: "zz/erqi/jiefanglu"))
        #expect(GridMap.isPrefix("zz/erqi", of: "zz/erqi"))
        #expect(!GridMap.isPrefix("zz/erqi", of: "zz/erqi2/x"))
        #expect(GridMap.isPrefix("", of: "zz") && !GridMap.isPrefix("zz/erqi/x", of: "zz/erqi") && GridMap.isPrefix("郑州/二七", of: "郑州/二七/解放路"))
        #expect(Fixtures.grids.covers("erqita", "zz/jinshui/renminlu/c01"))
        #expect(!Fixtures.grids.covers("erqita", "zz/jinshui"))
        #expect(Fixtures.grids.displayName("zz/erqi/jiefanglu") == "郑州市 / 二七区 / 解放路街道")
    }

    @Test func idsAreTimeOrderedAndSortable() {
        var ids = IDSource()
        let a = ids.nextCase(), b = ids.nextCase()
        #expect(a == "C0000000001" && b == "C0000000002" && a < b)
        ids.observe(caseID: "C0000000100")
        #expect(ids.nextCase() == "C0000000101")
    }
}
