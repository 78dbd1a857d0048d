import Foundation
import MusterCore
import MusterWire

/// A peer that said HELLO: its claims, its window and what it has not yet received.
struct Session {
    let routingID: [UInt8]
    let sessionID: String
    let actor: Actor
    /// The CURVE key it authenticated with, and the HELLO it was admitted with (CURVE only).
    var publicKey: String?
    var hello: Hello?
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
