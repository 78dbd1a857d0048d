import Foundation
import MusterCore
import MusterStore
import MusterWire

/// SIGHUP (`muster keys reload`): peers.yaml and the holiday schedules are read again by the
/// signal handler, checked, and handed over; the broker applies them on its own thread and
/// writes its verdict where the CLI reads it (`DB.reload.json`) once what it did is durable, so
/// the operator learns what the running broker did, not only what the CLI thought of the files.
extension Broker {
    public struct Reload: Sendable {
        public var principals: [String: Principal]?
        public var calendar: WorkCalendar?
        /// Problems found reading the files; what was readable is applied all the same.
        public var errors: [String]
        public init(principals: [String: Principal]?, calendar: WorkCalendar?, errors: [String]) {
            self.principals = principals; self.calendar = calendar; self.errors = errors
        }
    }

    /// A verdict waiting for the batch that carries the reload's effects.
    struct PendingVerdict {
        var reload: Reload
        var moved: Int
        var skipped: Int
    }

    /// Safe from any thread.
    public func reload(_ r: Reload) {
        if let p = r.principals { reloadPeers(p) }
        pendingReload.withLock { $0 = r }
    }

    /// On the broker's loop; reads the clock only when there is a reload.
    func applyPendingReload() {
        guard let r = pendingReload.withLock({ p -> Reload? in let x = p; p = nil; return x }) else { return }
        applyPendingPeers()  // the reload's peers, if the loop has not taken them yet: before the verdict
        let now = clock.now()
        if let calendar = r.calendar { config.rules.calendar = calendar }
        let sync = syncCalendar(now)
        let verdict = PendingVerdict(reload: r, moved: sync.moved, skipped: sync.skipped)
        if let batch = sync.batch { pendingVerdicts[batch] = verdict } else { writeVerdict(verdict, failure: nil, now: now) }
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
        var result = Ledger.Recalendared()
        if !appliedSchedules.isEmpty {  // else: the first start that keeps them; nothing to compare
            // Every open deadline and waiting rung may move: all of them in memory for this (the
            // far rungs leave after).
            drainInFlight()
            do {
                for (c, ds) in try store.openWork() { ledger.admit(c, dispatches: ds) }
                ledger.admit(timers: try store.timers(dueAfter: nil, through: nil))
            } catch {
                logger.error("reading the waiting rungs failed; the holiday schedules are applied later", metadata: ["error": "\(error)"])
                calendarRetryAt = now.adding(ms: 60_000)
                return (0, 0, nil)
            }
            result = ledger.recalendar(from: calendar.replacing(appliedSchedules), to: config.rules, now: now)
            _ = carryOut(result.decision, kept: nil, now, &batch)
            for m in result.moved {
                lastDelivery += 1
                batch.pushes.append(Batch.Push(
                    delivery: lastDelivery, target: "agency:\(m.dispatch.agency)", command: Command.notice.rawValue,
                    body: Messages.deadlinesMoved(delivery: store.deliveryIDs.wire(lastDelivery), m, title: ledger.cases[m.dispatch.caseID]?.title,
                                                  calendar: calendar),
                    dispatchID: nil, createdAt: now))
            }
        }
        appliedSchedules = current
        submit(&batch, waiting: [])
        ledger.evictTimers(dueAfter: timersInMemoryThrough)
        logger.info("holiday schedules applied", metadata: [
            "official_years": "\(calendar.years.sorted())", "deadlines_moved": "\(result.moved.count)"])
        if !result.skipped.isEmpty {
            logger.warning("deadlines not moved: today's rules on the old schedule do not give them (mode or sla.yaml changed since)",
                           metadata: ["dispatches": "\(result.skipped.joined(separator: ","))"])
        }
        return (result.moved.count, result.skipped.count, nextBatchID)
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
        w.field("at", Timestamp.format(now))
        w.field("reload", reloads)
        w.field("ok", errors.isEmpty)
        w.field("errors", errors)
        if let p = v.reload.principals { w.field("keys", p.count) }
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
