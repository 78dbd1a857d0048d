import Foundation
import PropertyBased
import Testing
@testable import MusterCore

/// The waiting rungs held an entry an owner: found, scheduled, admitted, fired and stopped as
/// the table of rungs by id and its index by owner did.
@Suite struct WaitingRungsTests {
    static let t0 = Date(ms: 1_790_000_000_000)

    static func rung(_ owner: String, _ stem: String, _ i: Int, due minutes: Int64, caseID: String? = nil) -> LadderTimer {
        let clock = ClockKind(rawValue: String(stem.prefix { $0 != "." })) ?? .ack
        let isCase = owner.hasPrefix("C")
        return LadderTimer(id: "\(owner)/\(stem)/\(i)", caseID: caseID ?? (isCase ? owner : "C0000000001"),
                           dispatchID: isCase ? nil : owner, agency: isCase ? nil : "chengguan", clock: clock, rung: i, level: i + 1,
                           notice: "remind", to: ["agency"], due: t0.adding(ms: minutes * 60_000), deadline: t0.adding(ms: 600 * 60_000))
    }

    static func ladder(_ owner: String) -> [LadderTimer] {
        [rung(owner, "ack", 0, due: 45), rung(owner, "ack", 1, due: 60), rung(owner, "resolve", 0, due: 300), rung(owner, "resolve", 1, due: 400)]
    }

    @Test func aDispatchsLadderIsOneEntryWithEachRungFoundInIt() {
        var w = WaitingRungs()
        let list = Self.ladder("D0000000007")
        w.schedule(list)
        #expect(w.byOwner.count == 1 && w.count == 4)
        #expect(w.rungs(of: "D0000000007") == list)
        for t in list { #expect(w.rung(t.id, of: "D0000000007") == t) }
        #expect(w.rung("D0000000007/ack/9", of: "D0000000007") == nil && w.rung("D0000000007/ack/0", of: "D0000000008") == nil)
        let summon = Self.rung("W0000000001/chengguan", "whistle", 0, due: 10, caseID: "W0000000001")
        w.schedule([summon])
        #expect(w.rung(summon.id, of: "W0000000001/chengguan") == summon && w.count == 5)
    }

    @Test func schedulingReplacesARungOfTheSameIdAndAdmittingKeepsIt() {
        var w = WaitingRungs()
        w.schedule(Self.ladder("D0000000007"))
        let moved = Self.rung("D0000000007", "resolve", 0, due: 350)
        w.schedule([moved, Self.rung("D0000000007", "milestone.1", 0, due: 120)])
        #expect(w.rung("D0000000007/resolve/0", of: "D0000000007")?.due == moved.due, "deadlines moved: the rung moves with them")
        #expect(w.count == 5 && w.rungs(of: "D0000000007").count == 5)
        w.admit([Self.rung("D0000000007", "resolve", 0, due: 999), Self.rung("D0000000007", "resolve", 2, due: 500)])
        #expect(w.rung("D0000000007/resolve/0", of: "D0000000007")?.due == moved.due, "read back from the store, the one in memory stays")
        #expect(w.rung("D0000000007/resolve/2", of: "D0000000007") != nil && w.count == 6)
    }

    @Test func rungsDueBeyondTheHorizonAreNotHeld() {
        var w = WaitingRungs()
        w.schedule(Self.ladder("D0000000007"), heldThrough: Self.t0.adding(ms: 60 * 60_000))
        #expect(w.rungs(of: "D0000000007").map(\.id) == ["D0000000007/ack/0", "D0000000007/ack/1"])
        w.schedule(Self.ladder("D0000000008"), heldThrough: Self.t0)
        #expect(w.rungs(of: "D0000000008").isEmpty && w.byOwner["D0000000008"] == nil && w.count == 2)
        w.schedule(Self.ladder("D0000000009"))
        w.removeAll { $0.due > Self.t0.adding(ms: 100 * 60_000) }
        #expect(w.count == 4 && w.all.allSatisfy { $0.clock == .ack })
        // Moved past the horizon (an extension near its deadline): the held one goes, not fires at its old due.
        w.schedule([Self.rung("D0000000007", "ack", 1, due: 900)], heldThrough: Self.t0.adding(ms: 60 * 60_000))
        #expect(w.rung("D0000000007/ack/1", of: "D0000000007") == nil && w.count == 3)
    }

    @Test func aListWithAnIdTwiceKeepsTheLaterOnce() {
        var w = WaitingRungs()
        let first = Self.rung("D0000000007", "ack", 0, due: 45), later = Self.rung("D0000000007", "ack", 0, due: 50)
        w.schedule([first, Self.rung("D0000000007", "ack", 1, due: 60), later])
        #expect(w.count == 2 && w.rungs(of: "D0000000007").count == 2)
        #expect(w.rung(first.id, of: "D0000000007")?.due == later.due)
        w.remove(id: first.id, owner: "D0000000007")
        #expect(w.rung(first.id, of: "D0000000007") == nil, "it fires once")
    }

    @Test func firingAndStoppingTakeRungsOutAndAnEmptyOwnerLeaves() {
        var w = WaitingRungs()
        w.schedule(Self.ladder("D0000000007") + Self.ladder("C0000000001"))
        #expect(w.count == 8 && w.byOwner.count == 2, "a list of two owners is held by owner")
        #expect(w.remove(id: "D0000000007/ack/0", owner: "D0000000007")?.due == Self.t0.adding(ms: 45 * 60_000))
        #expect(w.remove(id: "D0000000007/ack/0", owner: "D0000000007") == nil, "a rung fires once")
        w.removeAll(of: "D0000000007") { $0.clock == .ack }
        #expect(w.rungs(of: "D0000000007").map(\.clock) == [.resolve, .resolve] && w.count == 6)
        w.removeAll(of: "D0000000007") { $0.clock == .resolve }
        #expect(w.byOwner["D0000000007"] == nil && w.count == 4)
        w.removeAll(of: "C0000000001")
        #expect(w.isEmpty && w.byOwner.isEmpty)
    }

    @Test func equalMeansTheSameRungsOfTheSameOwnersInAnyOrder() {
        var a = WaitingRungs(), b = WaitingRungs()
        a.schedule(Self.ladder("D0000000007"))
        b.admit(Self.ladder("D0000000007").reversed())
        #expect(a == b)
        b.schedule([Self.rung("D0000000007", "ack", 1, due: 61)])
        #expect(a != b, "a rung's due differs")
        b.schedule([Self.rung("D0000000007", "ack", 1, due: 60), Self.rung("D0000000008", "ack", 0, due: 1)])
        #expect(a != b, "one more rung")
    }

    /// Any sequence of schedules, admissions, firings and stops leaves the same rungs as a table
    /// by id would (the form the ledger held them in before).
    @Test func anySequenceOfChangesMatchesATableById() async {
        await propertyCheck(count: 200, input: Gen.int(in: 0...999_999).array(of: 1...120)) { moves in
            var w = WaitingRungs()
            var table: [String: LadderTimer] = [:]
            for n in moves {
                let owner = ["D0000000001", "D0000000002", "C0000000001", "W0000000001/gongan"][n % 4]
                let stem = ["ack", "resolve", "milestone.1"][(n / 4) % 3], i = (n / 12) % 3
                let t = Self.rung(owner, stem, i, due: Int64(n / 36 % 500), caseID: owner.hasPrefix("W") ? "W0000000001" : nil)
                switch (n / 1_000) % 5 {
                case 0: w.schedule([t]); table[t.id] = t
                case 1: w.admit([t]); if table[t.id] == nil { table[t.id] = t }
                case 2: #expect(w.remove(id: t.id, owner: owner) == table.removeValue(forKey: t.id))
                case 3:
                    w.removeAll(of: owner) { $0.clock == t.clock }
                    table = table.filter { $0.value.owner != owner || $0.value.clock != t.clock }
                default:
                    // A ladder due from the move's time on, an hour apart: some held, some beyond the horizon.
                    let through = Self.t0.adding(ms: 250 * 60_000)
                    let ladder = Self.ladder(owner).enumerated().map { k, r in var r = r; r.due = t.due.adding(ms: Int64(k) * 60 * 60_000); return r }
                    w.schedule(ladder, heldThrough: through)
                    for r in ladder { if r.due <= through { table[r.id] = r } else { table[r.id] = nil } }
                }
                #expect(w.count == table.count)
                #expect(w.rung(t.id, of: owner) == table[t.id])
            }
            #expect(Set(w.all) == Set(table.values) && w.all.count == table.count)
            #expect(w.byOwner.values.allSatisfy { !$0.isEmpty })
        }
    }
}
