@testable import MusterCore
import Foundation

/// Tests name a rung by its id alone; the ledger finds one by its owner, then its id.
extension WaitingRungs {
    subscript(id: String) -> LadderTimer? { all.first { $0.id == id } }
}

extension Ledger {
    /// Fires the rung of this id, whoever owns it (none waiting: nothing happens, as for a stopped clock).
    mutating func fire(_ id: String, now: Date) -> Decision {
        fire(id, of: timers[id]?.owner ?? "", now: now)
    }
}
