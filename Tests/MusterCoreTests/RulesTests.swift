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
}
