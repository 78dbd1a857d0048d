import DequeModule

/// The open cases in memory, the longest untouched first. A finished case leaves memory once it
/// is durable; an open one stays while someone may act on it soon, but not without bound: past
/// the broker's `maxOpenCasesInMemory` the longest untouched leave (`Ledger.release`) and are read
/// back when a command or a rung names them, as after a restart. Holding every open case kept
/// ~5 KB each and, while their number grew, cost a tenth of the broker's time in page faults and
/// in doubling the ledger's tables (docs/PERFORMANCE.md, issue 16's seventh round).
struct HeldCases {
    /// Touches in order. An entry whose stamp is not its case's latest is stale, and skipped.
    private var order = Deque<(caseID: String, stamp: Int)>()
    private var latest: [String: Int] = [:]
    private var stamps = 0

    /// `caseID` is in memory and was just changed or read back: it is the newest.
    mutating func touch(_ caseID: String) {
        stamps += 1
        latest[caseID] = stamps
        order.append((caseID, stamps))
        // A case touched again and again leaves stale entries behind: drop them now and then.
        if order.count > 2 * latest.count + 1_024 { order = Deque(order.filter { latest[$0.caseID] == $0.stamp }) }
    }

    /// `caseID` left memory another way (finished).
    mutating func forget(_ caseID: String) { latest[caseID] = nil }

    /// Takes up to `n` of the longest untouched, passing over `busy` ones — changed by a batch
    /// still in flight, whose completion touches them again.
    mutating func takeOldest(_ n: Int, except busy: (String) -> Bool) -> [String] {
        var taken: [String] = []
        while taken.count < n, let e = order.popFirst() {
            guard latest[e.caseID] == e.stamp, !busy(e.caseID) else { continue }
            latest[e.caseID] = nil
            taken.append(e.caseID)
        }
        return taken
    }
}
