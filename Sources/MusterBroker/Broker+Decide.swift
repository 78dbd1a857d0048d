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
        // By index, here and in the loops that decide: `for p in pending` copies each request, a
        // retain and a release of each of its five references (~1 % of a lifecycle for three loops).
        // Each request's sender and key, made once for both uses below.
        let senders = pending.indices.map { i in
            sessions[pending[i].routingID].map { (actor: $0.actor, key: RequestKey(adapter: $0.actor.adapter, requestID: pending[i].requestID)) }
        }
        let keys = senders.compactMap { $0.flatMap { storedReplyKeys.mayBeStored($0.key) ? $0.key : nil } }
        storedReplyLookups.add(keys.count, ordering: .relaxed)
        let stored: [RequestKey: (command: String, body: [UInt8])]
        var admitted: [String] = []
        do {
            // What the commands read that has left memory (finished cases), back from the store in
            // one read with the replies to repeated ids, before any is decided. Nothing in flight
            // is ever missing from memory.
            var needs = Ledger.Needs()
            for i in pending.indices { needs.formUnion(pending[i].command.needs(rules)) }
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
        for i in pending.indices {
            guard let (actor, key) = senders[i] else { continue }
            let routingID = pending[i].routingID, requestID = pending[i].requestID
            if let again = thisBatch[key] {
                out.append(Outgoing(routingID: routingID, command: again.command, body: again.body, needsCommit: true, re: requestID))
                continue
            }
            if let earlier = uncommittedReplies[key], let j = inFlight.firstIndex(where: { $0.id == earlier.batch }) {
                // Decided in a batch not yet durable: answered with that batch, whatever becomes of it.
                inFlight[j].out.append(Outgoing(routingID: routingID, command: earlier.command, body: earlier.body, needsCommit: true, re: requestID))
                continue
            }
            if let again = stored[key] {
                out.append(Outgoing(routingID: routingID, command: Command(rawValue: again.command) ?? .ok, body: again.body, needsCommit: false, re: requestID))
                continue
            }
            switch ledger.decide(pending[i].command, by: actor, rules: rules, now: now) {
            case .failure(let e):
                if e.code == .forbidden {
                    refusals.note(adapter: actor.adapter, command: pending[i].command.name.rawValue, reason: e.message, nowMs: now.ms, logger: logger)
                }
                // A refusal reflects the ledger, which may hold facts not yet durable: it waits too.
                out.append(Outgoing(routingID: routingID, command: .error, body: Messages.error(re: requestID, e), needsCommit: true, re: requestID))
            case .success(let decision):
                dispatches += carryOut(decision, kept: pending[i].command.kept, now, &batch)
                let (command, body) = Messages.reply(re: requestID, decision.reply!, calendar: rules.calendar, now: now)
                batch.replies.append(Batch.StoredReply(adapter: actor.adapter, requestID: requestID, command: command, body: body, at: now))
                storedReplyKeys.insert(key)
                thisBatch[key] = (command, body)
                out.append(Outgoing(routingID: routingID, command: command, body: body, needsCommit: true, re: requestID))
            }
        }
    }
}
