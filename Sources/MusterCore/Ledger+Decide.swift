import Foundation
import MusterWire

extension Ledger {
    /// One decision in the making: its facts (applied as they are made, so later steps see
    /// them), what they touched, the actions for the shell.
    public struct Run: Sendable {
        public let actor: Actor
        public let now: Date
        public let rules: Rules
        var decision = Decision()
        /// Deadlines for dispatches this decision makes, computed before its first fact (a
        /// calendar that cannot place them refuses the command, and nothing has changed yet).
        var due: Due?
        /// Why a case that routing sends to no one waits at the triage queue.
        var triageReason = "returned"
        /// The classifier's guesses for a SUBMIT it was not sure of, shown with the triage.
        var triageSuggestions: [CategorySuggestion] = []
        /// Who routing names, computed once per routing.
        var owners: Routing.Owners?
        /// The open case a SUBMIT merges into.
        var mergeTarget: String?

        init(actor: Actor, now: Date, rules: Rules) {
            self.actor = actor; self.now = now; self.rules = rules
        }

        /// The decision, moved out of the finished run (a copy retained each of its arrays).
        consuming func finish(replying reply: Reply) -> Decision {
            decision.reply = reply
            return decision
        }
    }

    /// Decides a command: checks it against the tables and the case's dispatches, applies the
    /// resulting facts to the ledger, and returns them with the actions and the reply. A refusal
    /// changes nothing. Pure: time comes in as `now`.
    public mutating func decide(_ command: CaseCommand, by actor: Actor, rules: Rules, now: Date) -> Result<Decision, WireError> {
        var run = Run(actor: actor, now: now, rules: rules)
        do {
            let reply = try command.decide(&self, &run)
            return .success(run.finish(replying: reply))
        } catch {
            return .failure(error)
        }
    }

    /// A ladder rung comes due (the `rung_due` trigger of its dispatch's or case's table): the
    /// escalation fact and its NOTICE, once. Nothing if the clock stopped or the rung fired.
    public mutating func fire(_ timerID: String, of owner: String, now: Date) -> Decision {
        guard let t = timers.rung(timerID, of: owner), t.due <= now else { return Decision() }
        if ClockKind.petition.contains(t.clock) { return firePetition(t, now: now) }
        let escalates: Bool
        if t.clock == .incident {
            escalates = incidents[t.caseID]?.state == .active
        } else if t.clock == .whistle {
            escalates = summon(t.dispatchID ?? "").map { s in
                SummonMachine.table.outcome(s.state, .rungDue) { _ in true }.row?.effects.contains(.escalate) ?? false
            } ?? false
        } else if let did = t.dispatchID {
            escalates = dispatches[did].map { d in
                DispatchMachine.table.outcome(d.state, .rungDue) { holds($0, d, at: now) }.row?.effects.contains(.escalate) ?? false
            } ?? false
        } else {
            escalates = cases[t.caseID].map { c in
                CaseMachine.table.outcome(c.state, .rungDue) { holds($0, c) }.row?.effects.contains(.escalate) ?? false
            } ?? false
        }
        guard escalates else { return Decision() }
        var decision = Decision()
        let fact = Fact(caseID: t.caseID, at: now, actor: Actor.broker.adapter, change: .escalated(t))
        apply(fact, touching: &decision.touched)
        decision.facts = [fact]
        decision.actions = [.notice(t)]
        return decision
    }

    /// A case waiting at the triage queue that the rules in force now route (a department added,
    /// routing.yaml changed and reloaded): the `route` row, as if it had just come in. Nothing if
    /// it is not waiting there, the rules still name no one, or its deadlines cannot be placed.
    public mutating func routeWaiting(_ id: String, rules: Rules, now: Date) -> Decision {
        guard let c = cases[id], c.state == .triage,
              rules.routing.owners(category: c.category, grid: c.grid, grids: rules.grids, excluding: c.passedOver) != nil
        else { return Decision() }
        var run = Run(actor: .broker, now: now, rules: rules)
        do {
            run.due = try rules.due(for: subject(c), at: now)
            try route(id, &run, quietly: true)
        } catch {
            return Decision()  // before any fact: nothing changed
        }
        return run.decision
    }

    func subject(_ c: CaseRecord) -> SLAPolicy.Subject {
        SLAPolicy.Subject(category: c.category, priority: c.priority, source: c.source, grid: c.grid, mode: mode(for: c.grid, source: c.source))
    }

    /// The mode a case's clocks run in: a petition's are statutory, no management mode scales them.
    func mode(for grid: String, source: Source) -> ManagementMode { source == .petition ? .normal : mode(for: grid) }

    mutating func emit(_ caseID: String, _ change: Fact.Change, _ run: inout Run) {
        let fact = Fact(caseID: caseID, at: run.now, actor: run.actor.adapter, change: change)
        let petitionRow = petitionRow(for: fact)
        apply(fact, touching: &run.decision.touched)
        run.decision.facts.append(fact)
        if let petitionRow { performPetition(petitionRow, on: caseID, after: fact, &run) }
    }

    // MARK: the tables' verdicts

    /// The row a case trigger takes now; the catch-all refuses with the case's state.
    func caseRow(_ c: CaseRecord, _ trigger: CaseMachine.Trigger, mergeTarget: String? = nil) throws(WireError) -> CaseMachine.Row {
        guard let row = CaseMachine.table.outcome(c.state, trigger, holds: { holds($0, c, mergeTarget: mergeTarget) }).row else {
            throw WireError(.invalidTransition, "cannot \(trigger.verb) case \(c.caseID): it is \(c.state.rawValue) (\(c.state.chinese))", state: c.state.rawValue)
        }
        return row
    }

    /// The row a dispatch trigger takes now; the catch-all refuses with the dispatch's state, a
    /// guard that does not hold with its own reason.
    func dispatchRow(_ d: DispatchRecord, _ trigger: DispatchMachine.Trigger, _ run: Run, verb: String) throws(WireError) -> DispatchMachine.Row {
        switch DispatchMachine.table.outcome(d.state, trigger, holds: { holds($0, d, at: run.now) }) {
        case .take(let row): return row
        case .blocked(let g): throw refusal(g, d)
        case .none:
            throw WireError(.invalidTransition, "cannot \(verb) dispatch \(d.dispatchID): it is \(d.state.rawValue) (\(d.state.chinese))", state: d.state.rawValue)
        }
    }

    /// The checks every act on a dispatch starts with: it exists, it was sent to the sender's
    /// department (or the sender is the centre, where allowed), its case is still open.
    func openDispatch(_ id: String, _ run: Run, centreMay: Bool = false) throws(WireError) -> (DispatchRecord, CaseRecord) {
        guard let d = dispatches[id] else { throw WireError(.unknownDispatch, "no dispatch \(id)") }
        guard (centreMay && run.actor.roles.contains(.ops)) || run.actor.agency == d.agency else {
            throw WireError(.forbidden, "dispatch \(id) was sent to \(d.agency), not to \(run.actor.agency ?? "this adapter")")
        }
        guard let c = cases[d.caseID] else { throw WireError(.unknownCase, "no case \(d.caseID)") }
        return (d, c)
    }

    /// An act of the department on its dispatch (ACK, PROGRESS, RESOLVE, RETURN): the dispatch's
    /// table, and for the lead the case's, both checked before the act's fact; then the case
    /// row's effects.
    /// `check`: the command's own conditions on the dispatch, after the tables' and before any fact.
    mutating func actOnDispatch(_ trigger: DispatchMachine.Trigger, _ id: String, _ run: inout Run,
                                check: (DispatchRecord, Run) throws(WireError) -> Void = { _, _ in },
                                _ change: (DispatchRecord) -> Fact.Change) throws(WireError) -> Reply {
        let (d, c) = try openDispatch(id, run)
        if c.state.isTerminal {
            throw WireError(.invalidTransition, "case \(c.caseID) is \(c.state.rawValue) (\(c.state.chinese))", state: c.state.rawValue)
        }
        _ = try dispatchRow(d, trigger, run, verb: trigger.rawValue)
        try checkPetition(d, c, trigger, run)
        try check(d, run)
        var caseRow: CaseMachine.Row?
        if d.role == .lead, let t = Ledger.caseTrigger(of: trigger) {
            caseRow = try self.caseRow(c, t)
            if caseRow!.effects.contains(.reroute) { run.due = try run.rules.due(for: subject(c), at: run.now) }
        }
        emit(c.caseID, change(d), &run)
        if let caseRow { try perform(caseRow, on: c.caseID, &run) }
        return .ok(caseID: c.caseID, state: cases[c.caseID]!.state, dispatchID: id)
    }

    /// A decision of the centre on a case (ASSIGN, REJECT, VERIFY, EVALUATE): its row, the act's
    /// fact, the row's effects.
    mutating func actOnCase(_ trigger: CaseMachine.Trigger, _ id: String, _ run: inout Run, named: Routing.Owners? = nil,
                            _ change: () -> Fact.Change) throws(WireError) -> Reply {
        guard let c = cases[id] else { throw WireError(.unknownCase, "no case \(id)") }
        let row = try caseRow(c, trigger)
        if row.effects.contains(where: { [.newRoundToLead, .dispatchAssigned].contains($0) }) {
            run.due = try run.rules.due(for: subject(c), at: run.now)
        }
        run.owners = named
        emit(id, change(), &run)
        try perform(row, on: id, &run)
        return .ok(caseID: id, state: cases[id]!.state, dispatchID: trigger == .assign ? openDispatchRecords(of: id).first?.dispatchID : nil)
    }

    // MARK: the effects

    /// Carries out a case row's effects in order; the act's own fact has been emitted (and the
    /// row's clock stops went with it).
    mutating func perform(_ row: CaseMachine.Row, on id: String, _ run: inout Run) throws(WireError) {
        for effect in row.effects {
            switch effect {
            case .stop, .escalate: break  // applied with the act's fact; the rung's fact is `fire`'s
            case .withdrawOpen: withdrawOpen(id, &run)
            case .awaitTriage: emit(id, .triage(reason: run.triageReason, suggestions: run.triageSuggestions), &run)
            case .consult: emit(id, .consultation, &run)
            case .route: try route(id, &run, quietly: false)
            case .reroute: try route(id, &run, quietly: true)
            case .dispatchRouted, .dispatchAssigned: dispatch(id, run.owners!, &run)
            case .newRoundToLead:
                withdrawOpen(id, &run)
                dispatch(id, Routing.Owners(lead: cases[id]!.lead!, assists: []), &run)
            case .merge:
                let row = try caseRow(cases[id]!, .merge)
                emit(id, .merged(into: run.mergeTarget!), &run)
                try perform(row, on: id, &run)
            case .countReport: emit(run.mergeTarget!, .reportMerged(from: id), &run)
            case .close:
                withdrawOpen(id, &run)
                emit(id, .closed, &run)
            case .startClocks: startClocks(id, &run)
            case .autoWhistle: autoWhistle(id, &run)
            }
        }
    }

    /// From triage: the routing rules' owners (computed once), passing over departments that
    /// returned it → the `route` row; nobody → it waits at the triage queue (unless `quietly`:
    /// a return already recorded why).
    private mutating func route(_ id: String, _ run: inout Run, quietly: Bool) throws(WireError) {
        let c = cases[id]!
        if let owners = run.rules.routing.owners(category: c.category, grid: c.grid, grids: run.rules.grids, excluding: c.passedOver) {
            run.owners = owners
            try perform(caseRow(c, .route), on: id, &run)
        } else if !quietly {
            try perform(caseRow(c, .hold), on: id, &run)
        }
    }

    private mutating func withdrawOpen(_ id: String, _ run: inout Run) {
        for d in openDispatchRecords(of: id) {
            emit(id, .cancelled(dispatchID: d.dispatchID), &run)
            run.decision.actions.append(.withdraw(dispatchID: d.dispatchID))
        }
    }

    private mutating func dispatch(_ id: String, _ owners: Routing.Owners, _ run: inout Run) {
        let c = cases[id]!
        let round = c.round + 1
        let rules = run.rules
        for (agency, role) in [(owners.lead, DispatchRole.lead)] + owners.assists.map({ ($0, DispatchRole.assist) }) {
            let due = run.due!
            let d = DispatchRecord(
                dispatchID: ids.nextDispatch(), caseID: id, agency: agency, role: role, round: round, state: .sent,
                sentAt: run.now, ackBy: due.ackBy, resolveBy: due.resolveBy, returnBy: due.returnBy,
                // Staged limits are the lead's work (违法搭建's 停工 → 处罚 → 拆除); an assist has none.
                milestones: role == .lead && !due.milestones.isEmpty ? due.milestones : nil)
            emit(id, .dispatched(d), &run)
            run.decision.actions.append(.push(d))
            let ladders = rules.sla.ladder(.ack, caseID: id, dispatch: d, start: d.sentAt, deadline: d.ackBy, calendar: rules.calendar)
                + rules.sla.ladder(.resolve, caseID: id, dispatch: d, start: d.sentAt, deadline: d.resolveBy, calendar: rules.calendar)
                + (d.milestones == nil ? [] : rules.sla.milestoneLadder(d, stage: 0, start: d.sentAt, calendar: rules.calendar))
            schedule(id, ladders, &run)
        }
    }

    mutating func schedule(_ caseID: String, _ rungs: [LadderTimer], _ run: inout Run) {
        guard !rungs.isEmpty else { return }
        emit(caseID, .scheduled(rungs), &run)
        run.decision.actions.append(.schedule(rungs))
    }

    /// Starts the clocks of the state the case is in now: 研判 while it waits at the centre
    /// (triage, 会商); 核实 and 回访 once finished (回访 runs from the finish, verified or not).
    /// A clock already running is not started again: it runs once per stay.
    private mutating func startClocks(_ id: String, _ run: inout Run) {
        guard let c = cases[id] else { return }
        let running = Set(timers.rungs(of: id).map(\.clock))
        let clocks: [ClockKind] = switch c.state {
        case .triage, .consultation: [.triage]
        case .finished: [.verify, .evaluate]
        default: []
        }
        let rules = run.rules
        var list: [LadderTimer] = []
        for clock in clocks where !running.contains(clock) {
            guard let deadline = try? rules.sla.deadline(clock, for: subject(c), from: run.now, calendar: rules.calendar) else { continue }
            list += rules.sla.ladder(clock, caseID: id, dispatch: nil, start: run.now, deadline: deadline, calendar: rules.calendar)
                .filter { !timers.holds($0) }
        }
        schedule(id, list, &run)
    }
}
