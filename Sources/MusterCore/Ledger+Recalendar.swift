import Foundation
import MusterWire

extension Ledger {
    /// A dispatch whose deadlines the new holiday schedule moved, for the shell's NOTICE.
    public struct MovedDeadline: Sendable, Equatable {
        public var dispatch: DispatchRecord
        public var before: Due
    }

    /// The holiday schedule changed (typically: the State Council's notice for a year that was
    /// provisional arrived as config/calendar/cn-YYYY.yaml). Every open dispatch whose deadlines
    /// reach into a changed year is recomputed from when it was sent, as if the new schedule had
    /// been known then; a moved one gets a `deadlinesMoved` fact and its running ladders are
    /// scheduled anew on the new deadlines, leaving out the rungs that already fired (they never
    /// fire twice). An extension already granted (延期) keeps its date: it was approved as a date.
    ///
    /// Deadlines use the management mode in force now for the case's grid (the mode at dispatch
    /// time is not kept). Case clocks (研判, 核实, 回访) are not moved: their start is not kept
    /// either, and they run hours to days.
    public mutating func recalendar(from old: WorkCalendar, to rules: Rules, now: Date) -> (facts: [Fact], moved: [MovedDeadline]) {
        let changed = Set((old.years.union(rules.calendar.years)).filter { y in
            (try? old.daysOff(year: y)).map(Schedule.init) != (try? rules.calendar.daysOff(year: y)).map(Schedule.init)
        })
        guard !changed.isEmpty else { return ([], []) }
        var facts: [Fact] = []
        var moved: [MovedDeadline] = []
        let reason = "节假日安排 \(changed.sorted().map(String.init).joined(separator: ", ")) 变更 holiday schedule changed"
        for (caseID, ids) in openDispatches.sorted(by: { $0.key < $1.key }) {
            guard let c = cases[caseID], !c.state.isTerminal else { continue }
            for id in ids {
                guard let d = dispatches[id], d.state.isOpen else { continue }
                let span = [d.ackBy, d.resolveBy, d.returnBy].max()!
                let touched = (CivilDay(d.sentAt).year...CivilDay(span).year).contains(where: changed.contains)
                guard touched, let due = try? rules.due(for: subject(c), at: d.sentAt) else { continue }
                let resolveBy = d.firstResolveBy == nil ? due.resolveBy : d.resolveBy
                guard due.ackBy != d.ackBy || resolveBy != d.resolveBy || due.returnBy != d.returnBy else { continue }
                let before = Due(ackBy: d.ackBy, resolveBy: d.resolveBy, returnBy: d.returnBy)
                // The rungs still to come, by clock; the others fired (or their clock stopped).
                let waiting = Set((timersByOwner[id] ?? []).compactMap { timers[$0] }.map { "\($0.clock.rawValue)/\($0.rung)" })
                let fact = Fact(caseID: caseID, at: now, actor: Actor.broker.adapter,
                                change: .deadlinesMoved(dispatchID: id, ackBy: due.ackBy, resolveBy: resolveBy, returnBy: due.returnBy, reason: reason))
                apply(fact)
                facts.append(fact)
                let updated = dispatches[id]!
                let rungs = (rules.sla.ladder(.ack, caseID: caseID, dispatch: updated, start: updated.sentAt, deadline: updated.ackBy, calendar: rules.calendar)
                    + rules.sla.ladder(.resolve, caseID: caseID, dispatch: updated, start: updated.sentAt, deadline: updated.resolveBy, calendar: rules.calendar))
                    .filter { waiting.contains("\($0.clock.rawValue)/\($0.rung)") }
                if !rungs.isEmpty {
                    let scheduled = Fact(caseID: caseID, at: now, actor: Actor.broker.adapter, change: .scheduled(rungs))
                    apply(scheduled)
                    facts.append(scheduled)
                }
                moved.append(MovedDeadline(dispatch: updated, before: before))
            }
        }
        return (facts, moved)
    }

    /// A year's days off and make-up days, to tell whether a year's schedule changed.
    private struct Schedule: Equatable {
        var off: [CivilDay], work: [CivilDay], official: Bool
        init(_ t: (daysOff: [CivilDay], makeUpWorkdays: [CivilDay], official: Bool)) {
            off = t.daysOff; work = t.makeUpWorkdays; official = t.official
        }
    }
}
