import Synchronization

/// One copy of each code read from the store (agency, category, grid, push target …): a million
/// rows name a few hundred codes, and a Swift string longer than 15 bytes is a heap object per
/// row unless it is shared. Hand-written: a set under a lock is all it takes.
final class Interner: Sendable {
    private let table = Mutex<Set<String>>([])

    func callAsFunction(_ s: String) -> String {
        if s.utf8.count <= 15 { return s }  // stored inline anyway
        return table.withLock { $0.insert(s).memberAfterInsert }
    }

    func callAsFunction(_ s: String?) -> String? { s.map { self($0) } }
}
