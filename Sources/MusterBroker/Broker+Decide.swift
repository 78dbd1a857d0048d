import Foundation
import MusterCore
import MusterStore
import MusterWire

extension Broker {
    /// Decides the batch's case commands in arrival order. A request id seen before (stored, or
    /// earlier in this batch) gets its first reply again and is not applied again.
    func decide(_ pending: [Pending], _ now: Date, _ batch: inout Batch, _ out: inout [Outgoing]) {
        guard !pending.isEmpty else { return }
        // Read once: each `config.rules` copies the rules, a retain for each of their parts.
        let rules = config.rules
        // Only ids that may have a stored reply are read (nearly every id is new).
        takeScannedRequestKeys()
        let keys = pending.compactMap { p in
            sessions[p.routingID].map { RequestKey(adapter: $0.actor.adapter, requestID: p.requestID) }.flatMap { storedReplyKeys.mayBeStored($0) ? $0 : nil }
        }
        storedReplyLookups.add(keys.count, ordering: .relaxed)
        let stored: [RequestKey: (command: String, body: [UInt8])]
        var admitted: [String] = []
        do {
            // What the commands read that has left memory (finished cases), back from the store in
            // one read with the replies to repeated ids, before any is decided. Nothing in flight
            // is ever missing from memory.
            var needs = Ledger.Needs()
            for p in pending { needs.formUnion(p.command.needs(rules)) }
            (admitted, stored) = try admitMissing(needs, repliesTo: keys)
        } catch {
            logger.error("request-id or working-set look-up failed", metadata: ["error": "\(error)"])
            for p in pending {
                out.append(Outgoing(routingID: p.routingID, command: .error,
                                    body: Messages.error(re: p.requestID, WireError(.unavailable, "the store cannot be read; nothing was applied")),
                                    needsCommit: false, re: p.requestID))
            }
            return
        }
        var thisBatch: [RequestKey: (command: Command, body: [UInt8])] = [:]
        var dispatches: [DispatchRecord] = []
        defer {
            pushDispatches(dispatches, now, &batch)
            letGo(admitted, unless: batch.touchedCases)
        }
        for p in pending {
            guard let actor = sessions[p.routingID]?.actor else { continue }
            let key = RequestKey(adapter: actor.adapter, requestID: p.requestID)
            if let again = thisBatch[key] {
                out.append(Outgoing(routingID: p.routingID, command: again.command, body: again.body, needsCommit: true, re: p.requestID))
                continue
            }
            if let pending = uncommittedReplies[key], let i = inFlight.firstIndex(where: { $0.id == pending.batch }) {
                // Decided in a batch not yet durable: answered with that batch, whatever becomes of it.
                inFlight[i].out.append(Outgoing(routingID: p.routingID, command: pending.command, body: pending.body, needsCommit: true, re: p.requestID))
                continue
            }
            if let again = stored[key] {
                out.append(Outgoing(routingID: p.routingID, command: Command(rawValue: again.command) ?? .ok, body: again.body, needsCommit: false, re: p.requestID))
                continue
            }
            switch ledger.decide(p.command, by: actor, rules: rules, now: now) {
            case .failure(let e):
                if e.code == .forbidden {
                    refusals.note(adapter: actor.adapter, command: p.command.name.rawValue, reason: e.message, nowMs: now.ms, logger: logger)
                }
                // A refusal reflects the ledger, which may hold facts not yet durable: it waits too.
                out.append(Outgoing(routingID: p.routingID, command: .error, body: Messages.error(re: p.requestID, e), needsCommit: true, re: p.requestID))
            case .success(let decision):
                dispatches += carryOut(decision, kept: p.command.kept, now, &batch)
                let (command, body) = Messages.reply(re: p.requestID, decision.reply!, calendar: rules.calendar, now: now)
                batch.replies.append(Batch.StoredReply(adapter: actor.adapter, requestID: p.requestID, command: command.rawValue, body: body, at: now))
                storedReplyKeys.insert(key)
                thisBatch[key] = (command, body)
                out.append(Outgoing(routingID: p.routingID, command: command, body: body, needsCommit: true, re: p.requestID))
            }
        }
    }
}
