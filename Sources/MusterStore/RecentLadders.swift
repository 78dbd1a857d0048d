import DequeModule
import MusterCore

/// The `ladders` rows the store committed last, by owner, as they are on disk. A command that
/// changes an owner's rungs soon after they were written (a lifecycle's ACK, RESOLVE, VERIFY …
/// each stops or starts a clock) takes them from here instead of reading the row back and
/// parsing its JSON, which was half of such a commit. Only the committing thread uses it; a
/// batch's rows join it once the batch is durable, so it never holds what a rolled-back
/// transaction wrote. A deleted row is forgotten, so an owner found here always has a row.
struct RecentLadders {
    /// Owners kept at most (~1.1 KB each, measured); past it the longest kept leave one by
    /// one (a miss only costs the read it saves; dropping all at once stalled the commit).
    let maxOwners: Int
    private var rows: [String: [LadderTimer]] = [:]
    /// Owners in the order they were first kept. One whose row was deleted stays until it
    /// comes round or the queue is compacted.
    private var order = Deque<String>()

    init(maxOwners: Int = 10_000) { self.maxOwners = maxOwners }

    var count: Int { rows.count }

    func rungs(of owner: String) -> [LadderTimer]? { rows[owner] }

    /// A committed batch's rows: the rungs each owner has now, nil where its row was deleted.
    mutating func keep(_ committed: [(owner: String, rungs: [LadderTimer]?)]) {
        for (owner, rungs) in committed {
            if let rungs {
                if rows.updateValue(rungs, forKey: owner) == nil { order.append(owner) }
            } else {
                rows[owner] = nil
            }
        }
        while rows.count > maxOwners, let oldest = order.popFirst() { rows[oldest] = nil }
        // Deleted owners leave entries behind: dropped once they outnumber the live ones (a cost
        // in proportion to what is kept, not to all ever written).
        if order.count > 2 * rows.count + 1_024 { order = Deque(order.filter { rows[$0] != nil }) }
    }
}
