import Foundation
import MusterStore
import MusterWire

/// Which request ids may have a reply in the store. Nearly every request id is new, and reading
/// the store to learn that was ~3 % of a lifecycle's instructions; an id this set has never
/// held has no stored reply, so its request is decided without the read.
///
/// It holds 32-bit digests of the keys, sorted (4 bytes a stored reply: a week of a busy
/// city's ids in a few MB; a false match, ~1 in 4,000 at a million ids, only costs the read it
/// would have cost anyway), and the ids decided since in a small set merged into them. It knows
/// the store once a scan of the store's ids has come back; until then every id may be stored.
/// Ids leave only by a newer scan (after the hourly sweep has deleted old replies). A scan reads
/// a snapshot taken after it started, so what it can miss is what was not yet durable then: the
/// ids in flight when it started and those decided since, which are kept and joined to it.
struct StoredReplyKeys {
    /// Ascending, without repeats.
    private var merged: [UInt32] = []
    private var decidedSinceMerge: Set<UInt32> = []
    /// The ids in flight when the scan under way started, and those decided since.
    private var sinceScanStarted: [UInt32]?
    private(set) var knowsTheStore = false
    /// A sweep ended while a scan was under way: the scan may have read rows the sweep deleted
    /// after, so another follows it.
    private var scanAgain = false

    static func digest(_ key: RequestKey) -> UInt32 { UInt32(truncatingIfNeeded: key.digest) }

    var isScanning: Bool { sinceScanStarted != nil }

    func mayBeStored(_ key: RequestKey) -> Bool {
        guard knowsTheStore else { return true }
        let d = Self.digest(key)
        if decidedSinceMerge.contains(d) { return true }
        // A binary search: the list is a few MB, and a set's overhead on top would double it.
        let i = merged.partitioningIndex { $0 >= d }
        return i < merged.count && merged[i] == d
    }

    /// A reply to `key` is about to be stored (it is in a batch decided, not yet durable).
    mutating func insert(_ key: RequestKey) {
        let d = Self.digest(key)
        sinceScanStarted?.append(d)
        guard knowsTheStore else { return }  // the scan's result will hold it
        decidedSinceMerge.insert(d)
        // Merged once it is an eighth of the rest: each digest is moved a few times at most.
        if decidedSinceMerge.count >= max(4_096, merged.count / 8) {
            merged = Self.union(merged, decidedSinceMerge.sorted())
            decidedSinceMerge = []
        }
    }

    /// A scan is starting; `inFlight` are the keys of batches decided and not yet durable.
    mutating func scanStarted(inFlight: some Sequence<RequestKey>) {
        sinceScanStarted = inFlight.map(Self.digest)
    }

    /// The sweep of old replies has deleted what it will: whether to scan now (else a scan
    /// follows the one under way).
    mutating func sweepEnded() -> Bool {
        if isScanning { scanAgain = true }
        return !isScanning
    }

    /// The scan's digests (`StoredReplyKeys.ascending(_:)`): with what it may have missed,
    /// everything the store holds. Returns whether to scan again now.
    mutating func scanFinished(_ scanned: [UInt32]) -> Bool {
        guard let since = sinceScanStarted else { return false }
        merged = Self.union(scanned, Self.ascending(since))
        decidedSinceMerge = []
        knowsTheStore = true
        return endScan()
    }

    /// The scan failed: what was known stays (every key since was inserted into it too).
    /// Returns whether to scan again now.
    mutating func scanFailed() -> Bool { endScan() }

    private mutating func endScan() -> Bool {
        sinceScanStarted = nil
        let again = scanAgain
        scanAgain = false
        return again
    }

    /// Digests ascending, without repeats, as `scanFinished` takes them.
    static func ascending(_ digests: [UInt32]) -> [UInt32] {
        var out: [UInt32] = []
        out.reserveCapacity(digests.count)
        for d in digests.sorted() where out.last != d { out.append(d) }
        return out
    }

    /// Two ascending lists without repeats, merged into one.
    private static func union(_ a: [UInt32], _ b: [UInt32]) -> [UInt32] {
        var out: [UInt32] = []
        out.reserveCapacity(a.count + b.count)
        var i = 0, j = 0
        while i < a.count, j < b.count {
            if a[i] < b[j] {
                out.append(a[i]); i += 1
            } else if b[j] < a[i] {
                out.append(b[j]); j += 1
            } else {
                out.append(a[i]); i += 1; j += 1
            }
        }
        out.append(contentsOf: a[i...])
        out.append(contentsOf: b[j...])
        return out
    }
}

/// A scan's result, handed from its thread to the broker's.
public final class RequestIDScan: @unchecked Sendable {
    private let condition = NSCondition()
    private var result: Result<[UInt32], any Error>?
    private var finished = 0

    func put(_ r: Result<[UInt32], any Error>) {
        condition.lock(); defer { condition.unlock() }
        result = r
        finished += 1
        condition.broadcast()
    }

    func take() -> Result<[UInt32], any Error>? {
        condition.lock(); defer { condition.unlock() }
        return result.take()
    }

    /// Blocks until `count` scans have finished since the broker started, or `timeout` seconds
    /// pass; whether they had (tests).
    public func waitUntilFinished(_ count: Int, timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock(); defer { condition.unlock() }
        while finished < count { if !condition.wait(until: deadline) { return finished >= count } }
        return true
    }
}
