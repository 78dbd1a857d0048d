import Foundation
import Testing
@testable import MusterCore

/// A rung's id is `owner/clock[.stage]/rung`, byte for byte as the interpolation it replaced.
@Suite struct RungIDTests {
    @Test(arguments: [("D0000000001", ClockKind.ack, nil, 0), ("D0000000001", .milestone, 2, 1), ("C0000000042", .verify, nil, 12),
                      ("W7/S3", .whistle, nil, 9), ("D0000000001", .milestone, 10, 123_456), ("事件-1", .incident, 0, 0),
                      ("D1", .milestone, -7, -12), ("D1", .milestone, Int.min, Int.min), ("D1", .ack, nil, Int.max)] as [(String, ClockKind, Int?, Int)])
    func anIdIsOwnerClockStageAndRung(_ owner: String, _ clock: ClockKind, _ stage: Int?, _ rung: Int) {
        let id = LadderTimer.id(owner: owner, clock: clock, stage: stage, rung: rung)
        #expect(id == "\(owner)/\(clock.rawValue)\(stage.map { ".\($0)" } ?? "")/\(rung)")
        #expect(Array(id.utf8) == Array("\(owner)/\(clock.rawValue)\(stage.map { ".\($0)" } ?? "")/\(rung)".utf8))
    }

    @Test func aLaddersRungsAreNumberedFromZeroUnderTheirOwner() {
        let rules = Fixtures.rules, start = Fixtures.t0
        let rungs = rules.sla.ladder(.ack, caseID: "C1", owner: "D1", agency: "chengguan", start: start,
                                     deadline: start.adding(ms: 3_600_000), calendar: rules.calendar)
        #expect(!rungs.isEmpty)
        #expect(rungs.map(\.id) == rungs.indices.map { "D1/ack/\($0)" })
    }
}
