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

    /// The byte-wise formatter writes what the String-appending one wrote, to the millisecond.
    @Test func timestampsAreWrittenAsTheyWereByAppendingStrings() {
        // Year 1 to 9999, by an odd stride that lands on every millisecond digit and time of day.
        let strided = Array(stride(from: Int64(-62_135_596_800_000), to: 253_402_271_999_999, by: 49_999_999_937))
        for ms in [0, -1, -1000, 999, 1_000, 253_402_271_999_999] + strided {
            let date = Date(ms: ms), local = ms + 8 * 3_600_000
            let secs = local.floorDiv(1000), days = secs.floorDiv(86_400)
            let (y, m, d) = CivilDay(ordinal: days).civil
            #expect(Timestamp.format(date) == Timestamp.formatAnyYear(y, m, d, secs.floorMod(86_400), local.floorMod(1000)), "\(ms)")
        }
    }

    /// Years 0 and 9999 are written in four digits; a year past them another way.
    @Test func theFourDigitYearsEndWhereTheCalendarSaysTheyDo() {
        #expect(Timestamp.format(Date(ms: -62_167_248_000_000)) == "0000-01-01T00:00:00+08:00")
        #expect(Timestamp.format(Date(ms: 253_402_271_999_999)) == "9999-12-31T23:59:59.999+08:00")
        #expect(Timestamp.format(Date(ms: 253_402_272_000_000)) == "10000-01-01T00:00:00+08:00")
        #expect(Timestamp.hasFourDigitYear(Date(ms: -62_167_248_000_000)) && !Timestamp.hasFourDigitYear(Date(ms: -62_167_248_000_001)))
        #expect(Timestamp.hasFourDigitYear(Date(ms: 253_402_271_999_999)) && !Timestamp.hasFourDigitYear(Date(ms: 253_402_272_000_000)))
    }

    /// The scalar shortcut trims what the Character-wise definition trims: every string of a
    /// few pieces that include spaces, tabs, 全角 spaces, combining marks and CJK.
    @Test func trimmingLooksAtTheEndsOnlyWhenThereIsNoSpaceThere() {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\u{3000}" }
        func byCharacters(_ s: String) -> String {
            guard let first = s.firstIndex(where: { !isSpace($0) }), let last = s.lastIndex(where: { !isSpace($0) }) else { return "" }
            return String(s[first...last])
        }
        let pieces = ["", " ", "\t", "\u{3000}", "\u{301}", "a", "朝阳路1号", "\n", "e\u{301}"]
        var count = 0
        for a in pieces { for b in pieces { for c in pieces { for d in pieces {
            let s = a + b + c + d
            #expect(s.trimmedSpaces == byCharacters(s), "\(Array(s.unicodeScalars))")
            count += 1
        }}}}
        #expect(count == 6561)
        #expect(" \u{3000}朝阳路1号\t".trimmedSpaces == "朝阳路1号")
        #expect(" \u{301}x".trimmedSpaces == " \u{301}x")  // a space with a mark on it is not a space
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
