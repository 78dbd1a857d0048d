import Foundation
import MusterConfig
import MusterCore
import MusterStore
import MusterWire

/// SIGHUP (`muster reload`): the whole config — routing, grids, sla, the holiday schedules and
/// peers — is read again by the signal handler and checked; all of it is applied, or (with any
/// error) none. The broker applies it on its own thread: new rules for what comes next (cases
/// already dispatched keep their owners), cases waiting at the triage queue that the new rules
/// route are routed, open deadlines a new holiday schedule moves are recomputed. It writes its
/// verdict where the CLI reads it (`DB.reload.json`) once what it did is durable, so the operator
/// learns what the running broker did, not only what the CLI thought of the files. What only a
/// restart changes (endpoint, database, security on or off) is not taken.
extension Broker {
    public struct Reload: Sendable {
        /// The config read again and checked whole; nil when it had errors.
        public var config: BrokerConfig?
        /// The errors, with file, line and key: then nothing is applied.
        public var errors: [String]
        public init(config: BrokerConfig?, errors: [String]) {
            self.config = config; self.errors = errors
        }
    }

    /// A verdict waiting for the batch that carries the reload's effects.
    struct PendingVerdict {
        var reload: Reload
        var moved: Int
        var skipped: Int
        var routed: Int = 0
    }

    /// Safe from any thread.
    public func reload(_ r: Reload) {
        if let p = r.config?.security?.principals { reloadPeers(p) }
        pendingReload.withLock { $0 = r }
    }

    /// On the broker's loop; reads the clock only when there is a reload.
    func applyPendingReload() {
        guard let r = pendingReload.withLock({ p -> Reload? in let x = p; p = nil; return x }) else { return }
        applyPendingPeers()  // the reload's peers, if the loop has not taken them yet: before the verdict
        let now = clock.now()
        var routed = 0
        if let new = r.config {
            config.rules = new.rules
            config.instanceJurisdictions = new.instanceJurisdictions
            config.instanceAgencies = new.instanceAgencies
            routed = routeWaiting(now)
        }
        let sync = syncCalendar(now)
        let verdict = PendingVerdict(reload: r, moved: sync.moved, skipped: sync.skipped, routed: routed)
        if let batch = sync.batch { pendingVerdicts[batch] = verdict } else { writeVerdict(verdict, failure: nil, now: now) }
    }

    /// Cases waiting at the triage queue that the rules in force now route (a department added,
    /// a category given an owner): read a page at a time from the state index, as open deadlines
    /// are for a new holiday schedule, routed (派单, an event on each case, a DISPATCH to each
    /// department), committed, and let go again. Returns how many were routed.
    func routeWaiting(_ now: Date) -> Int {
        var routed = 0
        var after: String?
        while true {
            drainInFlight()
            let page: [(CaseRecord, [DispatchRecord])]
            do { page = try store.cases(in: .triage, after: after, limit: Broker.recalendarPage.load(ordering: .relaxed)) } catch {
                logger.error("reading the triage queue failed; waiting cases are routed by the next reload", metadata: ["error": "\(error)"])
                return routed
            }
            guard let last = page.last else { return routed }
            after = last.0.caseID
            var batch = Batch()
            var dispatches: [DispatchRecord] = []
            var visiting: [String] = []
            for (c, ds) in page {
                if ledger.cases[c.caseID] == nil {
                    ledger.admit(c, dispatches: ds)
                    visiting.append(c.caseID)
                }
                let decision = ledger.routeWaiting(c.caseID, rules: config.rules, now: now)
                guard !decision.facts.isEmpty else { continue }
                dispatches += carryOut(decision, kept: nil, now, &batch)
                routed += 1
            }
            pushDispatches(dispatches, now, &batch)
            let touched = Set(batch.touchedCases)
            submit(&batch, waiting: [])
            for id in visiting where !touched.contains(id) { ledger.release(id) }
        }
    }

    /// Brings the stored deadlines to the holiday schedules in force: at start (a notice
    /// installed while the broker was down, or a recomputation a crash cut short) and on SIGHUP.
    /// The schedules the deadlines were computed on are kept in the store; where one changed,
    /// the core recomputes the open deadlines reaching into it (events on the cases), NOTICEs go
    /// to the departments, and the new schedules are recorded — all in one batch.
    @discardableResult
    func syncCalendar(_ now: Date) -> (moved: Int, skipped: Int, batch: Int64?) {
        let calendar = config.rules.calendar
        let year = CivilDay(now).year
        let current = calendar.schedules(Set(appliedSchedules.keys).union(calendar.years).union((year - 1)...(year + 3)))
        guard current != appliedSchedules else { return (0, 0, nil) }
        var batch = Batch()
        batch.appliedCalendar = current
        var result = (moved: 0, skipped: [String]())
        if !appliedSchedules.isEmpty {  // else: the first start that keeps them; nothing to compare
            // Every open deadline and waiting rung may move. Open work is read a page at a time,
            // recomputed, committed, and let go again, so memory stays bounded however much there
            // is; the schedules are recorded with the last batch (a crash before it redoes the
            // pages at the next start, where what already moved is left alone as "not moved").
            let old = calendar.replacing(appliedSchedules)
            let startEpoch = epoch
            for state in CaseState.allCases where !state.isTerminal && state != .new {
                var after: String?
                while true {
                    drainInFlight()
                    // A page that failed to commit reloaded the working set and set a retry:
                    // stop here, and record nothing as applied.
                    guard epoch == startEpoch else { return (result.moved, result.skipped.count, nil) }
                    let page: [(CaseRecord, [DispatchRecord])]
                    let rungs: [LadderTimer]
                    do {
                        page = try store.cases(in: state, after: after, limit: Broker.recalendarPage.load(ordering: .relaxed))
                        rungs = try store.timers(ofOwners: page.flatMap { [$0.0.caseID] + $0.1.map(\.dispatchID) })
                    } catch {
                        logger.error("reading open work failed; the holiday schedules are applied later", metadata: ["error": "\(error)"])
                        calendarRetryAt = now.adding(ms: 60_000)
                        return (result.moved, result.skipped.count, nil)
                    }
                    guard let last = page.last else { break }
                    after = last.0.caseID
                    let visiting = page.map(\.0.caseID).filter { ledger.cases[$0] == nil }
                    for (c, ds) in page { ledger.admit(c, dispatches: ds) }
                    ledger.admit(timers: rungs)
                    let r = ledger.recalendar(from: old, to: config.rules, now: now, only: Set(page.map(\.0.caseID)))
                    var pageBatch = Batch()
                    _ = carryOut(r.decision, kept: nil, now, &pageBatch)
                    for m in r.moved {
                        lastDelivery += 1
                        pageBatch.pushes.append(Batch.Push(
                            delivery: lastDelivery, target: "agency:\(m.dispatch.agency)", command: Command.notice.rawValue,
                            body: Messages.deadlinesMoved(delivery: wireID(lastDelivery), m, title: ledger.cases[m.dispatch.caseID]?.title,
                                                          calendar: calendar),
                            dispatchID: nil, createdAt: now))
                    }
                    result.moved += r.moved.count
                    result.skipped += r.skipped
                    submit(&pageBatch, waiting: [])
                    drainInFlight()
                    for id in visiting { ledger.release(id); held.forget(id) }
                    ledger.evictTimers(dueAfter: timersInMemoryThrough)
                }
            }
        }
        appliedSchedules = current
        submit(&batch, waiting: [])
        logger.info("holiday schedules applied", metadata: [
            "official_years": "\(calendar.years.sorted())", "deadlines_moved": "\(result.moved)"])
        if !result.skipped.isEmpty {
            logger.warning("deadlines not moved: today's rules on the old schedule do not give them (mode or sla.yaml changed since)",
                           metadata: ["dispatches": "\(result.skipped.joined(separator: ","))"])
        }
        return (result.moved, result.skipped.count, nextBatchID)
    }

    /// After a batch is durable (or failed): the verdict it carried, if any.
    func settleVerdict(_ batch: Int64, failure: Error?, now: Date) {
        guard let v = pendingVerdicts.removeValue(forKey: batch) else { return }
        writeVerdict(v, failure: failure, now: now)
    }

    /// A failed commit lost the recomputation: what the store has is what was applied; try again
    /// in a minute (and at the next start or SIGHUP).
    func calendarCommitFailed(_ now: Date) {
        appliedSchedules = (try? store.appliedCalendar()) ?? [:]
        calendarRetryAt = now.adding(ms: 60_000)
    }

    private func writeVerdict(_ v: PendingVerdict, failure: Error?, now: Date) {
        guard let path = reloadStatusPath else { return }
        reloads += 1
        let errors = v.reload.errors + (failure.map { ["the store could not commit the reload (\($0)); it is retried"] } ?? [])
        var w = JSONWriter()
        w.field("pid", Int(getpid()))
        w.field("at", now)
        w.field("reload", reloads)
        w.field("ok", errors.isEmpty)
        w.field("errors", errors)
        if let p = v.reload.config?.security?.principals { w.field("keys", p.count) }
        w.field("applied", v.reload.config != nil)
        w.field("routed_from_triage", v.routed)
        w.array("official_years", config.rules.calendar.years.sorted().map { Array(String($0).utf8) })
        w.field("deadlines_moved", failure == nil ? v.moved : 0)
        w.field("deadlines_not_moved", v.skipped)
        let tmp = path + ".tmp"
        do {
            try Data(w.finish()).write(to: URL(fileURLWithPath: tmp))
            _ = rename(tmp, path)
        } catch {
            logger.warning("cannot write the reload verdict", metadata: ["path": "\(path)", "error": "\(error)"])
        }
    }
}
