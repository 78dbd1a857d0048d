import Foundation
import HeapModule
import Logging
import MusterConfig
import MusterCore
import MusterStore
import MusterWire
import Synchronization
import ZeroMQ

/// The broker shell: one thread owns the ROUTER socket, the ledger and the store. Each turn it
/// drains what is ready, decides it with the pure core, commits one transaction for the whole
/// batch (group commit), and only then sends replies and pushes.
public final class Broker: @unchecked Sendable {
    public static let version = "0.1.0"
    /// Most messages handled in one group commit. Small enough that the work in flight spans
    /// several batches: when one batch held all of it, the decide thread waited while the writer
    /// committed it and the two cores took turns (1,000 SUBMITs in flight: ~4,300/s at 4,096,
    /// ~6,700/s at 512, docs/PERFORMANCE.md); large enough that an fsync serves hundreds.
    static let maxBatch = 512
    /// Messages over the 1 MiB limit but under this are answered `too_large`; libzmq drops
    /// the connection of a peer that sends more (a memory guard).
    static let hardMessageLimit = Int64(Envelope.hardMessageBytes)

    /// Mutable only for `reloadPeers` (applied on the broker thread).
    var config: BrokerConfig
    /// New principals handed over by `reloadPeers` from another thread (SIGHUP).
    let pendingPeers = Mutex<[String: Principal]?>(nil)
    /// A SIGHUP's reload (peers and calendar), handed over from the signal handler.
    let pendingReload = Mutex<Reload?>(nil)
    /// Where the broker writes its verdict on a reload (`DB.reload.json`); nil: nowhere.
    public var reloadStatusPath: String?
    /// Reloads applied since start: the CLI waits for the count to pass what it saw (clocks of
    /// the two processes need not agree).
    var reloads = 0
    /// The holiday schedules the stored deadlines were computed on (as in the store).
    var appliedSchedules: [Int: YearSchedule] = [:]
    /// Reload verdicts by the batch that carries their effects (written once it is durable).
    var pendingVerdicts: [Int64: PendingVerdict] = [:]
    /// When to try again a recomputation whose commit failed.
    var calendarRetryAt: Date?
    let store: any CaseStore
    /// The only source of `now` for the shell (injected: tests move it).
    let clock: any BrokerClock
    /// The broker's own context, so that stopping it frees its port before `stopAndWait` returns.
    let context = Context()
    let socket: Socket
    /// The ZAP handler's socket, when CURVE is on.
    let zap: Socket?
    let logger: Logger
    let heartbeatMs: Int64
    let resendMs: Int64
    public let endpoint: String
    private let stopFlag = Atomic<Bool>(false)
    private let stopped = DispatchSemaphore(value: 0)
    private let hasStopped = Atomic<Bool>(false)

    var ledger: Ledger
    var sessions: [[UInt8]: Session] = [:]
    /// The sessions that have SUBSCRIBEd: `deliver` feeds these on each turn of the loop without
    /// visiting every session to ask.
    var subscribers: Set<[UInt8]> = []
    var byAdapter: [String: [UInt8]] = [:]
    var outbox = Outbox()
    /// Deliveries RECEIVED (already gone from memory) whose outbox rows are not yet deleted: they
    /// ride with the next batch that commits anything, or go alone after `receiptDelayMs`. A
    /// RECEIVED has no reply and pushes are at least once, so a crash before then only sends
    /// them again; at a quiet hour this spares a commit and an fsync per DISPATCH.
    var unwrittenReceipts: [Int64] = []
    var oldestUnwrittenReceipt: Date?
    static let receiptDelayMs: Int64 = 1_000
    /// Wire ids of the pushes of batches in flight, by delivery: each goes with its push into
    /// the outbox, so that checking a RECEIVED costs a comparison, not an HMAC.
    var madeWires: [Int64: String] = [:]
    /// The last few thousand logged facts while anyone subscribes, so that live subscribers
    /// need no store read; empty while nobody does (Broker+Inbound's `complete`).
    var recent: [LoggedFact] = []
    var lastTick = Date(ms: 0)
    var lastSample = Date(ms: 0)
    /// The loop's work, its waits and its own commits left out (BusyTime), for the metrics.
    var busyTime = BusyTime()
    /// nil unless the broker was made with `metrics: true` (`muster broker --metrics`): no
    /// per-request work for what nobody reads.
    let metrics: BrokerMetrics?
    public let health: BrokerHealth
    var lastPrune = Date(ms: 0)
    /// The sweep that forgets old request ids, a slice each tick; nil while none is under way.
    var requestSweep: RequestSweep?
    /// Keys a slice of the sweep reads (a test makes it small to see a sweep span several hours).
    static let requestSweepSlice = Atomic<Int>(2_000)

    /// Where the sweep's next slice starts (nil: at the first key).
    struct RequestSweep { var after: RequestKey? }
    /// The request ids that may have a stored reply; the others are decided without a read.
    var storedReplyKeys = StoredReplyKeys()
    /// Where a scan of the store's request ids, on a thread of its own, leaves its result.
    public let requestIDScan = RequestIDScan()
    /// Request ids looked up in the store (one read a batch for all). (Atomic: tests read it.)
    public let storedReplyLookups = Atomic<Int>(0)
    var sessionCounter: Int64 = 0
    /// Request budgets per adapter (config `broker.rate_limit`).
    var buckets: [String: TokenBucket] = [:]
    var refusals = RefusalLog()
    /// RECEIVEDs ignored because the delivery was not this peer's (or no delivery at all).
    /// (Atomic: tests and stats read it from other threads.)
    public let ignoredReceipts = Atomic<Int>(0)
    var ignoredReceiptLog = RefusalLog()
    /// Ladder rungs by due time; entries whose timer is gone or moved are skipped when popped.
    var timerHeap = Heap<TimerEntry>()
    /// Rungs due by this time are in memory (and the heap); later ones wait in the store and are
    /// read as it comes near (Broker+Timers).
    var timersInMemoryThrough = Date(ms: 0) { didSet { ledger.timersHeldThrough = timersInMemoryThrough } }
    static let timerHorizonMs: Int64 = 3_600_000
    /// Open cases in memory, the longest untouched first; past `maxOpenCasesInMemory` they leave.
    var held = HeldCases()
    let maxOpenCasesInMemory: Int
    /// Cases in memory after the last batch was answered. (Atomic: tests and stats read it from other threads.)
    public let casesInMemory = Atomic<Int>(0)
    /// Open cases read at once to move their deadlines to a new holiday schedule (a test makes
    /// it small to see several pages).
    static let recalendarPage = Atomic<Int>(2_000)

    // The pipelined commit (CommitWriter): batches decided but not yet durable.
    let writer: CommitWriter
    /// At most this many batches in flight: one committing, two decided waiting behind it.
    static let maxBatchesInFlight = 3
    /// A batch of at most this many requests, with nothing else in flight, is committed on the
    /// broker's thread (the low-latency path); larger ones go to the writer, so that under load
    /// deciding and committing still overlap.
    static let maxCommittedHere = 8
    var epoch: Int64 = 0
    var nextBatchID: Int64 = 0
    var inFlight: [InFlightBatch] = []
    /// Replies of requests in batches not yet committed, so that a repeat waits for them
    /// instead of being applied again; tagged with their batch.
    var uncommittedReplies: [RequestKey: (batch: Int64, command: Command, body: [UInt8])] = [:]
    var uncommittedSubmitted: [String: (batch: Int64, bytes: [UInt8])] = [:]
    /// The last event seq known durable (subscribers are fed up to here).
    var committedSeq: Int64
    var lastDelivery: Int64

    struct InFlightBatch {
        var id: Int64
        var epoch: Int64
        var out: [Outgoing]
        var pushes: [Batch.Push]
        var withdrawn: [String]
        /// Deliveries the peer acknowledged: forgotten in memory once their deletion is durable.
        var received: [Int64]
        var replyKeys: [RequestKey]
        var submittedIDs: [String]
        /// Cases it changed: a finished one leaves memory once no batch still in flight changed it.
        var cases: Set<String>
    }

    /// - maxOpenCasesInMemory: open cases held in memory at most (~5 KB each); the longest
    ///   untouched beyond it are read back from the store when named again.
    public init(config: BrokerConfig, store: any CaseStore, endpoint: String? = nil, logger: Logger, maxPushBodiesInMemory: Int = 50_000,
                maxOpenCasesInMemory: Int = 10_000, clock: any BrokerClock = SystemClock(), metrics: Bool = false) throws {
        self.clock = clock
        self.maxOpenCasesInMemory = maxOpenCasesInMemory
        self.metrics = metrics ? BrokerMetrics() : nil
        health = BrokerHealth(now: clock.now())
        self.config = config
        self.store = store
        self.logger = logger
        heartbeatMs = config.heartbeatMs
        resendMs = config.resendAfterMs
        socket = try Socket(.router, context: context)
        if let security = config.security {
            // The ZAP handler must be bound before the first handshake.
            let z = try Socket(.rep, context: context)
            try z.bind(Broker.zapEndpoint)
            zap = z
            try socket.setCurveServer(secretKey: security.serverSecretKey)
        } else {
            zap = nil
            logger.warning("INSECURE: CURVE is off; any peer that can reach \(endpoint ?? config.endpoint) may claim any adapter, role and agency")
        }
        try socket.setRouterMandatory()
        try socket.setMaxMessageSize(Broker.hardMessageLimit)
        try socket.setHighWaterMarks(send: 100_000, receive: 100_000)
        try socket.bind(endpoint ?? config.endpoint)
        self.endpoint = socket.lastEndpoint()
        // The working set: open cases and near rungs. Finished cases stay in the store.
        timersInMemoryThrough = clock.now().adding(ms: Broker.timerHorizonMs)
        ledger = try store.loadWorkingSet(timersDueBy: timersInMemoryThrough)
        appliedSchedules = try store.appliedCalendar()
        committedSeq = store.lastSeq
        lastDelivery = store.lastDelivery
        writer = CommitWriter(store: store, metrics: self.metrics, fsyncs: ["FULL", "EXTRA"].contains(config.synchronous.uppercased()))
        rebuildTimers()
        outbox.maxBodiesInMemory = maxPushBodiesInMemory
        let pushes = try store.pendingPushes(bodies: maxPushBodiesInMemory)
        outbox.reserveCapacity(pushes.count)
        for push in pushes { outbox.add(push, grid: push.grid) }
    }

    public func stop() { stopFlag.store(true, ordering: .relaxed) }

    /// Serves until `stop()`. Call on the thread that will own the socket.
    public func run() {
        // The CLI runs it on the main thread, whose name is the process's (`ps`): left as it is.
        if !Thread.isMainThread { nameThisThread("muster-broker") }
        busyTime = BusyTime()
        syncCalendar(clock.now())
        scanRequestKeys()
        // Ready once serving: the holiday schedules' check above is part of starting.
        logger.info("broker ready", metadata: [
            "endpoint": "\(endpoint)", "db": "\(store.path)", "rungs_in_memory": "\(ledger.timers.count)",
            "pending_pushes": "\(outbox.count)", "log_seq": "\(store.lastSeq)"])
        while !stopFlag.load(ordering: .relaxed) {
            applyPendingPeers()
            applyPendingReload()
            pageInTimersIfDue(clock.now())
            if inFlight.count < Broker.maxBatchesInFlight {
                fireDueTimers(clock.now())
            }
            if inFlight.count < Broker.maxBatchesInFlight {
                let timeout = timerHeap.min.map { max(0, min(50, Int($0.due - clock.now().ms))) } ?? 50
                if let zap {
                    let ready = busyTime.excluding { socket.waitReadable(timeoutMs: timeout, also: zap, orFD: writer.wakeup.readFD) }
                    if ready.other { handleZAP() }
                    if ready.fd { completeBatches() }
                    if ready.socket { handleReady() }
                } else {
                    let ready = busyTime.excluding { socket.waitReadable(timeoutMs: timeout, orFD: writer.wakeup.readFD) }
                    if ready.fd { completeBatches() }
                    if ready.socket { handleReady() }
                }
            } else if busyTime.excluding({ writer.wakeup.wait(timeoutMs: 50) }) {
                completeBatches()
            }
            let now = clock.now()
            if now.ms - lastTick.ms >= 100 { tick(now); lastTick = now; health.turned(now) }
            if let oldest = oldestUnwrittenReceipt, now.ms - oldest.ms >= Broker.receiptDelayMs, inFlight.count < Broker.maxBatchesInFlight {
                writeReceipts()
            }
            deliver(now)
            // With the replies and pushes of every commit out and the writer idle: the log's
            // last pages, if a commit left them (under load, the next commit copies them first).
            if inFlight.isEmpty { store.finishCheckpoint() }
        }
        // Finish what was decided: commit it and answer.
        writeReceipts()
        drainInFlight()
        writer.finish()
        socket.close()
        zap?.close()
        context.terminate()
        logger.info("broker stopped")
        stopped.signal()
    }

    /// Waits until every decided batch is durable and answered.
    func drainInFlight() {
        while !inFlight.isEmpty {
            if writer.wakeup.wait(timeoutMs: 100) { completeBatches() }
        }
    }

    /// Stops and waits until the loop has closed its socket and released its port. Returns at
    /// once if it has already stopped.
    public func stopAndWait() {
        stop()
        if hasStopped.load(ordering: .acquiring) { return }
        stopped.wait()
        hasStopped.store(true, ordering: .releasing)
    }

    /// Starts `run()` on a thread of its own (tests, the CLI's demo).
    public func start() -> Thread {
        let t = Thread { [self] in run() }
        t.name = "muster-broker"
        t.start()
        return t
    }

    // MARK: sending

    /// Sends one message to a peer now; false if it is gone or its queue is full.
    /// Sends a reply and counts it (by the request it answers, and its error code).
    func answer(_ o: Outgoing, _ command: Command, _ body: [UInt8]) {
        // Counted before it is sent: a peer that reads the metrics once answered sees it counted.
        if let metrics {
            if let asked = o.request { metrics.request(asked.rawValue, ok: command != .error) }
            if command == .error { metrics.error(Messages.errorCode(in: body) ?? "unknown") }
        }
        send(o.routingID, command, body)
    }

    @discardableResult
    func send(_ routingID: [UInt8], _ command: Command, _ body: [UInt8]) -> Bool {
        do {
            let sent = try socket.send([routingID, Envelope.versionBytes, Array(command.rawValue.utf8), body], dontWait: true)
            if sent { sessions[routingID]?.lastSent = clock.now() }
            return sent
        } catch let e as ZMQError where e.isHostUnreachable {
            if sessions[routingID] != nil { drop(routingID, reason: "unreachable") }
            return false
        } catch {
            logger.warning("send failed", metadata: ["error": "\(error)"])
            return false
        }
    }

    // MARK: sessions

    /// Forgets a session; what it had in flight goes back to the queue for a sibling or its
    /// next HELLO.
    func drop(_ routingID: [UInt8], reason: String) {
        guard let s = sessions.removeValue(forKey: routingID) else { return }
        subscribers.remove(routingID)
        if byAdapter[s.actor.adapter] == routingID { byAdapter[s.actor.adapter] = nil }
        for d in s.inFlight.keys.sorted() { outbox.requeue(d) }
        logger.info("session ended", metadata: ["adapter": "\(s.actor.adapter)", "reason": "\(reason)", "requeued": "\(s.inFlight.count)"])
    }

    /// Heartbeats, dead peers, resends, request-id pruning, the metrics' gauges.
    func tick(_ now: Date) {
        if let metrics, now.ms - lastSample.ms >= 1000 {
            lastSample = now
            metrics.brokerBusy.increment(by: busyTime.takeBusySeconds())
            metrics.sample(ledger: ledger, sessions: Array(sessions.values), outbox: outbox, timersInMemory: timerHeap.count, now: now)
        }
        takeScannedRequestKeys()
        if let at = calendarRetryAt, now >= at {
            calendarRetryAt = nil
            syncCalendar(now)
        }
        for (rid, s) in sessions {
            if now.ms - s.lastHeard.ms > 3 * heartbeatMs {
                drop(rid, reason: "missed 3 heartbeats")
                continue
            }
            if now.ms - s.lastSent.ms >= heartbeatMs { send(rid, .heartbeat, Array("{}".utf8)) }
            resend(rid, now)
        }
        // Hourly, once the last sweep is through: a table too large to sweep in an hour (tens
        // of millions of ids) would otherwise be started over before its end was ever reached.
        if requestSweep == nil, now.ms - lastPrune.ms > 3_600_000 {
            lastPrune = now
            requestSweep = RequestSweep()
        }
        if let sweep = requestSweep {
            // A slice a tick: a whole sweep at once would hold the write lock for as long as the
            // table takes to read (millions of keys at a busy week's rates).
            do {
                let next = try store.pruneRequests(before: now.adding(ms: -7 * 86_400_000), after: sweep.after,
                                                    limit: Broker.requestSweepSlice.load(ordering: .relaxed))
                requestSweep = next.map { RequestSweep(after: $0) }
                // The ids it forgot leave memory with a scan after it.
                if next == nil, storedReplyKeys.sweepEnded() { scanRequestKeys() }
            } catch {
                requestSweep = nil
                logger.warning("pruning request ids failed", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Reads the store's request ids on a thread of its own (millions after a busy week: not on
    /// the broker's); the next batch decided, or the next tick, takes the result.
    func scanRequestKeys() {
        storedReplyKeys.scanStarted(inFlight: uncommittedReplies.keys)
        let store = store, scan = requestIDScan
        Thread.detachNewThread {
            nameThisThread("muster-ids")
            scan.put(Result {
                var digests: [UInt32] = []
                try store.forEachStoredRequestKey { digests.append(StoredReplyKeys.digest($0)) }
                return StoredReplyKeys.ascending(digests)
            })
        }
    }

    /// The scan's result, if it has come (before a batch is decided, while one is under way).
    func takeScannedRequestKeys() {
        guard storedReplyKeys.isScanning, let scanned = requestIDScan.take() else { return }
        let again: Bool
        switch scanned {
        case .success(let digests):
            again = storedReplyKeys.scanFinished(digests)
        case .failure(let error):
            again = storedReplyKeys.scanFailed()
            logger.warning(storedReplyKeys.knowsTheStore
                ? "reading the stored request ids failed; the ids known before are kept, and the next sweep scans again"
                : "reading the stored request ids failed; every id is looked up in the store until the next sweep's scan",
                metadata: ["error": "\(error)"])
        }
        if again { scanRequestKeys() }
    }

    private func resend(_ rid: [UInt8], _ now: Date) {
        guard let s = sessions[rid] else { return }
        for (d, sentAt) in s.inFlight where now.ms - sentAt.ms >= resendMs {
            guard let p = outbox.pending[d] else { sessions[rid]?.inFlight[d] = nil; continue }
            if let body = body(of: p), send(rid, Command(rawValue: p.push.command) ?? .dispatch, body) { sessions[rid]?.inFlight[d] = now }
        }
        if let sub = s.subscription {
            for (seq, sentAt) in sub.inFlight where now.ms - sentAt.ms >= resendMs {
                if let body = sub.unreceived[seq], send(rid, .event, body) { sessions[rid]?.subscription?.inFlight[seq] = now }
            }
        }
    }
}
