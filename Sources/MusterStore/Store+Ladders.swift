import Foundation
import GRDB
import MusterCore
import MusterWire

/// The rungs of escalation ladders still to fire, one row per owner — a dispatch, a case's own
/// clocks, a department summoned to a whistle, an incident — in `ladders` (migration v11):
/// the rungs by due (`RungsColumn`), and the span of their dues, which is what paging in
/// searches. The view `timers` shows a row per rung with the columns of the table it replaced.
/// A dispatch's rungs share its case and department, so those are kept once, on the row.
extension Store {
    static let writeLadder = StatementSQL("INSERT OR REPLACE INTO ladders (owner, case_id, agency, next_due, last_due, rungs) VALUES (?, ?, ?, ?, ?, ?)")
    static let deleteLadder = StatementSQL("DELETE FROM ladders WHERE owner = ?")
    static let readLadder = StatementSQL("SELECT case_id, agency, rungs FROM ladders WHERE owner = ?")

    /// Applies a batch's changes to the waiting rungs: each owner's row is read once, changed in
    /// the order the changes came, and written once (deleted when no rung is left). An owner's
    /// few rungs are kept in an array: searching it costs less than hashing their ids.
    /// A case accepted in this batch (`newCases`, its keys) and the owners of its clocks have no
    /// row yet: nothing to read (a SUBMIT's clocks were a look-up each that found nothing); an
    /// owner whose row was committed lately is taken from `recentLadders`, not read back.
    /// Returns each owner's rungs as the transaction leaves them (nil: no row), for
    /// `recentLadders` once it is durable.
    func writeLadders(_ db: Database, _ changes: [TimerChange], newCases: [String: [UInt8]] = [:]) throws
        -> [(owner: String, rungs: [LadderTimer]?)] {
        guard !changes.isEmpty else { return [] }
        // By owner, in order; an owner's changes mostly come together (one fact's rungs). Grouped
        // by index: a change holds a rung, and copying one retains each of its strings.
        var groups: [(owner: String, changes: [Int])] = []
        var groupOf: [String: Int] = [:]
        for (k, change) in changes.enumerated() {
            let owner = switch change {
            case .add(let t): t.owner
            case .remove(_, let owner): owner
            case .stop(let owner, _): owner
            }
            if let last = groups.last, last.owner == owner {
                groups[groups.count - 1].changes.append(k)
            } else if let i = groupOf[owner] {
                groups[i].changes.append(k)
            } else {
                groupOf[owner] = groups.count
                groups.append((owner, [k]))
            }
        }
        let write = try db.statement(Store.writeLadder, writerStatements)
        let delete = try db.statement(Store.deleteLadder, writerStatements)
        let read = try db.statement(Store.readLadder, writerStatements)
        var now: [(owner: String, rungs: [LadderTimer]?)] = []
        now.reserveCapacity(groups.count)
        for (owner, indices) in groups {
            let fresh = if newCases[owner] != nil { true } else if case .add(let t) = changes[indices[0]] { newCases[t.caseID] != nil } else { false }
            let row = fresh ? nil : try recentLadders.rungs(of: owner) ?? Store.ladder(read, owner: owner)
            let existed = row != nil
            var rungs = row ?? []
            var changed = false
            for k in indices {
                switch changes[k] {
                case .add(let t):
                    if let i = rungs.firstIndex(where: { $0.id == t.id }) {
                        if rungs[i] != t { rungs[i] = t; changed = true }
                    } else {
                        rungs.append(t); changed = true
                    }
                case .remove(let id, _):
                    if let i = rungs.firstIndex(where: { $0.id == id }) { rungs.remove(at: i); changed = true }
                case .stop(_, let clocks):
                    let before = rungs.count
                    rungs.removeAll { clocks.contains($0.clock) }
                    changed = changed || rungs.count != before
                }
            }
            guard changed else {
                if existed { now.append((owner, rungs)) }
                continue
            }
            if rungs.isEmpty {
                if existed { var b = Binder(delete, arena: bindArena); b.bind(owner); try b.step() }
                now.append((owner, nil))
                continue
            }
            rungs.sort { ($0.due, $0.id) < ($1.due, $1.id) }
            var b = Binder(write, arena: bindArena)
            b.bind(owner); b.bind(rungs[0].caseID); b.bind(rungs[0].agency)
            b.bind(rungs[0].due.ms); b.bind(rungs[rungs.count - 1].due.ms)
            b.bind(text: RungsColumn.encode(rungs, owner: owner))
            try b.step()
            now.append((owner, rungs))
        }
        return now
    }

    /// An owner's waiting rungs, nil without a row: its column read here rather than through the
    /// view's `json_each` and GRDB rows, which made every ACK and RESOLVE (a clock stopped)
    /// cost more than the six rows it replaced.
    static func ladder(_ statement: Statement, owner: String) throws -> [LadderTimer]? {
        var b = Binder(statement); b.bind(owner)
        var found: [LadderTimer]?
        try b.rows { row in
            let caseID = row.text(0), agency = row.isNull(1) ? nil : codes(row.text(1)), column = row.bytes(2)
            guard let rungs = RungsColumn.decode(column, owner: owner, caseID: caseID, agency: agency) else {
                throw StoreError.corrupt("ladders.rungs of \(owner): \(String(decoding: column, as: UTF8.self))")
            }
            found = rungs
        }
        return found
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
