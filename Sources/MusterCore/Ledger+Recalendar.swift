import Foundation
import MusterWire

extension Ledger {
    /// A dispatch whose deadlines the new holiday schedule moved, for the shell's NOTICE.
    public struct MovedDeadline: Sendable, Equatable {
        public var dispatch: DispatchRecord
        public var before: Due
    }

    /// What a new schedule did: the facts (applied), the moved dispatches, and those it could
    /// not move because their deadlines were not computed by today's rules on the old schedule
    /// (the grid's mode or sla.yaml changed since): left as they are, for the operator to see.
    public struct Recalendared: Sendable, Equatable {
        public var facts: [Fact] = []
        /// What the facts changed, and the rungs to wait for now.
        public var touched = Footprint()
        public var actions: [Action] = []
        public var moved: [MovedDeadline] = []
        public var skipped: [String] = []
        public init() {}

        /// The facts, what they touched and the rungs to schedule, as a decision to commit.
        public var decision: Decision { Decision(facts: facts, actions: actions, touched: touched) }
    }

    /// The holiday schedule changed (typically: the State Council's notice for a year that was
    /// provisional arrived as config/calendar/cn-YYYY.yaml). Every open dispatch whose deadlines
    /// reach into a changed year is recomputed from when it was sent, as if the new schedule had
    /// been known then; a moved one gets a `deadlinesMoved` fact and its running ladders are
    /// scheduled anew on the new deadlines, leaving out the rungs that already fired (they never
    /// fire twice). An extension already granted (延期) keeps its date: it was approved as a date.
    ///
    /// A deadline moves only when today's rules on the old schedule give exactly the deadline the
    /// dispatch has — so the move is the schedule's doing, not a mode switched or sla.yaml edited
    /// since (the mode at dispatch time is not kept); any other dispatch is `skipped`. A clock
    /// that stopped keeps its deadline (签收 once signed for). Case clocks (研判, 核实, 回访) are
    /// not moved: their start is not kept, and they run hours to days.
    /// `only`: these cases (the shell recomputes open work a page at a time); nil: every open one in memory.
    public mutating func recalendar(from old: WorkCalendar, to rules: Rules, now: Date, only: Set<String>? = nil) -> Recalendared {
        let years = old.years.union(rules.calendar.years)
        let changed = Set(years.filter { old.schedules([$0]) != rules.calendar.schedules([$0]) })
        var result = Recalendared()
        guard !changed.isEmpty else { return result }
        var before = rules
        before.calendar = old
        let reason = "节假日安排 \(changed.sorted().map(String.init).joined(separator: ", ")) 变更 holiday schedule changed"
        for (caseID, ids) in dispatchesOfCase.sorted(by: { $0.key < $1.key }) where only?.contains(caseID) ?? true {
            guard let c = cases[caseID], !c.state.isTerminal else { continue }
            for id in ids.sorted() {
                guard let d = dispatches[id], d.state.isOpen else { continue }
                // The signing and finishing rungs still to come; the others fired (or their clock
                // stopped). A running stage's rungs stay as they are: its deadline does not move.
                let waiting = timers.rungs(of: id).filter { $0.clock == .ack || $0.clock == .resolve }
                let span = ([d.ackBy, d.resolveBy, d.returnBy] + waiting.map(\.due)).max()!
                let touched = (CivilDay(d.sentAt).year...CivilDay(span).year).contains(where: changed.contains)
                guard touched else { continue }
                guard let was = try? before.due(for: subject(c), at: d.sentAt),
                      was.ackBy == d.ackBy, was.returnBy == d.returnBy, d.firstResolveBy != nil || was.resolveBy == d.resolveBy,
                      let due = try? rules.due(for: subject(c), at: d.sentAt) else {
                    result.skipped.append(id)
                    continue
                }
                let ackBy = d.state == .sent ? due.ackBy : d.ackBy
                let resolveBy = d.firstResolveBy == nil ? due.resolveBy : d.resolveBy
                let moves = ackBy != d.ackBy || resolveBy != d.resolveBy || due.returnBy != d.returnBy
                if moves {
                    let fact = Fact(caseID: caseID, at: now, actor: Actor.broker.adapter,
                                    change: .deadlinesMoved(dispatchID: id, ackBy: ackBy, resolveBy: resolveBy, returnBy: due.returnBy, reason: reason))
                    apply(fact, touching: &result.touched)
                    result.facts.append(fact)
                    result.moved.append(MovedDeadline(dispatch: dispatches[id]!, before: Due(ackBy: d.ackBy, resolveBy: d.resolveBy, returnBy: d.returnBy)))
                }
                // The waiting rungs on the new schedule: a deadline that moved moves them, and so
                // may the schedule itself for a rung after an unmoved deadline (`+1wd` into January).
                let updated = dispatches[id]!
                let names = Set(waiting.map { "\($0.clock.rawValue)/\($0.rung)" })
                let rungs = (rules.sla.ladder(.ack, caseID: caseID, dispatch: updated, start: updated.sentAt, deadline: updated.ackBy, calendar: rules.calendar)
                    + rules.sla.ladder(.resolve, caseID: caseID, dispatch: updated, start: updated.sentAt, deadline: updated.resolveBy, calendar: rules.calendar))
                    .filter { names.contains("\($0.clock.rawValue)/\($0.rung)") }
                if moves || Set(rungs) != Set(waiting), !rungs.isEmpty {
                    let scheduled = Fact(caseID: caseID, at: now, actor: Actor.broker.adapter, change: .scheduled(rungs))
                    apply(scheduled, touching: &result.touched)
                    result.facts.append(scheduled)
                    result.actions.append(.schedule(rungs))
                }
            }
        }
        return result
    }
}
