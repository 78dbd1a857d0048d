import Foundation

/// The ladder rungs not yet fired, one entry an owner — a dispatch, a case's own clocks, a
/// department summoned to a whistle, an incident — as the store's ladder row is. A dispatch's
/// five or six rungs are scheduled together and stopped a clock at a time: held as one entry
/// they are one hash, one table slot and (when the owner had none) the scheduling fact's own
/// list, shared rather than copied; held as an entry each with an index of them by owner, they
/// were two hashes a rung going in and two coming out, and a table that grew with every rung.
public struct WaitingRungs: Sendable {
    /// Each owner's rungs, in the order they were scheduled; never an empty list.
    public private(set) var byOwner: [String: [LadderTimer]] = [:]
    /// How many rungs are held.
    public private(set) var count = 0

    public init() {}

    public var isEmpty: Bool { count == 0 }

    /// Every rung, in no particular order.
    public var all: [LadderTimer] { byOwner.values.flatMap { $0 } }

    /// The rungs of one owner (none: empty).
    public func rungs(of owner: String) -> [LadderTimer] { byOwner[owner] ?? [] }

    /// The rung of this id and owner, if it is waiting.
    public func rung(_ id: String, of owner: String) -> LadderTimer? {
        byOwner[owner]?.first { $0.id == id }
    }

    /// Schedules rungs of any owners, each replacing a waiting one of the same id (a clock
    /// started again, deadlines moved). `heldThrough`: a rung due after it is not held (it is
    /// in the store, read back as its time nears), and one of its id held till now goes: its
    /// old due must not fire.
    public mutating func schedule(_ list: [LadderTimer], heldThrough: Date? = nil) {
        // The usual case, a new dispatch's or case's clocks: one owner with nothing held yet and
        // no id twice. Those near enough to hold are one new entry: the fact's own list when all
        // of them are.
        guard let owner = list.first?.owner, byOwner[owner] == nil, list.allSatisfy({ $0.owner == owner }), !WaitingRungs.repeatsAnID(list) else {
            for t in list {
                if WaitingRungs.held(t, heldThrough) { put(t, replacing: true) } else { remove(id: t.id, owner: t.owner) }
            }
            return
        }
        guard let through = heldThrough, list.contains(where: { $0.due > through }) else {
            byOwner[owner] = list
            count += list.count
            return
        }
        var held: [LadderTimer] = []
        held.reserveCapacity(list.count)
        for t in list where t.due <= through { held.append(t) }
        if !held.isEmpty { byOwner[owner] = held }
        count += held.count
    }

    /// Whether a rung is waiting (by its owner and id).
    public func holds(_ t: LadderTimer) -> Bool { rung(t.id, of: t.owner) != nil }

    /// Rungs read from the store as their time nears; one already waiting stays as it is.
    public mutating func admit(_ list: [LadderTimer]) {
        for t in list { put(t, replacing: false) }
    }

    /// Takes the rung of this id out (it fired); nil when it was not waiting.
    @discardableResult
    public mutating func remove(id: String, owner: String) -> LadderTimer? {
        guard let i = byOwner.index(forKey: owner), let k = byOwner.values[i].firstIndex(where: { $0.id == id }) else { return nil }
        let t = byOwner.values[i].remove(at: k)
        if byOwner.values[i].isEmpty { byOwner.remove(at: i) }
        count -= 1
        return t
    }

    /// Takes out the rungs of `owner` that match (its stopped clocks; all of them).
    public mutating func removeAll(of owner: String, where matches: (LadderTimer) -> Bool = { _ in true }) {
        guard let i = byOwner.index(forKey: owner) else { return }
        let before = byOwner.values[i].count
        byOwner.values[i].removeAll(where: matches)
        let after = byOwner.values[i].count
        count -= before - after
        if after == 0 { byOwner.remove(at: i) }
    }

    /// Takes out every rung that matches, of any owner (those due beyond the horizon).
    public mutating func removeAll(where matches: (LadderTimer) -> Bool) {
        let owners = byOwner.compactMap { $0.value.contains(where: matches) ? $0.key : nil }
        for owner in owners { removeAll(of: owner, where: matches) }
    }

    private mutating func put(_ t: LadderTimer, replacing: Bool) {
        let owner = t.owner
        if let i = byOwner.index(forKey: owner) {
            if let k = byOwner.values[i].firstIndex(where: { $0.id == t.id }) {
                if replacing { byOwner.values[i][k] = t }
                return
            }
            byOwner.values[i].append(t)
        } else {
            byOwner[owner] = [t]
        }
        count += 1
    }

    private static func held(_ t: LadderTimer, _ through: Date?) -> Bool { through.map { t.due <= $0 } ?? true }

    /// Whether two rungs of the list share an id (the later one counts). A ladder's never do; the
    /// clock and rung number are compared first, so telling costs a few integer comparisons.
    private static func repeatsAnID(_ list: [LadderTimer]) -> Bool {
        for i in list.indices.dropFirst() {
            for j in 0..<i where list[i].rung == list[j].rung && list[i].clock == list[j].clock && list[i].id == list[j].id { return true }
        }
        return false
    }
}

extension WaitingRungs: Equatable {
    /// The same rungs of the same owners, in any order (the store reads an owner's by due).
    public static func == (a: WaitingRungs, b: WaitingRungs) -> Bool {
        guard a.count == b.count, a.byOwner.count == b.byOwner.count else { return false }
        for (owner, rungs) in a.byOwner {
            guard let other = b.byOwner[owner], other.count == rungs.count, rungs.allSatisfy(other.contains) else { return false }
        }
        return true
    }
}
