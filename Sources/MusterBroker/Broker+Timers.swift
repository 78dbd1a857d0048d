import Foundation
import HeapModule
import MusterCore
import MusterStore
import MusterWire

/// A rung in the broker's heap.
struct TimerEntry: Comparable {
    var due: Int64
    var id: String
    /// Where the ledger holds it (a rung is found by its owner's entry, then its id).
    var owner: String

    init(_ t: LadderTimer) { due = t.due.ms; id = t.id; owner = t.owner }

    /// By due, then id (an id has one owner).
    static func < (a: TimerEntry, b: TimerEntry) -> Bool { (a.due, a.id) < (b.due, b.id) }
    static func == (a: TimerEntry, b: TimerEntry) -> Bool { (a.due, a.id) == (b.due, b.id) }
}

extension Broker {
    /// Most rungs fired in one batch (1,000 timers due in the same second go in one commit).
    static let maxFiredPerBatch = 4096

    func schedule(_ t: LadderTimer) { timerHeap.insert(TimerEntry(t)) }

    /// The heap from the ledger's timers (at start, and after a failed commit reloads the ledger).
    func rebuildTimers() {
        timerHeap = Heap(ledger.timers.all.map(TimerEntry.init))
    }

    /// Reads from the store the rungs coming due within the next horizon, half a horizon ahead
    /// of need. Everything decided is made durable first, so no rung a batch in flight stopped
    /// comes back from the store.
    func pageInTimersIfDue(_ now: Date) {
        guard now.ms + Broker.timerHorizonMs / 2 >= timersInMemoryThrough.ms else { return }
        drainInFlight()
        let through = now.adding(ms: Broker.timerHorizonMs)
        do {
            let near = try store.timers(dueAfter: timersInMemoryThrough, through: through)
            ledger.admit(timers: near)
            for t in near { schedule(t) }
            timersInMemoryThrough = through
        } catch {
            logger.error("reading the next hour's rungs failed; retrying", metadata: ["error": "\(error)"])
        }
    }

    /// Fires the rungs that are due: each an escalation fact and its NOTICEs, in one batch.
    /// A rung that came due while the broker was down fires once, now.
    func fireDueTimers(_ now: Date) {
        var due: [LadderTimer] = []
        while due.count < Broker.maxFiredPerBatch, let next = timerHeap.min, next.due <= now.ms {
            _ = timerHeap.popMin()
            guard let t = ledger.timers.rung(next.id, of: next.owner), t.due.ms == next.due else { continue }
            due.append(t)
        }
        guard !due.isEmpty else { return }
        // Their cases (or whistles), read back if they are not in memory: a rung fires by its owner's state.
        let admitted: [String]
        let (ofWhistles, ofCases) = (due.filter { $0.clock == .whistle }, due.filter { $0.clock != .whistle })
        do { admitted = try admitMissing(Ledger.Needs(cases: ofCases.map(\.caseID), whistles: ofWhistles.map(\.caseID))).admitted } catch {
            logger.error("reading the cases of due rungs failed; retrying", metadata: ["error": "\(error)"])
            for t in due { schedule(t) }
            return
        }
        var batch = Batch()
        var fired = 0
        for t in due {
            let decision = ledger.fire(t.id, of: t.owner, now: now)
            guard !decision.facts.isEmpty else { continue }
            metrics?.rungFired(level: t.level, lagMs: now.ms - t.due.ms)
            _ = carryOut(decision, kept: nil, now, &batch)
            fired += 1
        }
        letGo(admitted, unless: batch.touchedCases)
        if fired > 0 { submit(&batch, waiting: []) }
    }

    /// Who a rung tells: `agency` is the dispatch's department; `supervisor` its supervisor (any
    /// supervisor for a case's own clocks); any other name a role.
    /// For a whistle's rung, `street` is the grid worker's or street office's peer that blew it
    /// (ops when the centre or the broker did) and
    /// `district` the supervisors whose jurisdictions cover the district it was blown in.
    func noticeTargets(_ t: LadderTimer) -> [String] {
        t.to.flatMap { who -> [String] in
            switch who {
            case "agency": t.agency.map { ["agency:\($0)"] } ?? []
            case "supervisor": [t.agency.map { "supervisor:\($0)" } ?? "role:supervisor"]
            case "street":
                ledger.whistles[t.caseID].map { [$0.street.map { "adapter:\($0)" } ?? "role:ops"] } ?? []
            case "district":
                ledger.whistles[t.caseID].map { config.rules.grids.ancestors(of: $0.grid, at: "district").map { "district:\($0)" } } ?? []
            default: ["role:\(who)"]
            }
        }
    }
}
