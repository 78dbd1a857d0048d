import Testing
@testable import MusterBroker
import MusterStore

/// Which request ids may have a stored reply: never "no" for one that has (a repeat would be
/// applied twice), and "no" for the rest once the store's ids are known.
@Suite struct StoredReplyKeysTests {
    static func key(_ id: String) -> RequestKey { RequestKey(adapter: "hotline-k", requestID: id) }

    @Test func untilTheStoresIDsAreKnownEveryIDMayBeStored() {
        var keys = StoredReplyKeys()
        #expect(keys.mayBeStored(Self.key("never-seen")))
        keys.scanStarted(inFlight: [])
        #expect(keys.isScanning && keys.mayBeStored(Self.key("never-seen")), "a scan under way knows nothing yet")
        _ = keys.scanFinished([Self.key("stored").digest])
        #expect(!keys.isScanning && keys.knowsTheStore)
        #expect(keys.mayBeStored(Self.key("stored")) && !keys.mayBeStored(Self.key("never-seen")))
        keys.insert(Self.key("decided"))
        #expect(keys.mayBeStored(Self.key("decided")), "decided after the scan: held")
        #expect(!keys.mayBeStored(RequestKey(adapter: "hotline-other", requestID: "decided")), "an id is its adapter's")
    }

    /// A scan's snapshot misses what was not yet durable when it began: the ids then in flight,
    /// and those decided while it ran, are kept; an id the store no longer holds (swept) goes.
    @Test func aNewScanKeepsWhatItCouldNotSeeAndForgetsWhatTheStoreLost() {
        var keys = StoredReplyKeys()
        keys.scanStarted(inFlight: [])
        _ = keys.scanFinished([Self.key("swept").digest, Self.key("kept").digest])
        keys.insert(Self.key("in-flight"))
        keys.scanStarted(inFlight: [Self.key("in-flight")])
        keys.insert(Self.key("during"))
        #expect(keys.mayBeStored(Self.key("swept")), "still held until the scan comes back")
        _ = keys.scanFinished([Self.key("kept").digest])  // the snapshot: "swept" deleted, the others not yet durable
        #expect(keys.mayBeStored(Self.key("kept")))
        #expect(keys.mayBeStored(Self.key("in-flight")), "in flight when the scan began")
        #expect(keys.mayBeStored(Self.key("during")), "decided while it ran")
        #expect(!keys.mayBeStored(Self.key("swept")), "the store forgot it, and so does memory")
    }

    @Test func aFailedScanKeepsWhatWasKnown() {
        var keys = StoredReplyKeys()
        keys.scanStarted(inFlight: [])
        _ = keys.scanFailed()
        #expect(!keys.isScanning && !keys.knowsTheStore && keys.mayBeStored(Self.key("any")))
        keys.scanStarted(inFlight: [])
        _ = keys.scanFinished([Self.key("a").digest])
        keys.scanStarted(inFlight: [])
        keys.insert(Self.key("b"))
        _ = keys.scanFailed()
        #expect(keys.knowsTheStore && keys.mayBeStored(Self.key("a")) && keys.mayBeStored(Self.key("b")))
        #expect(!keys.mayBeStored(Self.key("c")))
    }

    /// A sweep that ends while a scan runs is followed by another scan once that one is back
    /// (it may have read rows the sweep deleted after); one that ends with none running, at once.
    @Test func aSweepEndingDuringAScanIsFollowedByAnother() {
        var keys = StoredReplyKeys()
        let idle = keys.sweepEnded()
        #expect(idle, "no scan under way: scan now")
        keys.scanStarted(inFlight: [])
        let duringScan = keys.sweepEnded(), afterIt = keys.scanFinished([])
        #expect(!duringScan && afterIt, "one under way: another after it")
        keys.scanStarted(inFlight: [])
        let noSweep = keys.scanFinished([])
        #expect(!noSweep, "no sweep since: no other")
        keys.scanStarted(inFlight: [])
        _ = keys.sweepEnded()
        let afterFailure = keys.scanFailed()
        #expect(afterFailure, "after a failed one too")
    }
}
