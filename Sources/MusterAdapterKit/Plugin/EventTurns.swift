import Synchronization

/// A plugin's events taken one at a time, in seq order. Each push runs on a task of its own
/// (`MusterClient`), so without turns a case's `dispatch.progress` could be taken before its
/// `dispatch.acked` — and a platform polling the hotline's feed would see 办理中 before 签收.
/// An event waits until every earlier one that arrived is handled; one put off (`retryLater`)
/// holds the later ones back, as it must: they may be about the same case. Also keeps the
/// cursor (`EventCursor`), which never passes an event still out.
final class EventTurns: Sendable {
    private struct State {
        var cursor = EventCursor()
        var waiting: [Int64: [CheckedContinuation<Void, Never>]] = [:]
        var stopped = false
    }
    private let state = Mutex(State())

    /// On the client's thread, in the order the events came.
    func arrived(_ seq: Int64) { state.withLock { $0.cursor.arrived(seq) } }

    /// Returns once `seq` is the earliest event not yet handled; throws if the adapter stops first.
    func turn(_ seq: Int64) async throws {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s in
                if s.stopped || s.cursor.isNext(seq) { return true }
                s.waiting[seq, default: []].append(c)
                return false
            }
            if now { c.resume() }
        }
        if state.withLock({ $0.stopped }) { throw CancellationError() }
    }

    /// `seq` handled: the next event's turn, and where the cursor may move to, if anywhere.
    func handled(_ seq: Int64) -> Int64? {
        let (through, woken) = state.withLock { s in
            let through = s.cursor.handled(seq)
            let next = s.cursor.next.flatMap { s.waiting.removeValue(forKey: $0) } ?? []
            return (through, next)
        }
        for c in woken { c.resume() }
        return through
    }

    /// Nothing waits any more: the client stops, and those waiting give up their pushes unhandled.
    func stop() {
        let woken = state.withLock { s in
            s.stopped = true
            defer { s.waiting = [:] }
            return s.waiting.values.flatMap { $0 }
        }
        for c in woken { c.resume() }
    }
}
