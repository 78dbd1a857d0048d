@testable import MusterBroker
import Testing

/// The broker loop's busy time: its wall time less what it left out (waits, its own commits),
/// between two samples.
@Suite struct BusyTimeTests {
    /// A monotonic clock the test moves by hand.
    final class Hand: @unchecked Sendable {
        var nanos: UInt64 = 1_000
    }

    @Test func whatIsLeftOutIsNotCountedAsWork() {
        let hand = Hand()
        var busy = BusyTime(clock: { hand.nanos })
        hand.nanos += 300_000_000                                            // work
        let answer = busy.excluding { hand.nanos += 500_000_000; return 7 }  // a wait
        hand.nanos += 200_000_000                                            // work
        #expect(answer == 7, "the body's result is handed back")
        #expect(busy.takeBusySeconds() == 0.5)
        // Counted afresh from the last sample.
        busy.excluding { hand.nanos += 1_000_000_000 }
        hand.nanos += 250_000_000
        #expect(busy.takeBusySeconds() == 0.25)
        #expect(busy.takeBusySeconds() == 0, "no time passed")
    }

    @Test func anIntervalWithNothingLeftOutIsAllWork() {
        let hand = Hand()
        var busy = BusyTime(clock: { hand.nanos })
        busy.excluding { hand.nanos += 100_000_000 }
        _ = busy.takeBusySeconds()
        hand.nanos += 750_000_000
        #expect(busy.takeBusySeconds() == 0.75, "what was left out before the last sample is not carried over")
    }
}
