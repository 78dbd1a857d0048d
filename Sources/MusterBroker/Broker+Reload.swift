import Foundation
import MusterCore
import MusterStore
import MusterWire

/// SIGHUP (`muster keys reload`): peers.yaml and the holiday schedules are read again by the
/// signal handler, checked, and handed over; the broker applies them on its own thread and
/// writes its verdict where the CLI reads it (`DB.reload.json`), so the operator learns what the
/// running broker did, not only what the CLI thought of the files.
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

    /// Safe from any thread.
    public func reload(_ r: Reload) {
        if let p = r.principals { reloadPeers(p) }
        pendingReload.withLock { $0 = r }
    }

    func applyPendingReload(_ now: Date) {
        guard let r = pendingReload.withLock({ p -> Reload? in let x = p; p = nil; return x }) else { return }
        applyPendingPeers()
        var moved = 0
        if let calendar = r.calendar, calendar != config.rules.calendar { moved = recalendar(calendar, now) }
        writeVerdict(r, moved: moved, now: now)
    }

    /// A new holiday schedule: open deadlines reaching into a changed year are recomputed (the
    /// core decides), each moved one is an event on its case and a NOTICE to its department.
    private func recalendar(_ calendar: WorkCalendar, _ now: Date) -> Int {
        let old = config.rules.calendar
        config.rules.calendar = calendar
        let (facts, moved) = ledger.recalendar(from: old, to: config.rules, now: now)
        logger.info("holiday schedule reloaded", metadata: [
            "official_years": "\(calendar.years.sorted())", "deadlines_moved": "\(moved.count)"])
        guard !facts.isEmpty else { return 0 }
        var batch = Batch()
        batch.add(facts)
        for m in moved {
            lastDelivery += 1
            let title = ledger.cases[m.dispatch.caseID]?.title
            batch.pushes.append(Batch.Push(
                delivery: lastDelivery, target: "agency:\(m.dispatch.agency)", command: Command.notice.rawValue,
                body: Messages.deadlinesMoved(delivery: store.deliveryIDs.wire(lastDelivery), m, title: title, calendar: calendar),
                dispatchID: nil, createdAt: now))
        }
        submit(&batch, waiting: [])
        return moved.count
    }

    private func writeVerdict(_ r: Reload, moved: Int, now: Date) {
        guard let path = reloadStatusPath else { return }
        var w = JSONWriter()
        w.field("pid", Int(getpid()))
        w.field("at", Timestamp.format(now))
        reloads += 1
        w.field("reload", reloads)
        w.field("ok", r.errors.isEmpty)
        w.field("errors", r.errors)
        if let p = r.principals { w.field("keys", p.count) }
        let calendar = config.rules.calendar
        w.array("official_years", calendar.years.sorted().map { Array(String($0).utf8) })
        w.field("deadlines_moved", moved)
        let tmp = path + ".tmp"
        do {
            try Data(w.finish()).write(to: URL(fileURLWithPath: tmp))
            _ = rename(tmp, path)
        } catch {
            logger.warning("cannot write the reload verdict", metadata: ["path": "\(path)", "error": "\(error)"])
        }
    }
}
