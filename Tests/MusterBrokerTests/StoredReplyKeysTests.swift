import PropertyBased
import Testing
@testable import MusterBroker
import MusterStore

/// Which request ids may have a stored reply: never "no" for one that has (a repeat would be
/// applied twice), and "no" for the rest once the store's ids are known.
@Suite struct StoredReplyKeysTests {
    static func key(_ id: String) -> RequestKey { RequestKey(adapter: "hotline-k", requestID: id) }
    /// What a scan of a store holding these ids returns.
    static func scanned(_ ids: String...) -> [UInt32] { StoredReplyKeys.ascending(ids.map { StoredReplyKeys.digest(key($0)) }) }

    @Test func untilTheStoresIDsAreKnownEveryIDMayBeStored() {
        var keys = StoredReplyKeys()
        #expect(keys.mayBeStored(Self.key("never-seen")))
        keys.scanStarted(inFlight: [])
        #expect(keys.isScanning && keys.mayBeStored(Self.key("never-seen")), "a scan under way knows nothing yet")
        _ = keys.scanFinished(Self.scanned("stored"))
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
        _ = keys.scanFinished(Self.scanned("swept", "kept"))
        keys.insert(Self.key("in-flight"))
        keys.scanStarted(inFlight: [Self.key("in-flight")])
        keys.insert(Self.key("during"))
        #expect(keys.mayBeStored(Self.key("swept")), "still held until the scan comes back")
        _ = keys.scanFinished(Self.scanned("kept"))  // the snapshot: "swept" deleted, the others not yet durable
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
        _ = keys.scanFinished(Self.scanned("a"))
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

    /// Past the merge threshold the decided ids move into the sorted digests: all still held,
    /// others not (a 32-bit digest matches by chance ~2 in a million here; 5 allowed).
    @Test func manyDecidedIDsAreAllHeldAfterTheirMerges() {
        var keys = StoredReplyKeys()
        keys.scanStarted(inFlight: [])
        _ = keys.scanFinished(Self.scanned("stored"))
        for i in 0..<10_000 { keys.insert(Self.key("d-\(i)")) }
        #expect((0..<10_000).allSatisfy { keys.mayBeStored(Self.key("d-\($0)")) } && keys.mayBeStored(Self.key("stored")))
        #expect((0..<10_000).filter { keys.mayBeStored(Self.key("other-\($0)")) }.count <= 5)
    }

    /// Any sequence of decisions, commits, failed commits, sweeps and scans (a scan's snapshot
    /// taken when it starts, or later): no id with a stored reply, or in flight, is ever said
    /// to have none.
    @Test func noStoredOrInFlightIDIsEverMissed() async {
        enum Step { case decide(Int), commit, fail, sweep(Int), scanStart, scanSnapshot, scanFinish }
        // One number a step: its kind, and the id it names (a decision) or the sweep's bound.
        func step(_ x: Int) -> Step {
            let n = x / 10
            switch x % 10 {
            case 0...3: return .decide(n)
            case 4: return .commit
            case 5: return .fail
            case 6: return .sweep(n)
            case 7: return .scanStart
            case 8: return .scanSnapshot
            default: return .scanFinish
            }
        }
        await propertyCheck(count: 300, input: Gen.int(in: 0...409).array(of: 1...80)) { numbers in
            let steps = numbers.map(step)
            var keys = StoredReplyKeys()
            var store = Set<Int>(), inFlight = Set<Int>()
            var scan: (started: Bool, snapshot: Set<Int>?) = (false, nil)
            for s in steps {
                switch s {
                case .decide(let n): inFlight.insert(n); keys.insert(Self.key("\(n)"))
                case .commit: store.formUnion(inFlight); inFlight = []
                case .fail: inFlight = []
                case .sweep(let n):
                    store = store.filter { $0 > n }
                    if keys.sweepEnded(), !scan.started { keys.scanStarted(inFlight: inFlight.map { Self.key("\($0)") }); scan = (true, nil) }
                case .scanStart:
                    guard !scan.started else { continue }
                    keys.scanStarted(inFlight: inFlight.map { Self.key("\($0)") }); scan = (true, nil)
                case .scanSnapshot:
                    if scan.started, scan.snapshot == nil { scan.snapshot = store }
                case .scanFinish:
                    guard scan.started else { continue }
                    let snapshot = scan.snapshot ?? store
                    let again = keys.scanFinished(StoredReplyKeys.ascending(snapshot.map { StoredReplyKeys.digest(Self.key("\($0)")) }))
                    scan = (false, nil)
                    if again { keys.scanStarted(inFlight: inFlight.map { Self.key("\($0)") }); scan = (true, nil) }
                }
                let missed = store.union(inFlight).filter { !keys.mayBeStored(Self.key("\($0)")) }
                #expect(missed.isEmpty, "after \(s): \(missed.sorted())")
            }
        }
    }
}
