import Foundation
import MusterCore

/// What a batch's look-ups found (`CaseStore.lookUp`): the stored replies to its request ids, and
/// the cases it needs that memory does not hold, each with its dispatches.
public typealias LookedUp = (replies: [RequestKey: (command: String, body: [UInt8])], cases: [(CaseRecord, [DispatchRecord])])

/// Where the broker keeps its cases: the hash-chained event log, the projections, the outbox of
/// pushes and the replies to request ids. In the style of GRDB's AppDatabase: writes are named by
/// intent and each is one transaction, all or nothing; reads return values, never a connection.
///
/// `Store` (SQLite) is the implementation today. What any implementation must do is the contract
/// suite, Tests/MusterStoreTests/StoreContractTests.swift, which runs against each backend.
/// Called from one writer thread at a time (the broker's); reads may come from any thread.
public protocol CaseStore: AnyObject, Sendable {
    /// Where it is, for logs and messages: a file path, a URL.
    var path: String { get }
    /// The last event's seq; 0 for an empty log.
    var lastSeq: Int64 { get }
    /// The highest delivery number handed out: numbers are never reused.
    var lastDelivery: Int64 { get }
    /// How delivery numbers are written on the wire and recognised in RECEIVED.
    var deliveryIDs: DeliveryIDs { get }
    /// Hands out the next delivery number; it becomes durable with the batch that stores its push.
    func nextDelivery() -> Int64

    // MARK: Writes

    /// One group commit: the facts to the log (each row chained to the one before), the
    /// projection rows, pushes added and removed, and replies — in one transaction. Returns the
    /// logged facts with their seqs. On any error nothing is written and the head is as before.
    @discardableResult
    func commit(_ batch: Batch) throws -> [LoggedFact]
    /// Copies the write-ahead log's last pages into the database when a commit found them due,
    /// so that the log can start over at the next commit. Left out of that commit so that its
    /// replies are not kept waiting: call after they are sent, with no commit under way (the
    /// next commit does it first otherwise). False when nothing was copied; a backend without
    /// such a log has nothing to copy (the default).
    @discardableResult
    func finishCheckpoint() -> Bool
    /// Forgets the replies to request ids older than `before` among the `limit` keys after
    /// `after`: one slice of a sweep. Returns where the next slice starts, nil at the end.
    func pruneRequests(before: Date, after: RequestKey?, limit: Int) throws -> RequestKey?

    // MARK: Reads

    /// The ledger as the projections hold it, all history (verify-log, tests).
    func loadLedger() throws -> Ledger
    /// What the broker starts from: the rungs due by `timersDueBy`, the modes and the id
    /// counters. Cases are read when a command or a rung needs them (`workingSet(for:)`).
    func loadWorkingSet(timersDueBy: Date) throws -> Ledger
    /// The cases in `state` with their dispatches, a page at a time in case id order after
    /// `after` (a new holiday schedule moves open deadlines).
    func cases(in state: CaseState, after: String?, limit: Int) throws -> [(CaseRecord, [DispatchRecord])]
    /// The waiting rungs of these owners (case and dispatch ids), near and far.
    func timers(ofOwners owners: [String]) throws -> [LadderTimer]
    /// Cases (with all their dispatches) a command needs that are not in memory: by case id,
    /// by one of their dispatch ids, by (source, external_ref), or the open ones of a merge key.
    func workingSet(for needs: Ledger.Needs) throws -> [(CaseRecord, [DispatchRecord])]
    /// Waiting rungs due in `after < due <= through` (`after` nil: all), as their time nears.
    func timers(dueAfter after: Date?, through: Date?) throws -> [LadderTimer]
    /// Every push not yet received, in delivery order; bodies only for the first `bodies`.
    func pendingPushes(bodies: Int) throws -> [Batch.Push]
    func pushBody(delivery: Int64) throws -> [UInt8]?
    /// A case's bytes as submitted, for DISPATCH.
    func submitted(caseID: String) throws -> [UInt8]?
    /// The stored replies to any of these request ids.
    func storedReplies(_ keys: [RequestKey]) throws -> [RequestKey: (command: String, body: [UInt8])]
    /// Every request id with a stored reply, in one read (any thread).
    func forEachStoredRequestKey(_ body: (RequestKey) -> Void) throws
    /// Both reads a batch makes before it is decided, as one: the stored replies to its request
    /// ids, and the cases it needs that are not in memory (`workingSet(for:)`).
    /// `writerIdle`: nothing is being committed or waiting to be (the reads may use the writer's connection).
    func lookUp(replies keys: [RequestKey], cases needs: Ledger.Needs, writerIdle: Bool) throws -> LookedUp
    /// Logged facts after `seq` in order: all, one case's (with its whistles'), or one whistle's.
    func facts(after seq: Int64, limit: Int, caseID: String?) throws -> [LoggedFact]
    func caseRecord(_ caseID: String) throws -> CaseRecord?
    /// A case's dispatches in id order.
    func dispatches(ofCase caseID: String) throws -> [DispatchRecord]
    func cases(_ filter: CaseFilter) throws -> [CaseRecord]
    func stats(since: Date?, until: Date?) throws -> CaseStats
    /// Recomputes the hash chain over the whole log.
    func verifyLog() throws -> ChainReport
    /// The chain links of these events, each checked against its predecessor.
    func chainLinks(_ seqs: [Int64]) throws -> [Int64: ChainLink]
    /// The holiday schedules the stored deadlines were computed on; empty if never recorded.
    func appliedCalendar() throws -> [Int: YearSchedule]

    // MARK: Whistles

    /// Whistles by id with their departments (closed ones leave memory at a restart).
    func whistles(_ ids: [String]) throws -> [WhistleRecord]
    /// Newest first, open ones only or all, at most `limit`.
    func recentWhistles(openOnly: Bool, limit: Int) throws -> [WhistleRecord]
    /// 双考核: departments by when summoned, grids by when their whistles were blown.
    func whistleStats(since: Date?, until: Date?) throws -> WhistleStats

    // MARK: Known incidents

    /// Newest first, active ones only or all, at most `limit`.
    func incidents(activeOnly: Bool, limit: Int) throws -> [IncidentRecord]
}

extension CaseStore {
    @discardableResult
    public func finishCheckpoint() -> Bool { false }

    /// Seals the batch from `ledger` and commits it (tests and tools; the broker seals batches
    /// itself and commits them on its writer thread).
    @discardableResult
    public func commit(_ batch: Batch, ledger: Ledger) throws -> [LoggedFact] {
        var sealed = batch
        sealed.seal(from: ledger)
        sealed.lastDelivery = max(sealed.lastDelivery, lastDelivery)
        return try commit(sealed)
    }

    public func pendingPushes() throws -> [Batch.Push] { try pendingPushes(bodies: .max) }

    /// Forgets the replies to request ids older than `before`: a whole sweep at once (tools, tests).
    public func pruneRequests(before: Date) throws {
        var after: RequestKey?
        repeat { after = try pruneRequests(before: before, after: after, limit: 10_000) } while after != nil
    }

    public func facts(after seq: Int64, limit: Int = 1000) throws -> [LoggedFact] {
        try facts(after: seq, limit: limit, caseID: nil)
    }

    /// Folds the whole log into a fresh ledger: what the projections must equal.
    public func replay() throws -> Ledger {
        var ledger = Ledger()
        var after: Int64 = 0
        while true {
            let page = try facts(after: after, limit: 5000)
            guard let last = page.last else { return ledger }
            for logged in page { ledger.apply(logged.fact) }
            after = last.seq
        }
    }
}

extension CaseStore {
    public func lookUp(replies keys: [RequestKey], cases needs: Ledger.Needs, writerIdle: Bool) throws -> LookedUp {
        (try storedReplies(keys), try workingSet(for: needs))
    }
}
