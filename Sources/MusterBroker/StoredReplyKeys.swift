import Foundation
import MusterStore

/// Which request ids may have a reply in the store. Nearly every request id is new, and reading
/// the store to learn that was ~3 % of a lifecycle's instructions; an id this set has never
/// held has no stored reply, so its request is decided without the read.
///
/// It holds the keys' digests (a false match only costs the read it would have cost anyway).
/// It knows the store once a scan of the store's keys has come back; until then every id may
/// be stored. Keys leave only by a newer scan (after the hourly sweep has deleted old
/// replies). A scan reads a snapshot taken after it started, so what it can miss is what was
/// not yet durable then: the keys in flight when it started and those decided since, which
/// are kept beside it and joined to it.
struct StoredReplyKeys {
    private var digests: Set<Int> = []
    /// The keys in flight when the scan under way started, and those decided since.
    private var sinceScanStarted: Set<Int>?
    private(set) var knowsTheStore = false
    /// A sweep ended while a scan was under way: the scan may have read rows the sweep deleted
    /// after, so another follows it.
    private var scanAgain = false

    var isScanning: Bool { sinceScanStarted != nil }

    func mayBeStored(_ key: RequestKey) -> Bool { !knowsTheStore || digests.contains(key.digest) }

    /// A reply to `key` is about to be stored (it is in a batch decided, not yet durable).
    mutating func insert(_ key: RequestKey) {
        digests.insert(key.digest)
        sinceScanStarted?.insert(key.digest)
    }

    /// A scan is starting; `inFlight` are the keys of batches decided and not yet durable.
    mutating func scanStarted(inFlight: some Sequence<RequestKey>) {
        sinceScanStarted = Set(inFlight.lazy.map(\.digest))
    }

    /// The sweep of old replies has deleted what it will: whether to scan now (else a scan
    /// follows the one under way).
    mutating func sweepEnded() -> Bool {
        if isScanning { scanAgain = true }
        return !isScanning
    }

    /// The scan's digests: with what it may have missed, everything the store holds. Returns
    /// whether to scan again now.
    mutating func scanFinished(_ scanned: Set<Int>) -> Bool {
        guard let since = sinceScanStarted else { return false }
        digests = scanned.union(since)
        sinceScanStarted = nil
        knowsTheStore = true
        defer { scanAgain = false }
        return scanAgain
    }

    /// The scan failed: what was known stays (every key since was inserted into it too).
    /// Returns whether to scan again now.
    mutating func scanFailed() -> Bool {
        sinceScanStarted = nil
        defer { scanAgain = false }
        return scanAgain
    }
}

/// A scan's result, handed from its thread to the broker's.
public final class RequestIDScan: @unchecked Sendable {
    private let condition = NSCondition()
    private var result: Result<Set<Int>, any Error>?
    private var finished = 0

    func put(_ r: Result<Set<Int>, any Error>) {
        condition.lock(); defer { condition.unlock() }
        result = r
        finished += 1
        condition.broadcast()
    }

    func take() -> Result<Set<Int>, any Error>? {
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
