import Foundation
import MusterAdapterKit
import MusterWire
import Synchronization

extension MusterClient {
    /// A request's reply, or nil when none came within `timeout` seconds (the broker is down,
    /// or the session not welcomed): a page then says so instead of hanging. (The client keeps
    /// resending under the same id; a late reply is dropped.)
    func request(_ command: Command, id: String? = nil, timeout: Double, _ fill: @escaping (inout JSONWriter) -> Void) async -> Reply? {
        let once = Mutex<CheckedContinuation<Reply?, Never>?>(nil)
        return await withCheckedContinuation { cont in
            once.withLock { $0 = cont }
            request(command, id: id, fill, completion: { r in once.withLock { c in c?.resume(returning: r); c = nil } })
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout) {
                once.withLock { c in c?.resume(returning: nil); c = nil }
            }
        }
    }
}
