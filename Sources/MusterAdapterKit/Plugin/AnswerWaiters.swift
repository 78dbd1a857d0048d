import Foundation
import Synchronization

/// Callers waiting for the broker's answer to an act (an intake plugin's HTTP request waiting
/// for ACCEPTED), each resumed once: by the answer, or with nil when its time is up.
final class AnswerWaiters: Sendable {
    private let waiting = Mutex<[String: [UUID: CheckedContinuation<ActAnswer?, Never>]]>([:])

    /// Waits up to `within` seconds. `check` reads the queue after the caller is registered, so
    /// an answer that came in between is not missed.
    func wait(_ id: String, within: Double, check: @escaping @Sendable () -> ActAnswer?) async -> ActAnswer? {
        let token = UUID()
        return await withCheckedContinuation { c in
            waiting.withLock { $0[id, default: [:]][token] = c }
            if let a = check() { resume(id, token, a); return }
            Task {
                try? await Task.sleep(nanoseconds: UInt64(max(0, within) * 1e9))
                self.resume(id, token, nil)
            }
        }
    }

    func answered(_ id: String, _ answer: ActAnswer) {
        let all = waiting.withLock { $0.removeValue(forKey: id) } ?? [:]
        for c in all.values { c.resume(returning: answer) }
    }

    private func resume(_ id: String, _ token: UUID, _ answer: ActAnswer?) {
        let c = waiting.withLock { w -> CheckedContinuation<ActAnswer?, Never>? in
            let c = w[id]?.removeValue(forKey: token)
            if w[id]?.isEmpty == true { w[id] = nil }
            return c
        }
        c?.resume(returning: answer)
    }
}
