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
    /// remembered (the copy's, not the original's): each copy's windows are those of a policy
    /// built afresh from its tables.
    @Test func aChangedPolicyCopyLeavesTheOriginalAndForgetsItsRememberedWindows() {
        var original = Fixtures.sla
        // A rule that only a heating season turns on, first: it sets the urgent case's ack.
        original.rules.insert(SLAPolicy.Rule(name: "heating", season: .heating, windows: [.ack: Period(7, .m)]), at: 0)
        let urgent = SLAPolicy.Subject(category: "c", priority: .urgent, source: .hotline12345, grid: "zz", mode: .normal)
        let day = CivilDay(year: 2026, month: 12, day: 2)
        func fresh(_ p: SLAPolicy) -> SLAPolicy.Windows {
            SLAPolicy(defaults: p.defaults, rules: p.rules, modes: p.modes, heatingSeasons: p.heatingSeasons)
                .windows(for: urgent, on: day).windows
        }
        let before = original.windows(for: urgent, on: day).windows  // remembered now, in the box copies share
        #expect(before[.ack] == Period(15, .m) && before == fresh(original))
        func check<T>(_ path: WritableKeyPath<SLAPolicy, T>, _ change: (inout T) -> Void, windowsChange: Bool) {
            var copy = original
            #expect(copy.sharesTables(with: original))
            change(&copy[keyPath: path])
            #expect(!copy.sharesTables(with: original), "\(path)")
            #expect(copy != original, "\(path)")
            let windows = copy.windows(for: urgent, on: day).windows
            #expect(windows == fresh(copy), "\(path): the windows remembered before the change")
            #expect((windows != before) == windowsChange, "\(path)")
            #expect(original.windows(for: urgent, on: day).windows == before, "\(path)")
        }
        check(\.rules, { $0.removeAll() }, windowsChange: true)
        check(\.defaults, { $0[.triage] = Period(3, .h) }, windowsChange: true)
        check(\.modes, { $0[.normal] = .init(scale: 2) }, windowsChange: true)
        check(\.heatingSeasons, { $0 = [day...day] }, windowsChange: true)
        check(\.ladders, { $0 = [:] }, windowsChange: false)
        check(\.extensions, { $0.autoMaxCount = 3 }, windowsChange: false)
        #expect(original.windows(for: urgent, on: day).windows == fresh(original))
    }
}
