import Foundation
import GRDB
import Testing
@testable import MusterCore
@testable import MusterStore

/// The waiting rungs as the store keeps them: one `ladders` row per owner, changed in place by
/// the batch's changes, and found again by owner, by due and by a window of dues.
struct LadderRowsTests {
    static let t0 = Date(ms: 1_795_000_000_000)

    static func rung(_ owner: String, _ clock: ClockKind, _ i: Int, dueIn minutes: Int64, caseID: String = "C0000000001") -> LadderTimer {
        LadderTimer(id: "\(owner)/\(clock.rawValue)/\(i)", caseID: caseID, dispatchID: owner == caseID ? nil : owner,
                    agency: owner == caseID ? nil : "chengguan", clock: clock, rung: i, level: i + 1, notice: "remind",
                    to: ["agency", "ops"], due: t0.adding(ms: minutes * 60_000), deadline: t0.adding(ms: 90 * 60_000))
    }

    static func commit(_ store: Store, _ changes: [TimerChange]) throws {
        var batch = Batch()
        batch.timerChanges = changes
        try store.commit(batch)
    }

    static func rows(_ store: Store) throws -> [String: (next: Int64, last: Int64, count: Int)] {
        try store.read { db in
            var out: [String: (Int64, Int64, Int)] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT owner, next_due, last_due, json_array_length(rungs) AS n FROM ladders") {
                out[row["owner"]] = (row["next_due"], row["last_due"], row["n"])
            }
            return out
        }
    }

    @Test func aDispatchsRungsAreOneRowChangedInPlaceAndGoneWithTheLast() throws {
        let store = try Store(path: StoreFixtures.tempDB())
        let d = "D0000000001", c = "C0000000001"
        let rungs = [Self.rung(d, .ack, 0, dueIn: 10), Self.rung(d, .ack, 1, dueIn: 20), Self.rung(d, .resolve, 0, dueIn: 60),
                     Self.rung(d, .resolve, 1, dueIn: 90), Self.rung(c, .triage, 0, dueIn: 5)]
        try Self.commit(store, rungs.map { .add($0) })
        var rows = try Self.rows(store)
        #expect(rows.count == 2, "one row per owner, not per rung")
        #expect(rows[d]?.count == 4 && rows[d]?.next == rungs[0].due.ms && rows[d]?.last == rungs[3].due.ms)
        #expect(Set(try store.timers(ofOwners: [d, c])) == Set(rungs), "read back whole: case, dispatch, department, clock, rung, notice, to, due, deadline")

        try Self.commit(store, [.remove(id: rungs[0].id, owner: d)])  // a rung fired
        rows = try Self.rows(store)
        #expect(rows[d]?.count == 3 && rows[d]?.next == rungs[1].due.ms, "the next due moves on")
        try Self.commit(store, [.stop(owner: d, clocks: [.ack])])  // 签收: the ack clock stops
        #expect(try store.timers(ofOwners: [d]).map(\.id).sorted() == [rungs[2].id, rungs[3].id])
        try Self.commit(store, [.remove(id: "D0000000001/resolve/9", owner: d), .stop(owner: "D0000000404", clocks: [.ack])])
        #expect(try Self.rows(store)[d]?.count == 2, "a change to nothing there changes nothing")
        try Self.commit(store, [.stop(owner: d, clocks: [.resolve]), .add(Self.rung(d, .verify, 0, dueIn: 120)), .remove(id: "D0000000001/verify/0", owner: d)])
        rows = try Self.rows(store)
        #expect(rows[d] == nil && rows[c]?.count == 1, "changes apply in order; the row goes with its last rung")
    }

    /// A row committed lately is changed from what the store keeps of it, not read back; what a
    /// batch that rolled back wrote is not kept: the next change starts from the row on disk.
    @Test func aRolledBackBatchLeavesNoRungsBehindForTheNextChange() throws {
        let path = StoreFixtures.tempDB()
        let store = try Store(path: path)
        let d = "D0000000001"
        let rungs = [Self.rung(d, .ack, 0, dueIn: 10), Self.rung(d, .ack, 1, dueIn: 20), Self.rung(d, .resolve, 0, dueIn: 60)]
        try Self.commit(store, rungs.map { .add($0) })
        #expect(store.recentLadders.rungs(of: d) == rungs, "kept as committed")
        let raw = try DatabaseQueue(path: path)
        try raw.write { db in
            try db.execute(sql: "CREATE TRIGGER fail_replies BEFORE INSERT ON requests BEGIN SELECT RAISE(ABORT, 'disk on fire'); END")
        }
        var failing = Batch()
        failing.timerChanges = [.add(Self.rung(d, .verify, 0, dueIn: 90)), .stop(owner: d, clocks: [.ack])]
        failing.replies = [.init(adapter: "a", requestID: "r", command: .ok, body: [], at: Self.t0)]  // written after the rungs
        #expect(throws: (any Error).self) { try store.commit(failing) }
        #expect(store.recentLadders.rungs(of: d) == rungs, "the rolled-back rows are not kept")
        try raw.write { db in try db.execute(sql: "DROP TRIGGER fail_replies") }
        try Self.commit(store, [.remove(id: rungs[0].id, owner: d)])
        #expect(try store.timers(ofOwners: [d]).map(\.id).sorted() == [rungs[1].id, rungs[2].id], "no verify rung, the ack rung still there")
        try Self.commit(store, [.stop(owner: d, clocks: [.ack, .resolve])])
        let rowsLeft = try Self.rows(store)
        #expect(store.recentLadders.rungs(of: d) == nil && rowsLeft[d] == nil, "a deleted row is forgotten")
    }

    @Test func theRowsKeptAreBoundedAndTheLongestKeptLeaveFirst() {
        var recent = RecentLadders(maxOwners: 2)
        let r = Self.rung("D0000000001", .ack, 0, dueIn: 10)
        recent.keep([("D0000000001", [r]), ("D0000000002", [r])])
        #expect(recent.count == 2)
        recent.keep([("D0000000002", nil)])
        #expect(recent.count == 1 && recent.rungs(of: "D0000000002") == nil, "a deleted row is forgotten")
        recent.keep([("D0000000003", [r]), ("D0000000001", [r]), ("D0000000004", [r])])
        #expect(recent.count == 2 && recent.rungs(of: "D0000000001") == nil, "past the bound the first kept leaves")
        #expect(recent.rungs(of: "D0000000003") == [r] && recent.rungs(of: "D0000000004") == [r])
    }

    /// Paging in asks for a window of dues: a rung inside it must be found even when its
    /// owner's first rung came before the window (and is in memory, not fired yet).
    @Test func aWindowOfDuesFindsEveryRungInItWhateverItsOwnersOtherRungs() throws {
        let store = try Store(path: StoreFixtures.tempDB())
        let a = "D0000000001", b = "D0000000002", c = "D0000000003"
        let rungs = [Self.rung(a, .ack, 0, dueIn: 10), Self.rung(a, .ack, 1, dueIn: 70), Self.rung(a, .resolve, 0, dueIn: 500),
                     Self.rung(b, .ack, 0, dueIn: 200), Self.rung(c, .ack, 0, dueIn: 30), Self.rung(c, .ack, 1, dueIn: 40)]
        try Self.commit(store, rungs.map { .add($0) })
        let window = try store.timers(dueAfter: Self.t0.adding(ms: 60 * 60_000), through: Self.t0.adding(ms: 240 * 60_000))
        #expect(Set(window.map(\.id)) == [rungs[1].id, rungs[3].id], "in (60, 240] minutes: a's second rung and b's first")
        let loaded = try store.loadWorkingSet(timersDueBy: Self.t0.adding(ms: 35 * 60_000))
        #expect(Set(loaded.timers.all.map(\.id)) == [rungs[0].id, rungs[4].id], "due by 35 minutes, and only those of the rows")
        #expect(Set(try store.loadLedger().timers.all) == Set(rungs))
    }

    /// The migration from a rung a row (v2 to v10) keeps every rung and the view shows them
    /// with the old columns.
    @Test func theMigrationGathersTheOldRowsByOwner() throws {
        let path = StoreFixtures.tempDB()
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let queue = try DatabaseQueue(path: path)
        try Schema.migrator.migrate(queue, upTo: "v10: petitions (信访) beside their cases")
        try queue.write { db in
            try db.execute(sql: """
                INSERT INTO timers VALUES ('D0000000001/ack/1', 'D0000000001', 'C0000000001', 'D0000000001', 'chengguan', 'ack', 1, 2, 'supervise', 'agency,ops', 2000, 2000);
                INSERT INTO timers VALUES ('D0000000001/ack/0', 'D0000000001', 'C0000000001', 'D0000000001', 'chengguan', 'ack', 0, 1, 'remind', 'agency', 1000, 2000);
                INSERT INTO timers VALUES ('C0000000001/verify/0', 'C0000000001', 'C0000000001', NULL, NULL, 'verify', 0, 1, 'remind', 'ops', 5000, 5000);
                """)
        }
        try Schema.migrator.migrate(queue)
        let (owners, viewed) = try queue.read { db in
            (try String.fetchAll(db, sql: "SELECT owner || ':' || next_due || '-' || last_due FROM ladders ORDER BY owner"),
             try Row.fetchAll(db, sql: "SELECT id, dispatch_id, agency, recipients, due FROM timers ORDER BY id").map { "\($0)" })
        }
        #expect(owners == ["C0000000001:5000-5000", "D0000000001:1000-2000"])
        #expect(viewed == [#"[id:"C0000000001/verify/0" dispatch_id:NULL agency:NULL recipients:"ops" due:5000]"#,
                           #"[id:"D0000000001/ack/0" dispatch_id:"D0000000001" agency:"chengguan" recipients:"agency" due:1000]"#,
                           #"[id:"D0000000001/ack/1" dispatch_id:"D0000000001" agency:"chengguan" recipients:"agency,ops" due:2000]"#])
    }

    /// Rungs of every form a row holds — a stage in the id, an owner with a slash (a summoned
    /// department), an id of no known form, notices to escape — read back the same from the
    /// column and through the `timers` view, and the row keeps no member names.
    @Test func everyRungReadsBackTheSameFromItsColumnAndThroughTheView() throws {
        let store = try Store(path: StoreFixtures.tempDB())
        let d = "D0000000001", w = "W0000000001/chengguan"
        func rung(_ id: String, _ owner: String, _ clock: ClockKind, _ i: Int, notice: String = "督办", to: [String] = ["agency"]) -> LadderTimer {
            LadderTimer(id: id, caseID: owner == d ? "C0000000001" : "W0000000001", dispatchID: owner, agency: "chengguan", clock: clock,
                        rung: i, level: i + 1, notice: notice, to: to, due: Self.t0.adding(ms: Int64(i) * 60_000), deadline: Self.t0.adding(ms: 600_000))
        }
        let dispatchRungs = [
            rung("\(d)/ack/0", d, .ack, 0, notice: "催办 \"quoted\" \\ and\na line\t\u{01}\r", to: ["agency", "supervisor", "ops"]),
            rung("\(d)/milestone.2/1", d, .milestone, 1),
            rung("\(d)/return/2", d, .return, 2, to: []),
            rung("legacy-\(d)-resolve-3", d, .resolve, 3),           // no known form: kept whole
            rung("\(d)/milestone.x/4", d, .milestone, 4),             // a stage that is not a number
            rung("\(d)/ack/05", d, .ack, 5),                          // a rung written another way
            rung("\(d)/resolve/6", d, .ack, 6),                       // the id names another clock
        ]
        let summonRungs = [rung("\(w)/whistle/0", w, .whistle, 0)]
        try Self.commit(store, (dispatchRungs + summonRungs).map { .add($0) })
        let (fromColumn, column, viewed) = try store.read { db in
            let read = try db.cachedStatement(sql: "SELECT case_id, agency, rungs FROM ladders WHERE owner = ?")
            return (try Store.ladder(read, owner: d), try String.fetchOne(db, sql: "SELECT rungs FROM ladders WHERE owner = ?", arguments: [d]),
                    try Store.timers(db, sql: "SELECT * FROM timers", arguments: []))
        }
        #expect(fromColumn == dispatchRungs, "the column read back whole, in order of due")
        #expect(Set(viewed) == Set(dispatchRungs + summonRungs), "the view shows the same rungs")
        #expect(column?.contains("\"notice\"") == false && column?.hasPrefix(#"[["ack",0,1,"#) == true, "arrays, no member names: \(column ?? "")")
        let whole = try store.read { db in
            try String.fetchAll(db, sql: "SELECT value ->> 7 FROM ladders, json_each(rungs) WHERE value ->> 7 IS NOT NULL ORDER BY 1")
        }
        #expect(whole == ["D0000000001/ack/05", "D0000000001/milestone.x/4", "D0000000001/resolve/6", "legacy-D0000000001-resolve-3"],
                "only the ids of no known form are kept whole")
    }

    /// A column that is not rungs is a corrupt store, said with its owner, not a rung made up.
    @Test func aColumnOfAnotherFormIsCorrupt() throws {
        let path = StoreFixtures.tempDB()
        let store = try Store(path: path)
        let d = "D0000000001", raw = try DatabaseQueue(path: path)
        for bad in [#"[{"id":"D0000000001/ack/0"}]"#, #"[["nonesuch",0,1,"r","ops",1,2]]"#, #"[["ack.",0,1,"r","ops",1,2]]"#,
                    #"[["ack","0",1,"r","ops",1,2]]"#, #"[["ack",0,1,"r","ops",1]]"#, "not json"] {
            try raw.write { db in
                try db.execute(sql: "INSERT OR REPLACE INTO ladders VALUES (?, 'C0000000001', 'chengguan', 1, 2, ?)", arguments: [d, bad])
            }
            #expect(throws: StoreError.self, "\(bad)") {
                try store.read { db in try Store.ladder(db.cachedStatement(sql: "SELECT case_id, agency, rungs FROM ladders WHERE owner = ?"), owner: d) }
            }
        }
    }

    /// v14 rewrites each row's objects as arrays: the view shows the same rungs before and after.
    @Test func theMigrationToArraysKeepsEveryRungAsTheViewShowedIt() throws {
        let path = StoreFixtures.tempDB()
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let queue = try DatabaseQueue(path: path)
        try Schema.migrator.migrate(queue, upTo: "v13: no index the write path feeds and no read needs")
        let objects = #"""
            [{"id":"D0000000001/ack/0","clock":"ack","rung":0,"level":1,"notice":"催\"办","to":"agency,ops","due":1000,"deadline":2000},
             {"id":"D0000000001/milestone.12/1","clock":"milestone","rung":1,"level":2,"notice":"supervise","to":"ops","due":2000,"deadline":2000},
             {"id":"D0000000001/milestone.1x/2","clock":"milestone","rung":2,"level":3,"notice":"report","to":"","due":3000,"deadline":2000},
             {"id":"odd","clock":"resolve","rung":3,"level":3,"notice":"report","to":"ops","due":4000,"deadline":2000}]
            """#
        try queue.write { db in
            try db.execute(sql: "INSERT INTO ladders VALUES ('D0000000001', 'C0000000001', 'chengguan', 1000, 4000, ?)", arguments: [objects])
            try db.execute(sql: """
                INSERT INTO ladders VALUES ('W0000000001/chengguan', 'W0000000001', 'chengguan', 500, 500,
                    '[{"id":"W0000000001/chengguan/whistle/0","clock":"whistle","rung":0,"level":1,"notice":"remind","to":"agency","due":500,"deadline":600}]')
                """)
        }
        let viewed = { try queue.read { db in try Row.fetchAll(db, sql: "SELECT * FROM timers ORDER BY owner, due").map { "\($0)" } } }
        let before = try viewed()
        try Schema.migrator.migrate(queue)
        #expect(try viewed() == before)
        #expect(before.count == 5)
        let lengths = try queue.read { db in
            try String.fetchAll(db, sql: "SELECT group_concat(json_array_length(value), ',') FROM ladders, json_each(rungs) GROUP BY owner ORDER BY owner")
        }
        #expect(lengths == ["7,7,8,8", "7"], "arrays; the two ids of no known form kept whole")
    }
}
