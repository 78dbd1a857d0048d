import Foundation
import MusterWire

extension Ledger {
    /// Decides a command: checks it against the lifecycle table and the case's dispatches,
    /// applies the resulting facts to the ledger, and returns them with the reply. A refusal
    /// changes nothing. Pure: time comes in as `now`.
    public mutating func decide(_ command: CaseCommand, by actor: Actor, rules: Rules, now: Date) -> Result<Decision, WireError> {
        var run = Run(actor: actor, now: now)
        do {
            let reply: Reply
            switch command {
            case .submit(let s): reply = try submit(s, &run, rules)
            case .ack(let a): reply = try act(.ack, on: a.dispatchID, &run, rules) { .acked(dispatchID: a.dispatchID, handler: a.handler, note: a.note) }
            case .progress(let p): reply = try act(.progress, on: p.dispatchID, &run, rules) { .progressed(dispatchID: p.dispatchID, note: p.note, attachments: p.attachments ?? []) }
            case .resolve(let r):
                let lead = dispatches[r.dispatchID]?.role == .lead
                reply = try act(.resolve, on: r.dispatchID, &run, rules) { .resolved(dispatchID: r.dispatchID, lead: lead, result: r.result, note: r.note, attachments: r.attachments ?? []) }
            case .return(let r): reply = try act(.return, on: r.dispatchID, &run, rules) { .returned(dispatchID: r.dispatchID, reason: r.reason, note: r.note) }
            case .assign(let a): reply = try assign(a, &run, rules)
            case .reject(let r):
                reply = try caseAct(r.caseID, .reject, &run, rules) { .rejected(reason: r.reason) }
            case .verify(let v):
                reply = try caseAct(v.caseID, v.passed ? .verifyPassed : .verifyFailed, &run, rules) { .verified(passed: v.passed, note: v.note) }
            case .evaluate(let e):
                reply = try caseAct(e.caseID, e.satisfaction == .dissatisfied ? .ratedDissatisfied : .rated, &run, rules) { .evaluated(e.satisfaction, note: e.note) }
            case .extend(let e): reply = try extend(e, &run, rules)
            case .backlog(let b): reply = try backlog(b, &run)
            case .mode(let m): reply = try setMode(m, &run, rules)
            }
            var settled = Set<String>()
            for f in run.facts where !f.caseID.isEmpty && settled.insert(f.caseID).inserted { settleClocks(f.caseID, &run, rules) }
            return .success(Decision(facts: run.facts, reply: reply))
        } catch {
            return .failure(error)
        }
    }

    /// The facts of one decision, applied as they are made so later steps see them.
    struct Run {
        var actor: Actor
        var now: Date
        var facts: [Fact] = []
        /// Deadlines for dispatches this decision makes, computed before its first fact.
        var due: Due?
    }

    func subject(_ c: CaseRecord) -> SLAPolicy.Subject {
        SLAPolicy.Subject(category: c.category, priority: c.priority, source: c.source, grid: c.grid, mode: mode(for: c.grid))
    }

    // MARK: 延期 and modes

    /// EXTEND: before the deadline, with a reason. The department's own request is approved at
    /// once within `extensions.auto_approve`; beyond it only the centre (ops) may extend, and
    /// never past `extensions.max_total` from the first deadline.
    private mutating func extend(_ e: Extend, _ run: inout Run, _ rules: Rules) throws(WireError) -> Reply {
        guard let d = dispatches[e.dispatchID] else { throw WireError(.unknownDispatch, "no dispatch \(e.dispatchID)") }
        let byCentre = run.actor.roles.contains(.ops)
        guard byCentre || run.actor.agency == d.agency else {
            throw WireError(.forbidden, "dispatch \(e.dispatchID) was sent to \(d.agency), not to \(run.actor.agency ?? "this adapter")")
        }
        guard let c = cases[d.caseID], !c.state.isTerminal, d.state.isOpen else {
            throw WireError(.invalidTransition, "cannot extend dispatch \(e.dispatchID): it is \(d.state.rawValue) (\(d.state.chinese))", state: d.state.rawValue)
        }
        guard run.now < d.resolveBy else {
            throw WireError(.invalidTransition, "the deadline passed at \(Timestamp.format(d.resolveBy)): 延期 is asked before it", state: "overdue")
        }
        guard let by = Period(e.by), by.amount > 0 else { throw .badField("by", "\"\(e.by)\" is not a duration (30m, 2h, 3d, 4wh, 5wd)") }
        if e.reason.trimmedSpaces.isEmpty { throw .badField("reason", "an extension needs a reason") }
        let policy = rules.sla.extensions
        let newEnd: Date, autoLimit: Date, totalLimit: Date
        do {
            newEnd = try rules.calendar.end(of: by, from: d.resolveBy)
            autoLimit = try rules.calendar.end(of: policy.autoMaxBy, from: d.resolveBy)
            totalLimit = try rules.calendar.end(of: policy.maxTotal, from: d.firstResolveBy ?? d.resolveBy)
        } catch { throw WireError(.unavailable, "cannot compute the new deadline: \(error)") }
        if newEnd > totalLimit {
            throw WireError(.forbidden, "extensions.max_total is \(policy.maxTotal): no deadline after \(Timestamp.format(totalLimit))")
        }
        if !byCentre {
            if (d.extensions ?? 0) >= policy.autoMaxCount {
                throw WireError(.forbidden, "extensions.auto_approve.max_count is \(policy.autoMaxCount): a further extension needs the centre (ops EXTEND)")
            }
            if newEnd > autoLimit {
                throw WireError(.forbidden, "extensions.auto_approve.max_by is \(policy.autoMaxBy): a longer extension needs the centre (ops EXTEND)")
            }
        }
        // Rungs that already fired on the old deadline do not fire again on the new one.
        let fired = Set(rules.sla.ladder(.resolve, caseID: d.caseID, dispatch: d, start: d.sentAt, deadline: d.resolveBy, calendar: rules.calendar)
            .filter { $0.due <= run.now }.map(\.rung))
        emit(d.caseID, .extended(dispatchID: d.dispatchID, resolveBy: newEnd, by: e.by, reason: e.reason), &run)
        let updated = dispatches[d.dispatchID]!
        let rungs = rules.sla.ladder(.resolve, caseID: d.caseID, dispatch: updated, start: updated.sentAt, deadline: newEnd, calendar: rules.calendar)
            .filter { $0.due > run.now && !fired.contains($0.rung) }
        if !rungs.isEmpty { emit(d.caseID, .scheduled(rungs), &run) }
        return .extended(caseID: d.caseID, dispatchID: d.dispatchID, resolveBy: newEnd)
    }

    /// BACKLOG (挂账): only past the (extended) deadline, by the department or the centre.
    private mutating func backlog(_ b: Backlog, _ run: inout Run) throws(WireError) -> Reply {
        guard let d = dispatches[b.dispatchID] else { throw WireError(.unknownDispatch, "no dispatch \(b.dispatchID)") }
        guard run.actor.roles.contains(.ops) || run.actor.agency == d.agency else {
            throw WireError(.forbidden, "dispatch \(b.dispatchID) was sent to \(d.agency), not to \(run.actor.agency ?? "this adapter")")
        }
        guard let c = cases[d.caseID], !c.state.isTerminal, d.state.isOpen else {
            throw WireError(.invalidTransition, "cannot put dispatch \(b.dispatchID) on the backlog: it is \(d.state.rawValue) (\(d.state.chinese))", state: d.state.rawValue)
        }
        guard run.now >= d.resolveBy else {
            throw WireError(.invalidTransition, "the deadline is \(Timestamp.format(d.resolveBy)): before it, ask for an extension (EXTEND)", state: "in_time")
        }
        emit(d.caseID, .backlogged(dispatchID: d.dispatchID, explanation: b.explanation), &run)
        return .ok(caseID: c.caseID, state: c.state, dispatchID: d.dispatchID)
    }

    /// MODE: 平时, 节假日, 重大活动 or 应急 for a grid prefix (default: the whole city). Deadlines of
    /// dispatches made from now on follow it.
    private mutating func setMode(_ m: ModeRequest, _ run: inout Run, _ rules: Rules) throws(WireError) -> Reply {
        let scope = m.scope ?? rules.grids.root
        guard rules.grids.names[scope] != nil else { throw .badField("scope", "unknown grid \"\(scope)\"") }
        emit("", .modeSet(m.mode, scope: scope), &run)
        return .modeSet(mode: m.mode, scope: scope)
    }

    private mutating func emit(_ caseID: String, _ change: Fact.Change, _ run: inout Run) {
        let fact = Fact(caseID: caseID, at: run.now, actor: run.actor.adapter, change: change)
        apply(fact)
        run.facts.append(fact)
    }

    // MARK: SUBMIT

    private mutating func submit(_ s: Submit, _ run: inout Run, _ rules: Rules) throws(WireError) -> Reply {
        let c = s.case
        if let existing = caseID(source: c.source, externalRef: c.externalRef), let record = cases[existing] {
            // The source's id was taken: the same report again, answered as before.
            return .accepted(caseID: existing, state: record.state, mergedInto: record.mergedInto, due: record.resolveBy)
        }
        let grid = c.location.grid ?? rules.grids.root
        guard rules.grids.exists(grid) else {
            throw .badField("case.location.grid", "unknown grid \"\(grid)\"")
        }
        let category = rules.routing.classify(category: c.category, text: c.title + " " + (c.description ?? ""))
        run.due = try rules.due(for: SLAPolicy.Subject(category: category, priority: c.priority ?? .normal, source: c.source,
                                                        grid: grid, mode: mode(for: grid)), at: run.now)
        let id = ids.nextCase()
        let record = CaseRecord(
            caseID: id, source: c.source, externalRef: c.externalRef, category: category, grid: grid,
            priority: c.priority ?? .normal, title: c.title, address: c.location.address, state: .triage,
            round: 0, lead: nil, assists: [], assigned: false, returnedBy: [], mergedInto: nil,
            mergedReports: 0, acceptedAt: run.now, updatedAt: run.now, resolveBy: nil, satisfaction: nil)

        if let key = Ledger.mergeKey(record), let target = openByMergeKey[key]?.last, let t = cases[target],
           !t.state.isTerminal, rules.mergeWindow.after(t.acceptedAt) >= run.now {
            emit(id, .accepted(record), &run)
            let row = Lifecycle.row(.triage, .merge)!
            emit(id, .merged(into: target), &run)
            if row.effects.contains(.countReport) { emit(target, .reportMerged(from: id), &run) }
            return .accepted(caseID: id, state: .merged, mergedInto: target, due: t.resolveBy)
        }
        _ = Lifecycle.row(.new, .accept)!
        emit(id, .accepted(record), &run)
        try route(id, &run, rules, reasonIfNone: rules.routing.categories[category] == nil ? "unclassified" : "no_route")
        let now = cases[id]!
        return .accepted(caseID: id, state: now.state, mergedInto: nil, due: now.resolveBy)
    }

    /// From triage: dispatch by the routing rules, or stay at the triage queue saying why.
    private mutating func route(_ id: String, _ run: inout Run, _ rules: Rules, reasonIfNone: String?) throws(WireError) {
        let c = cases[id]!
        if rules.routing.owners(category: c.category, grid: c.grid, grids: rules.grids, excluding: c.returnedBy) != nil {
            try transition(id, .route, from: .triage, &run, rules, named: nil)
        } else if let reasonIfNone {
            emit(id, .triage(reason: reasonIfNone), &run)
        }
    }

    // MARK: acts on a dispatch

    private mutating func act(_ act: DispatchLifecycle.Act, on dispatchID: String, _ run: inout Run, _ rules: Rules,
                              _ change: () -> Fact.Change) throws(WireError) -> Reply {
        guard let d = dispatches[dispatchID] else {
            throw WireError(.unknownDispatch, "no dispatch \(dispatchID)")
        }
        guard run.actor.agency == d.agency else {
            throw WireError(.forbidden, "dispatch \(dispatchID) was sent to \(d.agency), not to \(run.actor.agency ?? "this adapter")")
        }
        guard let c = cases[d.caseID] else { throw WireError(.unknownCase, "no case \(d.caseID)") }
        if c.state.isTerminal {
            throw WireError(.invalidTransition, "case \(c.caseID) is \(c.state.rawValue) (\(c.state.chinese))", state: c.state.rawValue)
        }
        guard DispatchLifecycle.next(d.state, act) != nil else {
            throw WireError(.invalidTransition, "cannot \(act.rawValue) dispatch \(dispatchID): it is \(d.state.rawValue) (\(d.state.chinese))", state: d.state.rawValue)
        }
        if act == .return, d.role == .lead { run.due = try rules.due(for: subject(c), at: run.now) }
        if act == .return {
            if d.role == .lead && c.assigned {
                throw WireError(.returnRefused, "the centre assigned this case to \(d.agency); an assigned lead may not return it")
            }
            if run.now > d.returnBy {
                throw WireError(.returnRefused, "the return window closed at \(Timestamp.format(d.returnBy))")
            }
        }
        guard d.role == .lead else {
            // An assist's acts are recorded on its dispatch; the case moves with its lead.
            emit(c.caseID, change(), &run)
            return .ok(caseID: c.caseID, state: cases[c.caseID]!.state, dispatchID: dispatchID)
        }
        let trigger: Lifecycle.Trigger = switch act {
        case .ack: .ack
        case .progress: .progress
        case .resolve: .resolve
        case .return: c.returnedBy.isEmpty ? .returnToTriage : .returnToConsultation
        case .cancel: .assign
        }
        guard Lifecycle.row(c.state, trigger) != nil else {
            throw WireError(.invalidTransition, "cannot \(trigger.verb) case \(c.caseID): it is \(c.state.rawValue) (\(c.state.chinese))", state: c.state.rawValue)
        }
        emit(c.caseID, change(), &run)
        try transition(c.caseID, trigger, from: c.state, &run, rules, named: nil)
        return .ok(caseID: c.caseID, state: cases[c.caseID]!.state, dispatchID: dispatchID)
    }

    // MARK: acts on a case

    private mutating func caseAct(_ caseID: String, _ trigger: Lifecycle.Trigger, _ run: inout Run, _ rules: Rules,
                                  _ change: () -> Fact.Change) throws(WireError) -> Reply {
        guard let c = cases[caseID] else { throw WireError(.unknownCase, "no case \(caseID)") }
        guard let row = Lifecycle.row(c.state, trigger) else {
            throw WireError(.invalidTransition, "cannot \(trigger.verb) case \(caseID): it is \(c.state.rawValue) (\(c.state.chinese))", state: c.state.rawValue)
        }
        if row.effects.contains(.newRoundToLead) { run.due = try rules.due(for: subject(c), at: run.now) }
        emit(caseID, change(), &run)
        try transition(caseID, trigger, from: c.state, &run, rules, named: nil)
        return .ok(caseID: caseID, state: cases[caseID]!.state, dispatchID: nil)
    }

    private mutating func assign(_ a: Assign, _ run: inout Run, _ rules: Rules) throws(WireError) -> Reply {
        guard let c = cases[a.caseID] else { throw WireError(.unknownCase, "no case \(a.caseID)") }
        for (field, code) in [("lead", a.lead)] + (a.assists ?? []).enumerated().map({ ("assists[\($0.offset)]", $0.element) })
        where rules.routing.agencies[code] == nil {
            throw .badField(field, "unknown agency \"\(code)\"")
        }
        guard Lifecycle.row(c.state, .assign) != nil else {
            throw WireError(.invalidTransition, "cannot assign case \(a.caseID): it is \(c.state.rawValue) (\(c.state.chinese))", state: c.state.rawValue)
        }
        run.due = try rules.due(for: subject(c), at: run.now)
        emit(a.caseID, .assigned(lead: a.lead, assists: a.assists ?? [], note: a.note), &run)
        try transition(a.caseID, .assign, from: c.state, &run, rules, named: Routing.Owners(lead: a.lead, assists: a.assists ?? []))
        return .ok(caseID: a.caseID, state: cases[a.caseID]!.state, dispatchID: openDispatches[a.caseID]?.first)
    }

    // MARK: the table's effects

    /// Carries out a row's state change and effects. The act's own fact has been emitted.
    /// `from` is the state before the act's fact was applied.
    private mutating func transition(_ id: String, _ trigger: Lifecycle.Trigger, from: CaseState, _ run: inout Run, _ rules: Rules,
                                     named: Routing.Owners?) throws(WireError) {
        let c = cases[id]!
        guard let row = Lifecycle.row(from, trigger) else {
            throw WireError(.invalidTransition, "cannot \(trigger.verb) case \(id): it is \(from.rawValue)", state: from.rawValue)
        }
        for effect in row.effects where effect == .withdrawOpen {
            for d in openDispatchRecords(of: id) { emit(id, .cancelled(dispatchID: d.dispatchID), &run) }
        }
        switch row.to {
        case .triage where from != .triage: emit(id, .triage(reason: "returned"), &run)
        case .consultation: emit(id, .consultation, &run)
        default: break
        }
        for effect in row.effects {
            switch effect {
            case .dispatchRouted:
                let owners = rules.routing.owners(category: c.category, grid: c.grid, grids: rules.grids, excluding: cases[id]!.returnedBy)!
                dispatch(id, owners, &run, rules)
            case .dispatchAssigned:
                dispatch(id, named!, &run, rules)
            case .newRoundToLead:
                for d in openDispatchRecords(of: id) { emit(id, .cancelled(dispatchID: d.dispatchID), &run) }
                dispatch(id, Routing.Owners(lead: c.lead!, assists: []), &run, rules)
            case .reroute:
                // The row already put it at the triage queue; record nothing more if no one is left.
                try route(id, &run, rules, reasonIfNone: nil)
            case .close:
                for d in openDispatchRecords(of: id) { emit(id, .cancelled(dispatchID: d.dispatchID), &run) }
                emit(id, .closed, &run)
            case .withdrawOpen, .countReport:
                break
            }
        }
    }

    /// A ladder rung comes due: the escalation fact (and with it a NOTICE), once. Nothing if the
    /// clock stopped or the rung already fired.
    public mutating func fire(_ timerID: String, now: Date) -> [Fact] {
        guard let t = timers[timerID], t.due <= now else { return [] }
        let fact = Fact(caseID: t.caseID, at: now, actor: Actor.broker.adapter, change: .escalated(t))
        apply(fact)
        return [fact]
    }

    /// Starts the case's own clocks for the state the decision left it in: triage while it waits
    /// at the centre (研判, 会商); verification and the follow-up call once it is finished.
    /// Only when the decision moved the case into its state: a clock runs once per stay.
    private mutating func settleClocks(_ id: String, _ run: inout Run, _ rules: Rules) {
        guard let c = cases[id], run.facts.contains(where: { $0.caseID == id && $0.change.entersState }) else { return }
        let running = Set((timersByOwner[id] ?? []).compactMap { timers[$0]?.clock })
        let clocks: [ClockKind] = switch c.state {
        case .triage, .consultation: [.triage]
        case .finished: [.verify, .evaluate]  // 回访 runs from the finish, verified or not
        default: []
        }
        let fired = Set(run.facts.compactMap { f -> ClockKind? in
            if case .escalated(let t) = f.change, t.caseID == id, t.dispatchID == nil { return t.clock } else { return nil }
        })
        var list: [LadderTimer] = []
        for clock in clocks where !running.contains(clock) && !fired.contains(clock) {
            guard let deadline = try? rules.sla.deadline(clock, for: subject(c), from: run.now, calendar: rules.calendar) else { continue }
            list += rules.sla.ladder(clock, caseID: id, dispatch: nil, start: run.now, deadline: deadline, calendar: rules.calendar)
                .filter { timers[$0.id] == nil }
        }
        if !list.isEmpty { emit(id, .scheduled(list), &run) }
    }

    private mutating func dispatch(_ id: String, _ owners: Routing.Owners, _ run: inout Run, _ rules: Rules) {
        let c = cases[id]!
        let round = c.round + 1
        for (agency, role) in [(owners.lead, DispatchRole.lead)] + owners.assists.map({ ($0, DispatchRole.assist) }) {
            let due = run.due!  // set before the decision's first fact (see Run.due)
            let d = DispatchRecord(
                dispatchID: ids.nextDispatch(), caseID: id, agency: agency, role: role, round: round, state: .sent,
                sentAt: run.now, ackBy: due.ackBy, resolveBy: due.resolveBy, returnBy: due.returnBy)
            emit(id, .dispatched(d), &run)
            let ladders = rules.sla.ladder(.ack, caseID: id, dispatch: d, start: d.sentAt, deadline: d.ackBy, calendar: rules.calendar)
                + rules.sla.ladder(.resolve, caseID: id, dispatch: d, start: d.sentAt, deadline: d.resolveBy, calendar: rules.calendar)
            if !ladders.isEmpty { emit(id, .scheduled(ladders), &run) }
        }
    }
}
