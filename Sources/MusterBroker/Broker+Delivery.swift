import Foundation
import MusterCore
import MusterStore
import MusterWire

extension Broker {
    /// Sends waiting pushes to live sessions with room in their window, and events to
    /// subscribers. An agency's dispatch goes to the least-loaded live instance that serves
    /// the case's grid; if none serves it, to any live instance (a gap is never allowed).
    func deliver(_ now: Date) {
        for target in outbox.targetsWaiting {
            var candidates = candidatesFor(target)
            guard !candidates.isEmpty else { continue }
            candidates.sort { (sessions[$0]?.inFlightCount ?? 0) < (sessions[$1]?.inFlightCount ?? 0) }
            let grids = config.rules.grids
            for rid in candidates {
                guard let s = sessions[rid], s.hasRoom else { continue }
                let others = candidates.compactMap { sessions[$0] }
                let taken = outbox.take(target: target, limit: s.window - s.inFlightCount) { p in
                    guard let grid = p.grid else { return true }
                    return s.serves(grid: grid, in: grids) || !others.contains { $0.serves(grid: grid, in: grids) }
                }
                for p in taken {
                    if let body = body(of: p), send(rid, Command(rawValue: p.push.command) ?? .dispatch, body) {
                        outbox.markSent(p.push.delivery, to: rid, adapter: s.actor.adapter)
                        sessions[rid]?.inFlight[p.push.delivery] = now
                    } else {
                        outbox.markSent(p.push.delivery, to: rid, adapter: s.actor.adapter)
                        outbox.requeue(p.push.delivery)
                    }
                }
            }
        }
        for rid in subscribers where sessions[rid]?.hasRoom == true {
            feed(rid, now)
        }
    }

    /// A push's body, from memory or read back from its outbox row; nil when it cannot be sent
    /// now (it is tried again) or ever (it is forgotten). Never an empty body in its place.
    func body(of p: PendingPush) -> [UInt8]? {
        guard p.bodyOnDisk else { return p.push.body }
        let delivery = p.push.delivery
        do {
            if let body = try store.pushBody(delivery: delivery) {
                outbox.restoreBody(delivery, body)
                return body
            }
        } catch {
            logger.warning("a push's body could not be read; tried again", metadata: ["delivery": "\(delivery)", "error": "\(error)"])
            return nil
        }
        // The row is gone. A batch withdrawing its dispatch has committed on the writer's thread
        // and forgets the push when it completes here; anything else took a row it should not have.
        let withdrawing = p.push.dispatchID.map { d in inFlight.contains { $0.withdrawn.contains(d) } } ?? false
        if !withdrawing {
            logger.error("outbox row missing for a pending push; it cannot be sent", metadata: ["delivery": "\(delivery)"])
            forget(delivery)
        }
        return nil
    }

    /// The live sessions a push target may go to.
    func candidatesFor(_ target: String) -> [[UInt8]] {
        let (kind, name) = target.firstIndex(of: ":").map { (String(target[..<$0]), String(target[target.index(after: $0)...])) } ?? (target, "")
        switch kind {
        case "adapter": return byAdapter[name].map { [$0] } ?? []
        case "agency": return sessions.values.filter { $0.actor.agency == name && $0.actor.roles.contains(.agency) }.map(\.routingID)
        case "supervisor":
            return sessions.values.filter { $0.actor.roles.contains(.supervisor) && ($0.actor.agency == name || $0.actor.agency == nil) }.map(\.routingID)
        case "role": return Role(rawValue: name).map { r in sessions.values.filter { $0.actor.roles.contains(r) }.map(\.routingID) } ?? []
        case "district":
            // A district government connects as a supervisor with its district as jurisdiction.
            return sessions.values.filter { s in
                s.actor.roles.contains(.supervisor) && s.jurisdictions.contains { GridMap.isPrefix($0, of: name) }
            }.map(\.routingID)
        default: return []
        }
    }

    /// Sends a subscriber the next events after what it was sent, in order, within its window.
    private func feed(_ rid: [UInt8], _ now: Date) {
        guard let s = sessions[rid], var sub = s.subscription, sub.sentThrough < committedSeq else { return }
        let room = s.window - s.inFlightCount
        // Taken out while it changes: a copy left in the session would share its dictionaries,
        // and the first change to each would copy all of it (up to the window's 1,000 entries).
        s.subscription = nil
        defer { s.subscription = sub }
        var next: [LoggedFact]
        if let first = recent.first, first.seq <= sub.sentThrough + 1 {
            let start = recent.firstIndex { $0.seq > sub.sentThrough } ?? recent.endIndex
            next = Array(recent[start...].prefix(room))  // recent holds committed facts only
        } else {
            next = ((try? store.facts(after: sub.sentThrough, limit: room)) ?? []).filter { $0.seq <= committedSeq }
        }
        let only = Self.departmentOnly(s.actor)
        for logged in next {
            if let types = sub.types, !types.contains(logged.type) { sub.sentThrough = logged.seq; continue }
            if let only, !department(only, maySee: logged.fact.caseID) { sub.sentThrough = logged.seq; continue }
            let body = Messages.event(logged, calendar: config.rules.calendar)
            guard send(rid, .event, body) else { break }
            sub.sentThrough = logged.seq
            sub.inFlight[logged.seq] = now
            sub.unreceived[logged.seq] = body
        }
    }
}
