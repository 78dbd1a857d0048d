import Foundation
import MusterStore
import Synchronization
import ZeroMQ

/// Commits sealed batches in order on a thread of its own, so that the broker parses and
/// decides the next batch while SQLite writes and fsyncs this one (a pipelined group commit).
///
/// A batch is decided on the ledger as the batches before it left it, so if one fails, every
/// batch after it in the same epoch fails too without touching the disk; the broker reloads its
/// ledger from the store and starts a new epoch.
final class CommitWriter: @unchecked Sendable {
    struct Job: Sendable {
        var id: Int64
        var epoch: Int64
        var batch: Batch
        /// Whether the broker wants the logged facts back (to feed subscribers from memory);
        /// otherwise they are let go where the batch is committed, and only the last seq goes back.
        var keepFacts = true
    }

    struct Completion: Sendable {
        var id: Int64
        var result: Result<Committed, CommitFailure>
    }

    /// A durable batch: its last seq (nil: it logged no fact) and, if kept, its logged facts.
    struct Committed: Sendable {
        var lastSeq: Int64?
        var facts: [LoggedFact]?
    }

    struct CommitFailure: Error, Sendable, CustomStringConvertible {
        var description: String
    }

    private let store: any CaseStore
    private let metrics: BrokerMetrics?
    /// Each commit fsyncs the write-ahead log (synchronous FULL or EXTRA): counted as one.
    private let fsyncs: Bool
    private let jobs = Mutex<[Job]>([])
    private let completed = Mutex<[Completion]>([])
    private let jobReady = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    /// Signalled when a completion is ready; the broker polls its fd with the socket.
    let wakeup = Wakeup()
    /// Batches committed on the broker's thread (`commitHere`) and on this one: which path ran.
    let committedHere = Atomic<Int>(0)
    let committedByWriter = Atomic<Int>(0)

    init(store: any CaseStore, metrics: BrokerMetrics? = nil, fsyncs: Bool = true) {
        self.store = store
        self.metrics = metrics
        self.fsyncs = fsyncs
        let t = Thread { [self] in run() }
        t.name = "muster-writer"
        t.start()
    }

    func submit(_ job: Job) {
        jobs.withLock { $0.append(job) }
        jobReady.signal()
    }

    func takeCompleted() -> [Completion] {
        wakeup.drain()
        return completed.withLock { c in
            let all = c
            c.removeAll()
            return all
        }
    }

    /// Commits a batch on the caller's thread, while nothing is queued here (the broker's
    /// low-latency path: a small batch with the writer idle skips two thread hand-offs).
    func commitHere(_ job: Job) -> Completion {
        committedHere.add(1, ordering: .relaxed)
        return Completion(id: job.id, result: commit(job.batch, keepFacts: job.keepFacts))
    }

    private func commit(_ batch: Batch, keepFacts: Bool) -> Result<Committed, CommitFailure> {
        let started = DispatchTime.now().uptimeNanoseconds
        do {
            let logged = try store.commit(batch)
            if let metrics {
                metrics.commitDuration.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - started))
                if fsyncs { metrics.fsyncs.increment() }
            }
            // Not kept, the facts are released here: under load, on the writer's thread rather
            // than on the broker's, which bounds the rate (a lone commit made on the broker's
            // thread releases them there, as before).
            return .success(Committed(lastSeq: logged.last?.seq, facts: keepFacts ? logged : nil))
        } catch {
            metrics?.commitFailures.increment()
            return .failure(CommitFailure(description: "\(error)"))
        }
    }

    /// Commits what was submitted, then ends the thread.
    func finish() {
        jobs.withLock { $0.append(Job(id: -1, epoch: -1, batch: Batch())) }
        jobReady.signal()
        finished.wait()
    }

    private func run() {
        nameThisThread("muster-writer")
        var failedEpoch: Int64 = -1
        while true {
            jobReady.wait()
            guard let job = jobs.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) else { continue }
            if job.id < 0 { break }
            let result: Result<Committed, CommitFailure>
            if job.epoch <= failedEpoch {
                result = .failure(CommitFailure(description: "an earlier batch of this epoch failed"))
            } else {
                result = commit(job.batch, keepFacts: job.keepFacts)
                committedByWriter.add(1, ordering: .relaxed)
                if case .failure = result { failedEpoch = job.epoch }
            }
            completed.withLock { $0.append(Completion(id: job.id, result: result)) }
            wakeup.signal()
        }
        finished.signal()
    }
}
