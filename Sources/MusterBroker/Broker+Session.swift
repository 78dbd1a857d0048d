import Foundation
import MusterCore
import MusterStore
import MusterWire

extension Broker {
    /// HELLO: registers (or replaces) the adapter's session and answers WELCOME. Its pushes
    /// waiting anywhere go out at once in the next delivery pass.
    func hello(_ rid: [UInt8], _ h: Hello, _ now: Date, _ out: inout [Outgoing], publicKey: String? = nil) {
        func fail(_ e: WireError) {
            out.append(Outgoing(routingID: rid, command: .error, body: Messages.error(re: h.id, e), needsCommit: false, re: h.id))
        }
        if h.roles.contains(.agency) || h.roles.contains(.supervisor), let a = h.agency, config.rules.routing.agencies[a] == nil {
            return fail(.badField("agency", "unknown agency \"\(a)\""))
        }
        let jurisdictions = h.jurisdictions ?? config.instanceJurisdictions[h.adapter] ?? []
        for (i, j) in jurisdictions.enumerated() where !config.rules.grids.exists(j) {
            return fail(.badField("jurisdictions[\(i)]", "unknown grid \"\(j)\""))
        }
        if let old = byAdapter[h.adapter], old != rid { drop(old, reason: "replaced by a new connection") }
        if sessions[rid] != nil { drop(rid, reason: "HELLO again") }
        sessionCounter += 1
        let sessionID = "S\(now.ms)-\(sessionCounter)"
        // An agency acts for its department; a supervisor watches one (or, without one, all).
        let actor = Actor(adapter: h.adapter, roles: Set(h.roles), agency: h.roles.contains(.agency) || h.roles.contains(.supervisor) ? h.agency : nil)
        sessions[rid] = Session(routingID: rid, sessionID: sessionID, actor: actor, publicKey: publicKey, hello: h,
                                jurisdictions: jurisdictions, window: h.window ?? 1000, lastHeard: now, lastSent: now)
        byAdapter[h.adapter] = rid
        let waiting = outbox.waitingCount(target: "adapter:\(h.adapter)")
            + (actor.agency.map { outbox.waitingCount(target: "agency:\($0)") } ?? 0)
        var w = JSONWriter()
        w.field("re", h.id)
        w.field("session", sessionID)
        w.field("heartbeat_ms", heartbeatMs)
        w.object("broker") { b in
            b.field("name", config.name)
            b.field("version", Broker.version)
        }
        w.field("pending", waiting)
        out.append(Outgoing(routingID: rid, command: .welcome, body: w.finish(), needsCommit: false, re: h.id))
        logger.info("session started", metadata: [
            "adapter": "\(h.adapter)", "roles": "\(h.roles.map(\.rawValue))", "agency": "\(h.agency ?? "-")",
            "software": "\(h.software ?? "-")", "pending": "\(waiting)"])
    }

    /// RECEIVED: the peer has these pushes; they leave memory now and their rows with the next
    /// commit (`unwrittenReceipts`). A delivery belongs to its recipient: the session it was
    /// sent to or, after a reconnect, the same adapter. An id this database never made (forged, guessed) or one sent to someone else
    /// is ignored, counted and logged — that is what a hostile or broken peer looks like, and no
    /// peer can make another's pushes vanish. An id no longer pending (received already, withdrawn)
    /// or pending for this peer but not yet sent since a restart is a routine repeat: ignored
    /// quietly.
    func received(_ rid: [UInt8], _ deliveries: [String], now: Date) {
        guard let session = sessions[rid] else { return }
        let adapter = session.actor.adapter
        var forged = 0, othersOwn = 0
        for d in deliveries {
            if d.hasPrefix("E"), let seq = Int64(d.dropFirst()) {
                session.subscription?.inFlight[seq] = nil
                session.subscription?.unreceived[seq] = nil
                continue
            }
            guard let n = store.deliveryIDs.number(d, known: { outbox.pending[$0]?.wire }) else { forged += 1; continue }
            guard let p = outbox.pending[n] else { continue }
            if p.sentTo == rid || p.lastAdapter == adapter {
                forget(n)
                unwrittenReceipts.append(n)
                if oldestUnwrittenReceipt == nil { oldestUnwrittenReceipt = now }
            } else if p.sentTo != nil || p.lastAdapter != nil || !mayReceive(rid, p.push.target) {
                othersOwn += 1
            }
        }
        guard forged + othersOwn > 0 else { return }
        ignoredReceipts.add(forged + othersOwn, ordering: .relaxed)
        ignoredReceiptLog.note(adapter: adapter, command: "RECEIVED",
                               reason: "\(forged) ids this broker never made, \(othersOwn) sent to another peer",
                               nowMs: now.ms, logger: logger, message: "RECEIVED for deliveries this peer was not sent: ignored")
    }

    /// Whether pushes for `target` may go to this session at all (its adapter, its agency, …).
    func mayReceive(_ rid: [UInt8], _ target: String) -> Bool {
        candidatesFor(target).contains(rid)
    }
}
