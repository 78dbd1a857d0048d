import Foundation
import MusterStore

/// A push in the broker's memory: the stored row plus where it is in delivery. A class: each
/// push is read where it is kept (sent, marked, received, resent), and as a value each of those
/// reads copied it, a retain and a release of each of its strings and bytes. Only the broker's
/// thread holds one.
final class PendingPush {
    var push: Batch.Push
    /// For agency pushes: the case's grid, to pick an instance that serves it.
    var grid: String?
    /// The session it was last sent to, if it is in flight.
    var sentTo: [UInt8]?
    /// The adapter it was last sent to, kept when its session ends: its RECEIVED may arrive on
    /// the adapter's next connection.
    var lastAdapter: String?
    /// The body was left on disk (the outbox row) to bound memory; read back when sent.
    var bodyOnDisk = false
    /// Its wire id, when this process made it: a RECEIVED is checked against it, not by HMAC.
    var wire: String?

    init(push: Batch.Push, grid: String?, wire: String?) {
        self.push = push; self.grid = grid; self.wire = wire
    }
}

/// Pushes not yet received, by delivery id, and per target the ones waiting for a session.
struct Outbox {
    private(set) var pending: [Int64: PendingPush] = [:]
    /// Target → deliveries waiting to be sent, oldest first.
    private(set) var waiting: [String: [Int64]] = [:]
    /// Bodies kept in memory at most; beyond, they stay in their outbox rows until sent, so an
    /// agency that stays away cannot grow the broker's memory by its backlog's bodies.
    var maxBodiesInMemory = 50_000
    private(set) var bodiesInMemory = 0
    /// Dispatch id → its pushes, so a withdrawal does not scan every pending push.
    private var byDispatch: [String: [Int64]] = [:]

    var count: Int { pending.count }

    /// Room for a start's pending pushes at once, instead of growing (and rehashing) by doubling.
    mutating func reserveCapacity(_ n: Int) {
        pending.reserveCapacity(n)
        byDispatch.reserveCapacity(n)
    }

    mutating func add(_ push: Batch.Push, grid: String?, wire: String? = nil) {
        let p = PendingPush(push: push, grid: grid, wire: wire)
        if bodiesInMemory >= maxBodiesInMemory || push.body.isEmpty {
            p.push.body = []
            p.bodyOnDisk = true
        } else {
            bodiesInMemory += 1
        }
        pending[push.delivery] = p
        waiting[push.target, default: []].append(push.delivery)
        if let d = push.dispatchID { byDispatch[d, default: []].append(push.delivery) }
    }

    /// Keeps a body read back from disk for resends while the push is in flight.
    mutating func restoreBody(_ delivery: Int64, _ body: [UInt8]) {
        guard let p = pending[delivery], p.bodyOnDisk else { return }
        p.push.body = body
        p.bodyOnDisk = false
        bodiesInMemory += 1
    }

    /// Received, or withdrawn: forget it. Returns the session it was in flight to.
    @discardableResult
    mutating func remove(_ delivery: Int64) -> PendingPush? {
        guard let p = pending.removeValue(forKey: delivery) else { return nil }
        if !p.bodyOnDisk { bodiesInMemory -= 1 }
        if let d = p.push.dispatchID {
            byDispatch[d]?.removeAll { $0 == delivery }
            if byDispatch[d]?.isEmpty == true { byDispatch[d] = nil }
        }
        if p.sentTo == nil { waiting[p.push.target]?.removeAll { $0 == delivery } }
        return p
    }

    func deliveries(ofDispatch id: String) -> [Int64] { byDispatch[id] ?? [] }

    mutating func markSent(_ delivery: Int64, to session: [UInt8], adapter: String) {
        guard let p = pending[delivery] else { return }
        p.sentTo = session
        p.lastAdapter = adapter
    }

    /// Back to the front of its target's queue (its session died or was replaced).
    mutating func requeue(_ delivery: Int64) {
        guard let p = pending[delivery], p.sentTo != nil else { return }
        p.sentTo = nil
        var q = waiting[p.push.target, default: []]
        let at = q.firstIndex { $0 > delivery } ?? q.count
        q.insert(delivery, at: at)
        waiting[p.push.target] = q
    }

    /// Takes up to `limit` waiting deliveries of `target` that `accept` takes, in order.
    mutating func take(target: String, limit: Int, where accept: (PendingPush) -> Bool) -> [PendingPush] {
        guard limit > 0, let q = waiting[target], !q.isEmpty else { return [] }
        var taken: [PendingPush] = []
        var kept: [Int64] = []
        kept.reserveCapacity(q.count)
        for d in q {
            if taken.count < limit, let p = pending[d], accept(p) { taken.append(p) } else { kept.append(d) }
        }
        waiting[target] = kept.isEmpty ? nil : kept
        return taken
    }

    var targetsWaiting: [String] { Array(waiting.keys) }
}

extension Outbox {
    func waitingCount(target: String) -> Int { waiting[target]?.count ?? 0 }
}
