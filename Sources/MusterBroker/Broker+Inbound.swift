import Foundation
import MusterCore
import MusterStore
import MusterWire

extension Broker {
    /// A message to send once the batch it answers is durable.
    struct Outgoing {
        var routingID: [UInt8]
        var command: Command
        var body: [UInt8]
        /// Replaced by `ERROR unavailable` if the commit fails.
        var needsCommit: Bool
        var re: String?
        /// The command it answers, for the metrics (set only when they are on).
        var request: Command? = nil
    }

    /// A case command, decoded, waiting for the idempotency look-up.
    struct Pending {
        var routingID: [UInt8]
        var command: CaseCommand
        var requestID: String { command.requestID }
    }

    /// Drains what is ready and decides it; the batch goes to the writer as one transaction and
    /// its replies wait until it is durable (completeBatches).
    func handleReady() {
        var messages: [[[UInt8]]] = []
        var users: [String?] = []
        while messages.count < Broker.maxBatch {
            do {
                guard let (frames, user) = try socket.receiveWithUser(dontWait: true) else { break }
                messages.append(frames)
                users.append(user)
            } catch {
                logger.warning("receive failed", metadata: ["error": "\(error)"])
                break
            }
        }
        guard !messages.isEmpty else { return }
        let now = clock.now()
        var out: [Outgoing] = []
        var pending: [Pending] = []
        var batch = Batch()
        /// Request id (with its peer) → its command, to label the answers (metrics on only).
        var asked: [Asked: Command] = [:]
        for (frames, user) in zip(messages, users) {
            guard frames.count >= 1 else { continue }
            let rid = frames[0]
            switch Envelope.parse(Array(frames.dropFirst())) {
            case .failure(let e):
                let re = frames.count == 4 ? BodyDecoder.requestID(in: frames[3]) : nil
                out.append(Outgoing(routingID: rid, command: .error, body: Messages.error(re: re, e), needsCommit: false, re: re))
            case .success(let env):
                if metrics != nil, env.command.isRequest, let re = BodyDecoder.requestID(in: env.body) { asked[Asked(routingID: rid, re: re)] = env.command }
                session(rid, env, now, &out, &pending, &batch, user: user)
            }
        }
        decide(pending, now, &batch, &out)
        if metrics != nil {
            for i in out.indices { if let re = out[i].re { out[i].request = asked[Asked(routingID: out[i].routingID, re: re)] } }
        }
        for o in out where !o.needsCommit { answer(o, o.command, o.body) }
        submit(&batch, waiting: out.filter(\.needsCommit), mayCommitHere: true)
    }

    /// A request in a batch: its peer and its id.
    struct Asked: Hashable { var routingID: [UInt8]; var re: String }

    /// Seals a decided batch and hands it to the writer; `waiting` is answered once it is durable.
    /// With `mayCommitHere`, a small batch while nothing else is in flight is committed and
    /// answered on this thread instead (the writer is idle: handing it over and back would only
    /// add two thread wake-ups to its latency); a large one, or one behind others, is pipelined.
    func submit(_ batch: inout Batch, waiting: [Outgoing], mayCommitHere: Bool = false) {
        guard !batch.isEmpty || !waiting.isEmpty else { return }
        if !unwrittenReceipts.isEmpty {
            batch.received += unwrittenReceipts
            unwrittenReceipts = []
            oldestUnwrittenReceipt = nil
        }
        batch.seal(from: ledger)
        batch.lastDelivery = lastDelivery
        nextBatchID += 1
        let id = nextBatchID
        metrics?.batchSize.record(waiting.count)
        let keys = batch.replies.map { RequestKey(adapter: $0.adapter, requestID: $0.requestID) }
        for (r, key) in zip(batch.replies, keys) {
            uncommittedReplies[key] = (id, r.command, r.body)
        }
        for (caseID, bytes) in batch.submitted { uncommittedSubmitted[caseID] = (id, bytes) }
        inFlight.append(InFlightBatch(id: id, epoch: epoch, out: waiting, pushes: batch.pushes, withdrawn: batch.withdrawn,
                                      received: batch.received, replyKeys: keys, submittedIDs: Array(batch.submitted.keys),
                                      cases: batch.sealedCases))
        let job = CommitWriter.Job(id: id, epoch: epoch, batch: batch, keepFacts: !subscribers.isEmpty)
        if mayCommitHere && inFlight.count == 1 && waiting.count <= Broker.maxCommittedHere {
            complete(busyTime.excluding { writer.commitHere(job) })
        } else {
            writer.submit(job)
        }
    }

    /// Answers the batches the writer has finished, in order. A failed batch, and every batch
    /// decided after it, is answered `unavailable`; the ledger is reloaded from the store.
    func completeBatches() {
        for done in writer.takeCompleted() { complete(done) }
    }

    private func complete(_ done: CommitWriter.Completion) {
        guard let i = inFlight.firstIndex(where: { $0.id == done.id }) else { return }
        let b = inFlight.remove(at: i)
        for key in b.replyKeys where uncommittedReplies[key]?.batch == b.id { uncommittedReplies[key] = nil }
        for caseID in b.submittedIDs where uncommittedSubmitted[caseID]?.batch == b.id { uncommittedSubmitted[caseID] = nil }
        switch done.result {
        case .success(let committed):
            settleVerdict(b.id, failure: nil, now: clock.now())
            health.committed(clock.now())
            for o in b.out { answer(o, o.command, o.body) }
            // As the transaction did: this batch's pushes in, then withdrawn dispatches' out.
            let withdrawn = Set(b.withdrawn)
            for d in b.withdrawn {
                for delivery in outbox.deliveries(ofDispatch: d) { forget(delivery) }
            }
            for p in b.pushes {
                let wire = madeWires.removeValue(forKey: p.delivery)
                if !(p.dispatchID.map(withdrawn.contains) ?? false) { outbox.add(p, grid: p.grid, wire: wire) }
            }
            if let last = committed.lastSeq {
                committedSeq = last
                // Kept to feed subscribers from memory. With none, none is kept (each fact a copy
                // and a release later): one who subscribes later is fed from the store until it
                // has caught up. Emptied, not left as it was: a stale tail would end its feed. So
                // too when a subscriber came after the batch was handed over without its facts.
                if let logged = committed.facts, !subscribers.isEmpty {
                    recent.append(contentsOf: logged)
                    if recent.count > 20_000 { recent.removeFirst(recent.count - 10_000) }
                } else {
                    recent.removeAll()
                }
            }
            // Finished cases leave memory now that they are durable (unless a later batch changed
            // them); open ones beyond the bound too, the longest untouched first.
            // (At most `maxBatchesInFlight` sets to ask: building their union cost more. Taken
            // out of `inFlight` once: read through `self` for each case, the array was retained
            // and released each time.)
            let laterSets = inFlight.map(\.cases)
            let later = { (c: String) in laterSets.contains { $0.contains(c) } }
            for c in b.cases where !later(c) {
                // By index: `ledger.cases[c]?.state` copied the whole record to read its state.
                // An open case (most) is looked up once; a finished one again after `evict`,
                // which keeps a petition whose windows still run.
                guard let i = ledger.cases.index(forKey: c) else { held.forget(c); continue }
                guard ledger.cases.values[i].state.isTerminal else { held.touch(c); continue }
                ledger.evict(c)
                if ledger.cases.index(forKey: c) != nil { held.touch(c) } else { held.forget(c) }
            }
            let excess = ledger.cases.count - maxOpenCasesInMemory
            if excess > 0 { for c in held.takeOldest(excess, except: later) { ledger.release(c) } }
            casesInMemory.store(ledger.cases.count, ordering: .relaxed)
        case .failure(let e):
            if b.epoch == epoch {
                logger.error("commit failed; answering unavailable and reloading", metadata: ["error": "\(e)"])
                epoch += 1
                held = HeldCases()
                do { ledger = try store.loadWorkingSet(timersDueBy: timersInMemoryThrough) } catch {
                    logger.critical("cannot reload the ledger", metadata: ["error": "\(error)"])
                }
                rebuildTimers()
            }
            calendarCommitFailed(clock.now())
            for p in b.pushes { madeWires[p.delivery] = nil }
            // Gone from memory already: their rows go with a later batch.
            unwrittenReceipts += b.received
            if !b.received.isEmpty, oldestUnwrittenReceipt == nil { oldestUnwrittenReceipt = clock.now() }
            settleVerdict(b.id, failure: e, now: clock.now())
            health.failed(clock.now(), e.description)
            for o in b.out {
                answer(o, .error, Messages.error(re: o.re, WireError(.unavailable, "the store could not commit; nothing was applied")))
            }
        }
    }

    /// The wire id of a push being made, kept until the push is in the outbox (`madeWires`).
    func wireID(_ delivery: Int64) -> String {
        let wire = store.deliveryIDs.wire(delivery)
        madeWires[delivery] = wire
        return wire
    }

    /// Deletes the outbox rows of the deliveries RECEIVED so far, in a batch of their own.
    func writeReceipts() {
        guard !unwrittenReceipts.isEmpty else { return }
        var batch = Batch()
        swap(&batch.received, &unwrittenReceipts)
        oldestUnwrittenReceipt = nil
        submit(&batch, waiting: [])
    }

    /// Removes a push from memory and from whichever session has it in flight.
    func forget(_ delivery: Int64) {
        if let p = outbox.remove(delivery), let rid = p.sentTo { sessions[rid]?.inFlight[delivery] = nil }
    }

    // MARK: session-level commands

    private func session(_ rid: [UInt8], _ env: Envelope, _ now: Date, _ out: inout [Outgoing], _ pending: inout [Pending], _ batch: inout Batch,
                         user: String?) {
        func reply(_ command: Command, _ body: [UInt8], re: String? = nil) {
            out.append(Outgoing(routingID: rid, command: command, body: body, needsCommit: false, re: re))
        }
        func fail(_ e: WireError, re: String? = BodyDecoder.requestID(in: env.body)) {
            reply(.error, Messages.error(re: re, e), re: re)
        }
        if env.command == .hello {
            switch BodyDecoder.decode(Hello.self, from: env.body) {
            case .failure(let e): fail(e)
            case .success(let h):
                if config.security != nil {
                    // CURVE is on: the HELLO's claims must fit the key's principal.
                    guard let p = principal(ofKey: user) else { return fail(WireError(.forbidden, "this connection's key is no longer admitted")) }
                    if let refusal = p.refusal(of: h) {
                        logger.warning("HELLO refused", metadata: ["principal": "\(p.name)", "adapter": "\(h.adapter)", "reason": "\(refusal.message)"])
                        return fail(refusal)
                    }
                }
                hello(rid, h, now, &out, publicKey: user)
            }
            return
        }
        guard let session = sessions[rid] else {
            fail(WireError(.notRegistered, "say HELLO first"))
            return
        }
        session.lastHeard = now
        let actor = session.actor
        if let limit = config.rateLimit, env.command != .heartbeat, env.command != .received, env.command != .bye {
            var bucket = buckets[actor.adapter] ?? TokenBucket(rate: limit.perSecond, burst: limit.burst, now: now)
            let allowed = bucket.take(now: now)
            buckets[actor.adapter] = bucket
            guard allowed else {
                fail(WireError(.rateLimited, "more than \(Int(limit.perSecond)) requests a second (burst \(limit.burst)) from \(actor.adapter); nothing was applied"))
                return
            }
        }
        if env.command.isRequest, env.command != .heartbeat, env.command != .bye, env.command != .received,
           !Permissions.allows(actor.roles, env.command) {
            let e = WireError(.forbidden, "roles \(actor.roles.map(\.rawValue).sorted()) may not send \(env.command.rawValue)")
            refusals.note(adapter: actor.adapter, command: env.command.rawValue, reason: e.message, nowMs: now.ms, logger: logger)
            fail(e)
            return
        }
        if let decoded = CaseCommands.decode(env.command, env.body) {
            switch decoded {
            case .failure(let e): fail(e)
            case .success(let c): pending.append(Pending(routingID: rid, command: c))
            }
            return
        }
        switch env.command {
        case .heartbeat: break
        case .bye: drop(rid, reason: "BYE")
        case .received:
            switch BodyDecoder.decodePlain(Received.self, from: env.body) {
            case .failure(let e): fail(e, re: nil)
            case .success(let r): received(rid, r.deliveries, now: now)
            }
        case .subscribe:
            switch BodyDecoder.decode(Subscribe.self, from: env.body) {
            case .failure(let e): fail(e)
            case .success(let s):
                let after = max(0, s.after ?? committedSeq)
                session.subscription = Session.Subscription(sentThrough: after, types: s.types.map(Set.init))
                subscribers.insert(rid)
                reply(.ok, Messages.ok(re: s.id) { $0.field("after", after); $0.field("head", committedSeq) })
            }
        case .query:
            switch BodyDecoder.decode(Query.self, from: env.body) {
            case .failure(let e): fail(e)
            case .success(let q):
                let (command, body) = query(q, now, actor)
                reply(command, body, re: q.id)
            }
        default:
            fail(WireError(.unknownCommand, "\(env.command.rawValue) is sent by the broker, not to it"))
        }
    }
}
