import Crypto
import Foundation
import MusterWire

/// 信访: a petition's course beside its case (PetitionMachine). Facts of the case that are the
/// petition table's triggers move it in `advancePetition`, during `apply`, so replay takes the
/// rows the decisions took; a row's effects that need the calendar run in `emit`, right after
/// their fact.
extension Ledger {
    // MARK: repeats (Art. 19, 36)

    /// The petitioner (ID number, else name and phone) and the petition's facts (category, grid
    /// cell, address) as one SHA-256 digest: the projection and the log never hold the identity.
    /// Nil for an anonymous petition (nothing to tell a repeat by).
    public static func repeatKey(_ reporter: Reporter?, category: String, grid: String, address: String?) -> String? {
        guard let r = reporter, r.anonymous != true else { return nil }
        let who: String
        if let id = r.idNumber {
            who = "id\u{1F}" + id.uppercased()
        } else if let name = r.name?.trimmedSpaces, !name.isEmpty, let phone = r.phone {
            who = "name\u{1F}" + name + "\u{1F}" + phone
        } else {
            return nil
        }
        let text = who + "\u{1E}" + category + "\u{1F}" + grid + "\u{1F}" + (address?.trimmedSpaces ?? "")
        let hex = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for b in SHA256.hash(data: Data(text.utf8)) { out.append(hex[Int(b >> 4)]); out.append(hex[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// Indexes a petition under its repeat key, oldest first.
    public mutating func indexPetition(_ c: CaseRecord) {
        guard let key = c.petition?.repeatKey else { return }
        var ids = petitionsByKey[key] ?? []
        guard !ids.contains(c.caseID) else { return }
        ids.insert(c.caseID, at: ids.firstIndex { $0 > c.caseID } ?? ids.endIndex)
        petitionsByKey[key] = ids
    }

    /// A SUBMIT with `source: petition` registers (登记) one: whom it is about, and whether it
    /// repeats an earlier one of the same petitioner and facts — in process: merged into it
    /// (Art. 19); 终结: refused with that record (Art. 36); settled: taken, marked a repeat.
    func register(_ c: SubmittedCase, category: String, grid: String, _ run: Run) throws(WireError) -> (PetitionRecord, mergeInto: String?) {
        let about = try Ledger.known(c.petition?.about ?? [], field: "case.petition.about", run.rules)
        var record = PetitionRecord(repeatKey: Ledger.repeatKey(c.reporter, category: category, grid: grid, address: c.location.address),
                                    about: about)
        let earlier = (record.repeatKey.flatMap { petitionsByKey[$0] } ?? []).compactMap { cases[$0] }
        if let done = earlier.last(where: { $0.petition?.state == .concluded }) {
            let last = done.petition?.notices.last
            throw WireError(.repeatPetition, "the same petition was 终结 as case \(done.caseID)"
                            + (done.petition?.endedAt.map { " on " + Timestamp.format($0) } ?? "")
                            + (last.map { " (\($0.kind.chinese)\($0.number.map { " " + $0 } ?? ""))" } ?? "")
                            + ": the same facts and reasons are not accepted again (信访工作条例第三十六条)", state: PetitionState.concluded.rawValue)
        }
        if let open = earlier.last(where: { !($0.petition?.state.isTerminal ?? true) }) {
            record.repeatOf = open.caseID
            return (record, open.caseID)
        }
        record.repeatOf = earlier.last?.caseID
        return (record, nil)
    }

    // MARK: the table

    /// The petition trigger a fact of its case is, if any.
    func petitionTrigger(_ change: Fact.Change) -> PetitionMachine.Trigger? {
        switch change {
        case .dispatched(let d): d.role == .lead ? .forward : nil
        case .acked(let did, _, _): dispatches[did]?.role == .lead ? .accept : nil
        case .resolved(_, let lead, _, _, _): lead ? .answer : nil
        case .returned(let did, _, _): dispatches[did]?.role == .lead ? .uphold : nil
        case .merged: .merge
        case .rejected: .reject
        case .petitionNotified(let n):
            switch n.kind {
            case .acceptance: .tell
            case .`extension`: .tellExtension
            case .reply: .serveReply
            case .review: .serveReview
            case .recheck: .serveRecheck
            }
        case .petitionObjected: .object
        case .petitionRuled(let upheld, _): upheld ? nil : .overrule  // upheld: the `returned` that follows
        case .petitionRequested(let kind, _, _): kind == .review ? .requestReview : .requestRecheck
        case .petitionWindowClosed: .windowCloses
        case .petitionRepeat(let split, _): split ? .split : .confirm
        case .escalated(let t): ClockKind.petition.contains(t.clock) ? .rungDue : nil
        default: nil
        }
    }

    func holds(_ g: PetitionMachine.Guard, _ p: PetitionRecord, _ d: DispatchRecord?, at now: Date) -> Bool {
        switch g {
        case .untold: !p.told
        case .extensionUntold: (d?.extensions ?? 0) > p.extensionsTold
        case .windowOpen: p.windowCloses.map { now < $0 } ?? false
        }
    }

    /// The lead dispatch now (the extension guard reads it).
    func leadDispatch(of caseID: String) -> DispatchRecord? {
        (dispatchesOfCase[caseID] ?? []).reversed().lazy.compactMap { self.dispatches[$0] }.first { $0.role == .lead }
    }

    /// The row the fact takes in its petition's table, read before the fact changes anything.
    func petitionRow(for fact: Fact) -> PetitionMachine.Row? {
        // The trigger first: a fact without one (the clocks', a verify, a close…) needs no look-up of its case.
        guard let trigger = petitionTrigger(fact.change), let p = cases[fact.caseID]?.petition else { return nil }
        let lead = leadDispatch(of: fact.caseID)
        return PetitionMachine.table.outcome(p.state, trigger) { holds($0, p, lead, at: fact.at) }.row
    }

    /// Moves the petition by the row its fact takes and stops the clocks the row stops.
    mutating func advancePetition(_ fact: Fact, _ fp: inout Footprint) {
        guard let row = petitionRow(for: fact) else { return }
        cases[fact.caseID]!.petition!.state = row.to
        for case .stop(let clocks) in row.effects { removeTimers(of: fact.caseID, clocks: clocks, &fp) }
    }

    /// The row an act would take, or the refusal naming the petition's state.
    func petitionRow(_ c: CaseRecord, _ trigger: PetitionMachine.Trigger, verb: String, at now: Date) throws(WireError) -> PetitionMachine.Row {
        let p = c.petition!
        switch PetitionMachine.table.outcome(p.state, trigger, holds: { holds($0, p, leadDispatch(of: c.caseID), at: now) }) {
        case .take(let row): return row
        case .blocked(.windowOpen):
            throw WireError(.windowClosed, "the window to \(verb) closed at \(p.windowCloses.map(Timestamp.format) ?? "?") (30 日 from the document served; 信访工作条例第三十五、三十六条)",
                            state: p.state.rawValue)
        case .blocked(.untold):
            throw WireError(.invalidTransition, "the petitioner of \(c.caseID) was told already (受理告知书 served)", state: p.state.rawValue)
        case .blocked(.extensionUntold):
            throw WireError(.invalidTransition, "no extension of \(c.caseID) is waiting to be told", state: p.state.rawValue)
        case .none:
            throw WireError(.invalidTransition, "cannot \(verb) petition \(c.caseID): it is \(p.state.rawValue) (\(p.state.chinese))", state: p.state.rawValue)
        }
    }

    /// A department's act on a petition's lead dispatch must suit the petition too: no 受理
    /// while its objection waits for the ruling; a return only by that ruling (Art. 23). Any other
    /// act goes (a later round's ACK and RESOLVE move the case; the petition has moved on).
    func checkPetition(_ d: DispatchRecord, _ c: CaseRecord, _ trigger: DispatchMachine.Trigger, _ run: Run) throws(WireError) {
        guard let p = c.petition, d.role == .lead else { return }
        switch trigger {
        case .ack where p.state == .objected:
            throw WireError(.invalidTransition, "petition \(c.caseID) waits for the petition office's ruling on \(p.objection?.agency ?? "the unit")'s objection",
                            state: p.state.rawValue)
        case .return:
            throw WireError(.returnRefused, "a petition is not returned by its unit: object with PETITION act object within the return window; "
                            + "it is returned when the petition office agrees (信访工作条例第二十三条)")
        default: break
        }
    }

    // MARK: the effects

    /// Runs the decide-time effects of the petition row `fact` took (its clocks; the 60 日 from
    /// acceptance). Called by `emit` right after the fact.
    mutating func performPetition(_ row: PetitionMachine.Row, on id: String, after fact: Fact, _ run: inout Run) {
        for effect in row.effects {
            switch effect {
            case .stop, .escalate: break  // applied with the fact; the rung's fact is `fire`'s
            case .startClocks: startPetitionClocks(id, from: startOfClocks(fact), &run)
            case .handleFromAcceptance:
                if case .acked(let did, _, _) = fact.change { handleFromAcceptance(did, &run) }
            }
        }
    }

    /// A document's windows run from when it was served; everything else from the act.
    private func startOfClocks(_ fact: Fact) -> Date {
        if case .petitionNotified(let n) = fact.change { return n.servedAt }
        return fact.at
    }

    /// The end of a petition's statutory period: its last day's end (期间届满日 24:00), moved
    /// past days off by the calendar. The day it starts is not counted (the law's rule).
    func petitionDeadline(_ clock: ClockKind, of c: CaseRecord, from start: Date, _ rules: Rules) throws(WireError) -> Date {
        do {
            let end = try rules.sla.deadline(clock, for: subject(c), from: start, calendar: rules.calendar)
            return Ledger.endOfDay(end)
        } catch {
            throw WireError(.unavailable, "cannot compute the petition's \(clock.rawValue) deadline: \(error)")
        }
    }

    /// 24:00 of the day `t` falls on.
    static func endOfDay(_ t: Date) -> Date { CivilDay(ordinal: CivilDay(t).ordinal + 1).start }

    /// Starts the clocks of the state the petition is in: at registration (and when split off)
    /// 转送 unless it was forwarded at once, and 告知 unless told; after a request, the ladder of
    /// its decision; after a document that opens a window (答复意见书, 复查意见书), the window,
    /// whose end is a trigger (`window_closes`), not a rung.
    mutating func startPetitionClocks(_ id: String, from start: Date, _ run: inout Run) {
        guard let c = cases[id], let p = c.petition else { return }
        let clocks: [ClockKind] = switch p.state {
        case .registered, .forwarded, .objected, .accepted, .answered:
            (p.state == .registered ? [.transfer] : []) + (p.told ? [] : [.notify])
        default: PetitionMachine.clocks(of: p.state)
        }
        let rules = run.rules
        var list: [LadderTimer] = []
        for clock in clocks {
            if PetitionMachine.windows.contains(clock) {
                guard let closes = p.windowCloses else { continue }
                list.append(LadderTimer(id: "\(id)/\(clock.rawValue)/0", caseID: id, dispatchID: nil, agency: nil, clock: clock, rung: 0, level: 0,
                                        notice: "window_closed", to: [], due: closes, deadline: closes))
            } else if let deadline = try? petitionDeadline(clock, of: c, from: start, rules) {
                list += rules.sla.ladder(clock, caseID: id, dispatch: nil, start: start, deadline: deadline, calendar: rules.calendar)
            }
        }
        schedule(id, list.filter { !timers.holds($0) }, &run)  // a clock already running goes on
    }

    /// 受理: the lead's finish deadline becomes 60 日 from now (Art. 34); its rungs follow.
    private mutating func handleFromAcceptance(_ did: String, _ run: inout Run) {
        guard let d = dispatches[did], let c = cases[d.caseID],
              let resolveBy = try? petitionDeadline(.resolve, of: c, from: run.now, run.rules) else { return }
        emit(c.caseID, .deadlinesMoved(dispatchID: did, ackBy: d.ackBy, resolveBy: resolveBy, returnBy: d.returnBy,
                                       reason: "受理：自受理之日起60日内办结（信访工作条例第三十四条）"), &run)
        let moved = dispatches[did]!
        schedule(c.caseID, run.rules.sla.ladder(.resolve, caseID: c.caseID, dispatch: moved, start: run.now, deadline: resolveBy,
                                                calendar: run.rules.calendar), &run)
    }

    /// A petition clock's timer comes due: a request window closes (`window_closes`), or a rung
    /// of its ladder fires (`rung_due`). Nothing if the row is not there any more.
    mutating func firePetition(_ t: LadderTimer, now: Date) -> Decision {
        guard let c = cases[t.caseID], let p = c.petition else { return Decision() }
        let window = PetitionMachine.windows.contains(t.clock)
        let row = PetitionMachine.table.outcome(p.state, window ? .windowCloses : .rungDue) { holds($0, p, nil, at: now) }.row
        guard let row, window || row.effects.contains(.escalate) else { return Decision() }
        var decision = Decision()
        let fact = Fact(caseID: t.caseID, at: now, actor: Actor.broker.adapter, change: window ? .petitionWindowClosed(t.clock) : .escalated(t))
        apply(fact, touching: &decision.touched)
        decision.facts = [fact]
        if !window { decision.actions = [.notice(t)] }
        return decision
    }
}

extension PetitionRecord {
    /// The data a petition fact carries (its state is the table's, set in `advancePetition`).
    mutating func record(_ fact: Fact) {
        switch fact.change {
        case .petitionNotified(let n):
            notices.append(n)
            if n.windowCloses != nil { windowCloses = n.windowCloses; decideBy = nil }
            if n.kind == .recheck { endedAt = n.servedAt; decideBy = nil }
        case .petitionObjected(let o):
            objection = o
        case .petitionRuled(let upheld, _):
            objection?.upheld = upheld
        case .petitionRequested(let kind, _, let by):
            if kind == .review { reviewRequestedAt = fact.at } else { recheckRequestedAt = fact.at }
            decideBy = by
            windowCloses = nil
        case .petitionWindowClosed:
            endedAt = fact.at
            windowCloses = nil
        default: break
        }
    }
}
