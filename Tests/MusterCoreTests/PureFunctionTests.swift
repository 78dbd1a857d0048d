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

@Suite struct FactEncodingTests {
    static let record = CaseRecord(
        caseID: "C0000000001", source: .camera, externalRef: "cam-\"7\"", category: "street_vending", grid: "zz/erqi",
        priority: .urgent, title: "标题\n第二行", address: nil, state: .triage, round: 0, lead: nil, assists: ["a", "b"],
        assigned: true, returnedBy: [], mergedInto: "C0000000002", mergedReports: 3, acceptedAt: Date(ms: 1), updatedAt: Date(ms: 2),
        resolveBy: nil, satisfaction: .basicallySatisfied)
    static let dispatch = DispatchRecord(
        dispatchID: "D0000000001", caseID: "C0000000001", agency: "reli", role: .assist, round: 2, state: .acked,
        sentAt: Date(ms: 10), ackBy: Date(ms: 11), resolveBy: Date(ms: 12), returnBy: Date(ms: 13), ackedAt: Date(ms: 14), finishedAt: nil, handler: "张")

    static let changes: [Fact.Change] = [
        .accepted(record), .merged(into: "C2"), .reportMerged(from: "C3"), .triage(reason: "no_route"), .consultation,
        .dispatched(dispatch), .assigned(lead: "gongan", assists: [], note: nil), .assigned(lead: "x", assists: ["y"], note: "会商"),
        .rejected(reason: "r"), .acked(dispatchID: "D1", handler: nil, note: "n"), .progressed(dispatchID: "D1", note: nil, attachments: []),
        .resolved(dispatchID: "D1", lead: true, result: "ok", note: nil,
                  attachments: [try! JSONDecoder().decode(MusterWire.Attachment.self, from: Data(#"{"url":"https://oss.example/1.jpg","sha256":"ab"}"#.utf8))]), .returned(dispatchID: "D1", reason: .insufficientInformation, note: nil),
        .cancelled(dispatchID: "D1"), .verified(passed: false, note: "不合格"), .evaluated(.dissatisfied, note: nil), .closed,
    ]

    @Test(arguments: changes)
    func theHandWrittenFormDecodesToTheSameValue(_ change: Fact.Change) throws {
        #expect(try FactCoding.decoder().decode(Fact.Change.self, from: Data(change.json())) == change)
    }
}
