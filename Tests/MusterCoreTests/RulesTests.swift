import Foundation
import Testing
@testable import MusterCore

/// `Rules` keeps its tables in one shared box (a decision's copy is one retain): it must still
/// behave as a value.
@Suite struct RulesTests {
    @Test func aChangedCopyLeavesTheOriginalAsItWas() {
        let original = Fixtures.rules
        var copy = original
        #expect(copy == original)
        copy.threshold = 0.5
        copy.sla.rules = []
        copy.mergeWindow = Period(2, .h)
        #expect(original.threshold == Rules.defaultThreshold)
        #expect(!original.sla.rules.isEmpty)
        #expect(original.mergeWindow == Period(24, .h))
        #expect(copy.threshold == 0.5 && copy.sla.rules.isEmpty && copy.mergeWindow == Period(2, .h))
        #expect(copy != original)
        // Equal tables in two boxes are equal rules; changing a copy of the copy leaves the copy.
        var back = copy
        back.threshold = original.threshold; back.sla = original.sla; back.mergeWindow = original.mergeWindow
        #expect(back == original)
        #expect(copy.threshold == 0.5)
    }

    @Test func aChangeToAnyTableThroughACopyCopiesTheBoxFirst() {
        let original = Fixtures.rules
        func check<T>(_ path: WritableKeyPath<Rules, T>) {
            var copy = original
            #expect(copy.sharesTables(with: original))
            copy[keyPath: path] = original[keyPath: path]
            #expect(!copy.sharesTables(with: original), "\(path)")
            #expect(copy == original)
        }
        check(\.routing); check(\.grids); check(\.sla); check(\.calendar)
        check(\.mergeWindow); check(\.classifier); check(\.threshold)
    }

    /// `SLAPolicy` keeps its tables in one box too: a copy is one retain, a changed copy leaves
    /// the original as it was, and a change to what windows are made of forgets the windows
    /// remembered (the copy's, not the original's).
    @Test func aChangedPolicyCopyLeavesTheOriginalAndForgetsItsRememberedWindows() {
        let original = Fixtures.sla
        let urgent = SLAPolicy.Subject(category: "c", priority: .urgent, source: .hotline12345, grid: "zz", mode: .normal)
        let day = CivilDay(year: 2026, month: 12, day: 2)
        #expect(original.windows(for: urgent, on: day).windows[.ack] == Period(15, .m), "remembered now")
        func check<T>(_ path: WritableKeyPath<SLAPolicy, T>, _ change: (inout T) -> Void, ack: Period?) {
            var copy = original
            #expect(copy.sharesTables(with: original))
            change(&copy[keyPath: path])
            #expect(!copy.sharesTables(with: original), "\(path)")
            #expect(copy != original, "\(path)")
            if let ack { #expect(copy.windows(for: urgent, on: day).windows[.ack] == ack, "\(path): not the remembered window") }
            #expect(original.windows(for: urgent, on: day).windows[.ack] == Period(15, .m), "\(path)")
        }
        check(\.rules, { $0 = [] }, ack: Period(1, .h))
        check(\.defaults, { $0[.triage] = Period(3, .h) }, ack: nil)
        check(\.modes, { $0[.normal] = .init(scale: 2) }, ack: Period(15, .m).scaled(by: 2))
        check(\.heatingSeasons, { $0 = [day...day] }, ack: nil)
        check(\.ladders, { $0 = [:] }, ack: nil)
        check(\.extensions, { $0.autoMaxCount = 3 }, ack: nil)
        #expect(original == Fixtures.sla)
    }
}
