/// The events cursor of a plugin that follows events: arrivals in seq order (the client's
/// thread), each handled on a task of its own (`EventTurns` takes them in turn). The cursor may
/// move only below the lowest event still being handled, so that a restart — which SUBSCRIBEs
/// after the cursor — gets again every event not yet handled (handlers take an event twice
/// without harm).
struct EventCursor: Sendable {
    private var inFlight: Set<Int64> = []
    private var highestHandled: Int64?

    mutating func arrived(_ seq: Int64) { inFlight.insert(seq) }

    /// The earliest event not yet handled.
    var next: Int64? { inFlight.min() }

    /// Whether `seq` may be taken now: no earlier event is still out.
    func isNext(_ seq: Int64) -> Bool { next.map { seq <= $0 } ?? true }

    /// `seq` handled: where the cursor may move to now, if anywhere.
    mutating func handled(_ seq: Int64) -> Int64? {
        inFlight.remove(seq)
        highestHandled = max(highestHandled ?? seq, seq)
        // Everything below the lowest still in flight is handled (they came in order).
        return inFlight.min().map { $0 - 1 } ?? highestHandled
    }
}
