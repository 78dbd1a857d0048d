@testable import MusterBroker
import Testing

/// Which open cases leave memory first when the broker holds more than its bound.
@Suite struct HeldCasesTests {
    @Test func theLongestUntouchedLeaveFirstAndBusyOnesStay() {
        var held = HeldCases()
        for id in ["C1", "C2", "C3", "C4"] { held.touch(id) }
        held.touch("C1")      // changed again: now the newest
        held.forget("C3")     // finished, already gone
        #expect(held.takeOldest(2, except: { $0 == "C2" }) == ["C4", "C1"], "C2 is in a batch in flight; C3 is gone")
        #expect(held.takeOldest(5, except: { _ in false }) == [], "the busy one is touched again when its batch is durable, not before")
        held.touch("C2")
        #expect(held.takeOldest(5, except: { _ in false }) == ["C2"])
    }

    @Test func aCaseTouchedOverAndOverIsTakenOnceInItsPlace() {
        var held = HeldCases()
        held.touch("C1")
        for _ in 0..<5_000 { held.touch("C2") }   // stale entries dropped along the way
        held.touch("C3")
        #expect(held.takeOldest(10, except: { _ in false }) == ["C1", "C2", "C3"])
    }
}
