import Foundation
import MusterCore
import MusterStore
import MusterWire

extension Broker {
    /// Carries out what a decision asks of the shell, into the batch: nothing is sent before the
    /// batch is durable. Returns the new dispatches, whose DISPATCH bodies are made once the
    /// whole batch is decided (`pushDispatches`), so no decision waits on a store read.
    func carryOut(_ decision: Decision, kept: [UInt8]?, _ now: Date, _ batch: inout Batch) -> [DispatchRecord] {
        batch.add(decision.facts, touched: decision.touched)
        var dispatches: [DispatchRecord] = []
        for action in decision.actions {
            switch action {
            case .push(let d): dispatches.append(d)
            case .notice(let t): notice(t, now, &batch)
            case .schedule(let rungs): for t in rungs where t.due <= timersInMemoryThrough { schedule(t) }
            case .withdraw(let id):
                batch.withdrawn.append(id)
                batch.withdrawnDeliveries += pendingDeliveries(ofDispatch: id)
            case .keepSubmitted(let id): batch.submitted[id] = kept ?? Array("{}".utf8)
            case .summon(let s): summon(s, now, &batch)
            case .alert(let h, let kind):
                lastDelivery += 1
                batch.pushes.append(Batch.Push(
                    delivery: lastDelivery, target: "role:ops", command: Command.notice.rawValue,
                    body: Messages.healthNotice(delivery: wireID(lastDelivery), h, kind: kind, now: now),
                    dispatchID: nil, createdAt: now))
            }
        }
        return dispatches
    }

    /// The stored pushes of a dispatch (or summons) not yet received: those in the outbox and
    /// those of batches still being committed, which reach the outbox when they are durable.
    func pendingDeliveries(ofDispatch id: String) -> [Int64] {
        outbox.deliveries(ofDispatch: id) + inFlight.flatMap { $0.pushes.lazy.filter { $0.dispatchID == id }.map(\.delivery) }
    }

    /// Reads back from the store what `needs` names and memory does not hold. Nothing in
    /// flight is ever missing from memory, so what the store has is the latest.
    /// Returns the cases it brought in, and the stored replies to `keys`, read with them (one
    /// reader for both).
    func admitMissing(_ needs: Ledger.Needs, repliesTo keys: [RequestKey] = []) throws
        -> (admitted: [String], replies: [RequestKey: (command: String, body: [UInt8])]) {
        var missing = ledger.missing(needs)
        if !missing.whistles.isEmpty {
            // Closed whistles left memory at a restart; with them, the cases they were blown on.
            for w in try store.whistles(missing.whistles) { ledger.admit(whistle: w) }
            missing = ledger.missing(needs)
        }
        // Nothing in flight: the writer has no commit to make, and its connection is free.
        let found = try store.lookUp(replies: keys, cases: missing, writerIdle: inFlight.isEmpty)
        var admitted: [String] = []
        for (c, ds) in found.cases where ledger.cases[c.caseID] == nil {
            ledger.admit(c, dispatches: ds)
            admitted.append(c.caseID)
        }
        return (admitted, found.replies)
    }

    /// Finished cases read back only to answer (a repeat, a refusal) and left unchanged go again
    /// at once: nothing in flight can have changed them, since they were not in memory. Open ones
    /// stay, held like the others (the batch's own are held when it is durable).
    func letGo(_ admitted: [String], unless touched: [String]) {
        guard !admitted.isEmpty else { return }
        let touched = Set(touched)
        for id in admitted where !touched.contains(id) {
            if ledger.cases[id]?.state.isTerminal == true { ledger.evict(id) }
            if ledger.cases[id] != nil { held.touch(id) }
        }
    }

    /// DISPATCHes for the batch's new dispatches, into its outbox rows. The submitted case is
    /// in this batch, in one not yet durable, or (a new round of an older case) in the store.
    func pushDispatches(_ list: [DispatchRecord], _ now: Date, _ batch: inout Batch) {
        for d in list {
            guard let c = ledger.cases[d.caseID] else { continue }
            let submitted = batch.submitted[d.caseID] ?? uncommittedSubmitted[d.caseID]?.bytes
                ?? ((try? store.submitted(caseID: d.caseID)) ?? nil) ?? Array("{}".utf8)
            lastDelivery += 1
            let delivery = lastDelivery
            // A petitioner is shown whole only to the handling unit's own desk (its lead dispatch,
            // an agency that contacts reporters); an assist sees the mask. The unit a petition is
            // about never gets its dispatch at all (routing and ASSIGN pass it over).
            let desk = (config.rules.routing.agencies[d.agency]?.contactsReporters ?? false) && (c.petition == nil || d.role == .lead)
            let shown = PersonalData.reporterShown(in: submitted, reveal: desk)
            batch.pushes.append(Batch.Push(
                delivery: delivery, target: "agency:\(d.agency)", command: Command.dispatch.rawValue,
                body: Messages.dispatch(delivery: wireID(delivery), d, c, submitted: shown, calendar: config.rules.calendar),
                dispatchID: d.dispatchID, createdAt: now, grid: c.grid))
        }
    }

    /// NOTICEs of a rung that fired, to whom it names.
    private func notice(_ t: LadderTimer, _ now: Date, _ batch: inout Batch) {
        let whistle = t.clock == .whistle ? ledger.whistles[t.caseID] : nil
        let title = whistle?.reason ?? (t.clock == .incident ? ledger.incidents[t.caseID]?.title : ledger.cases[t.caseID]?.title)
        // A stage's rungs stop when it is reached: the stage running is the one late.
        let stage = t.clock == .milestone ? ledger.dispatches[t.dispatchID ?? ""].flatMap { d in d.runningMilestone.map { d.milestones![$0].name } } : nil
        for target in noticeTargets(t) {
            lastDelivery += 1
            batch.pushes.append(Batch.Push(
                delivery: lastDelivery, target: target, command: Command.notice.rawValue,
                body: Messages.notice(delivery: wireID(lastDelivery), t, title: title, now: now, whistle: whistle, milestone: stage),
                dispatchID: nil, createdAt: now))
        }
    }

    /// SUMMON to the department, stored with the batch; its summon id stands in the outbox's
    /// dispatch column, so a release or a stand-down drops it if not yet received.
    private func summon(_ s: SummonRecord, _ now: Date, _ batch: inout Batch) {
        guard let w = ledger.whistles[s.whistleID] else { return }
        lastDelivery += 1
        batch.pushes.append(Batch.Push(
            delivery: lastDelivery, target: "agency:\(s.agency)", command: Command.summon.rawValue,
            body: Messages.summon(delivery: wireID(lastDelivery), s, w, grids: config.rules.grids),
            dispatchID: s.summonID, createdAt: now, grid: w.grid))
    }
}
