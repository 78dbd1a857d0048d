import Foundation
import MusterCore
import MusterWire

/// A peer that said HELLO: its claims, its window and what it has not yet received.
/// A class: every request and reply looks its session up, and a struct this size was copied
/// whole by each look-up (its HELLO, key and claims retained and released: ~2 % of the
/// broker's samples in `perf`, 1.9 % of a lifecycle's instructions). Only the broker's thread holds one.
final class Session {
    let routingID: [UInt8]
    let sessionID: String
    let actor: Actor
    /// The CURVE key it authenticated with, and the HELLO it was admitted with (CURVE only).
    let publicKey: String?
    let hello: Hello?
    /// Grid prefixes (or dedicated grid codes) it serves; empty: everywhere.
    let jurisdictions: [String]
    /// At most this many pushes unreceived at once (HELLO `window`).
    let window: Int
    var lastHeard: Date
    var lastSent: Date
    /// Outbox deliveries sent and not yet RECEIVED, with when they were last sent.
    var inFlight: [Int64: Date] = [:]
    /// SUBSCRIBE: the last event seq sent, the filter, and events in flight by seq.
    var subscription: Subscription?

    init(routingID: [UInt8], sessionID: String, actor: Actor, publicKey: String?, hello: Hello?, jurisdictions: [String],
         window: Int, lastHeard: Date, lastSent: Date) {
        self.routingID = routingID; self.sessionID = sessionID; self.actor = actor; self.publicKey = publicKey
        self.hello = hello; self.jurisdictions = jurisdictions; self.window = window
        self.lastHeard = lastHeard; self.lastSent = lastSent
    }

    struct Subscription {
        var sentThrough: Int64
        var types: Set<String>?
        var inFlight: [Int64: Date] = [:]
        /// Sent but unreceived events, kept to resend without a store read.
        var unreceived: [Int64: [UInt8]] = [:]
    }

    var inFlightCount: Int { inFlight.count + (subscription?.inFlight.count ?? 0) }
    var hasRoom: Bool { inFlightCount < window }

    func serves(grid: String, in grids: GridMap) -> Bool {
        // `grid` may itself be a dedicated grid's code (a whistle blown on 二七塔商圈).
        jurisdictions.isEmpty || jurisdictions.contains { $0 == grid || grids.covers($0, grid) }
    }
}
