import Foundation
import GRDB
import MusterCore
import MusterWire

/// The rungs of escalation ladders still to fire, one row per owner — a dispatch, a case's own
/// clocks, a department summoned to a whistle, an incident — in `ladders` (migration v11):
/// the rungs as a JSON array by due, and the span of their dues, which is what paging in
/// searches. The view `timers` shows a row per rung with the columns of the table it replaced.
/// A dispatch's rungs share its case and department, so those are kept once, on the row.
extension Store {
    /// Applies a batch's changes to the waiting rungs: each owner's row is read once, changed in
    /// the order the changes came, and written once (deleted when no rung is left).
    func writeLadders(_ db: Database, _ changes: [TimerChange]) throws {
        guard !changes.isEmpty else { return }
        var owners: [String] = []
        var byOwner: [String: [TimerChange]] = [:]
        for change in changes {
            let owner = switch change {
            case .add(let t): t.owner
            case .remove(_, let owner): owner
            case .stop(let owner, _): owner
            }
            if byOwner[owner] == nil { owners.append(owner) }
            byOwner[owner, default: []].append(change)
        }
        let write = try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO ladders (owner, case_id, agency, next_due, last_due, rungs) VALUES (?, ?, ?, ?, ?, ?)
            """)
        let delete = try db.cachedStatement(sql: "DELETE FROM ladders WHERE owner = ?")
        let probe = try db.cachedStatement(sql: "SELECT 1 FROM ladders WHERE owner = ?")
        for owner in owners {
            // A new dispatch has no row yet: a probe of the key, not a read through the view.
            var p = Binder(probe); p.bind(owner)
            var rungs = try p.exists() ? try Store.ladder(db, owner: owner) : [:]
            let before = rungs
            for change in byOwner[owner] ?? [] {
                switch change {
                case .add(let t): rungs[t.id] = t
                case .remove(let id, _): rungs[id] = nil
                case .stop(_, let clocks): rungs = rungs.filter { !clocks.contains($0.value.clock) }
                }
            }
            if rungs == before { continue }
            if rungs.isEmpty {
                var b = Binder(delete); b.bind(owner); try b.step()
                continue
            }
            let sorted = rungs.values.sorted { ($0.due, $0.id) < ($1.due, $1.id) }
            var b = Binder(write)
            b.bind(owner); b.bind(sorted[0].caseID); b.bind(sorted[0].agency)
            b.bind(sorted[0].due.ms); b.bind(sorted.map(\.due.ms).max() ?? sorted[0].due.ms)
            b.bind(text: Store.rungsJSON(sorted))
            try b.step()
        }
    }

    /// An owner's waiting rungs, by id.
    static func ladder(_ db: Database, owner: String) throws -> [String: LadderTimer] {
        let list = try timers(db, sql: "SELECT * FROM timers WHERE owner = ?", arguments: [owner])
        return Dictionary(list.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// `ladders.rungs`: what a rung has of its own (its owner's case and department are the row's).
    static func rungsJSON(_ rungs: [LadderTimer]) -> [UInt8] {
        JSONWriter.array(count: rungs.count, capacity: rungs.count * 160) { i, w in
            let t = rungs[i]
            w.field("id", t.id); w.field("clock", t.clock.rawValue); w.field("rung", t.rung); w.field("level", t.level)
            w.field("notice", t.notice); w.field("to", t.to.count == 1 ? t.to[0] : t.to.joined(separator: ","))
            w.field("due", t.due.ms); w.field("deadline", t.deadline.ms)
        }
    }

    /// Every waiting rung due by `through` (all of them without it).
    static func timers(_ db: Database, dueBy through: Date?) throws -> [LadderTimer] {
        guard let through else { return try timers(db, sql: "SELECT * FROM timers", arguments: []) }
        return try timers(db, sql: "SELECT * FROM timers WHERE owner IN (SELECT owner FROM ladders WHERE next_due <= ?) AND due <= ?",
                          arguments: [through.ms, through.ms])
    }

    /// The waiting rungs due after `after` and by `through`: of the rows whose span of dues
    /// meets that window (by the index on the earliest due).
    static func timers(_ db: Database, dueAfter after: Date?, through: Date?) throws -> [LadderTimer] {
        let a = after?.ms ?? Int64.min, t = through?.ms ?? Int64.max
        return try timers(db, sql: """
            SELECT * FROM timers WHERE owner IN (SELECT owner FROM ladders WHERE next_due <= ? AND last_due > ?) AND due > ? AND due <= ?
            """, arguments: [t, a, a, t])
    }
}
