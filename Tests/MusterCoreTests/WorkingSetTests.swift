import Foundation
import Testing
@testable import MusterCore
import MusterWire

/// The broker keeps only a working set in memory: it starts with no cases, reads a case back
/// from the store when a command or a rung names it, and lets finished cases go once durable.
/// Deciding on that working set must be deciding on all history: the same facts, actions and
/// replies, the same refusals, the same rungs firing — also when open cases leave memory beyond
/// a bound (`bound`: the broker holds at most so many, the longest untouched leave).
@Suite struct WorkingSetTests {
    @Test(arguments: [1, 2, 3], [Int.max, 6])
    func aWorkingSetDecidesAsTheWholeLedgerDoes(_ seed: Int, _ bound: Int) {
        var full = Driver()
        var working = Ledger()
        var evicted = 0, admitted = 0, released = 0
        // The shell's read-back, with the whole ledger standing in for the store.
        func readBack(_ needs: Ledger.Needs) {
            let missing = working.missing(needs)
            var ids = missing.cases
            ids += missing.dispatches.compactMap { full.ledger.dispatches[$0]?.caseID }
            ids += missing.refs.compactMap { full.ledger.caseID(source: $0.source, externalRef: $0.ref) }
            ids += missing.mergeKeys.flatMap { full.ledger.openByMergeKey[$0] ?? [] }
            for id in ids where working.cases[id] == nil {
                guard let c = full.ledger.cases[id] else { continue }
                working.admit(c, dispatches: (full.ledger.dispatchesOfCase[id] ?? []).compactMap { full.ledger.dispatches[$0] })
                admitted += 1
            }
        }
        for step in 0..<2500 {
            let n = step * 7919 + seed * 104_729
            if step % 400 == 399 {
                // A restart: the broker starts from the counters, the modes and the rungs.
                working = Ledger()
                working.ids = full.ledger.ids
                working.modes = full.ledger.modes
                working.admit(timers: Array(full.ledger.timers.all))
            }
            let (command, actor) = InvariantTests.command(n, full)
            if n % 17 == 0 { full.now = full.now.adding(ms: 2 * 86_400_000) }
            if n % 11 == 0 {
                full.now = full.now.adding(ms: Int64(n % 7) * 3_600_000)
                for t in full.ledger.timers.all.sorted(by: { $0.id < $1.id }) {
                    readBack(Ledger.Needs(cases: [t.caseID]))
                    let a = full.ledger.fire(t.id, now: full.now), b = working.fire(t.id, now: full.now)
                    #expect(a == b, "rung \(t.id)")
                }
            }
            readBack(command.needs(full.rules))
            let expected = full.run(command, by: actor)
            let got = working.decide(command, by: actor, rules: full.rules, now: full.now)
            switch (expected, got) {
            case (.success(let a), .success(let b)): #expect(a == b, "step \(step): \(command.name)")
            case (.failure(let a), .failure(let b)): #expect(a.code == b.code && a.message == b.message && a.state == b.state, "step \(step)")
            default: Issue.record("step \(step) \(command.name): whole ledger \(expected), working set \(got)")
            }
            // Once durable (here: at once), finished cases leave.
            if case .success(let d) = got {
                for c in Set(d.touched.cases) where working.cases[c]?.state.isTerminal == true {
                    working.evict(c)
                    evicted += 1
                }
            }
            // Open ones beyond the bound leave too (here the oldest by id: nothing is in flight).
            while working.cases.count > bound, let oldest = working.cases.keys.min() {
                working.release(oldest)
                released += 1
            }
        }
        // What is in memory is as the whole ledger has it.
        for c in working.cases.values {
            #expect(full.ledger.cases[c.caseID] == c)
            #expect(working.openDispatchRecords(of: c.caseID) == full.ledger.openDispatchRecords(of: c.caseID))
        }
        #expect(working.timers == full.ledger.timers)
        #expect(working.cases.count < full.ledger.cases.count, "finished cases left memory")
        #expect(evicted > 0 && admitted > 0, "the walk exercised leaving and coming back (\(evicted), \(admitted))")
        #expect(bound == .max || released > 0, "open cases left memory beyond the bound")
    }

    /// After a restart nothing is in memory: a report of a problem already open merges into
    /// that case only because the case is read back by its merge key; a report repeated by its
    /// source is answered as before only because the case is read back by its source's id.
    @Test func theSameProblemAndTheSameReportAreFoundAfterARestart() throws {
        var full = Driver()
        let open = full.newCase(Fixtures.submit(address: "德化街1号"))
        let repeated = Fixtures.submit(address: "人民路2号", ref: "12345-rep")
        _ = full.ok(repeated, by: Fixtures.hotline)
        func fresh() -> Ledger {
            var l = Ledger()
            l.ids = full.ledger.ids
            l.admit(timers: Array(full.ledger.timers.all))
            return l
        }
        func readBack(_ needs: Ledger.Needs, into l: inout Ledger) throws {
            let m = l.missing(needs)
            let ids = m.refs.compactMap { full.ledger.caseID(source: $0.source, externalRef: $0.ref) }
                + m.mergeKeys.flatMap { full.ledger.openByMergeKey[$0] ?? [] }
            for id in ids {
                let c = try #require(full.ledger.cases[id])
                l.admit(c, dispatches: (full.ledger.dispatchesOfCase[id] ?? []).compactMap { full.ledger.dispatches[$0] })
            }
        }
        for command in [Fixtures.submit(address: " 德化街1号\u{3000}"), repeated] {
            var working = fresh()
            try readBack(command.needs(full.rules), into: &working)
            let now = full.now.adding(ms: 1000)
            let got = try working.decide(command, by: Fixtures.hotline, rules: full.rules, now: now).get()
            let expected = try full.run(command, by: Fixtures.hotline).get()
            #expect(got == expected)
        }
        let merged = try full.ledger.decide(Fixtures.submit(address: "德化街1号"), by: Fixtures.hotline, rules: full.rules, now: full.now).get()
        guard case .accepted(_, .merged, let into?, _)? = merged.reply else { Issue.record("not merged"); return }
        #expect(into == open, "the comparison above was about a merge")
    }

    /// Cases come back from the store in any order; the merge index stays oldest first, so a
    /// report joins the newest open case of its problem (the older one's window has passed).
    @Test func casesReadBackInAnyOrderKeepTheNewestLast() throws {
        var full = Driver()
        let older = full.newCase(Fixtures.submit(address: "二七路8号"))
        full.now = full.now.adding(ms: 3 * 86_400_000)  // past the merge window of the first
        let newer = full.newCase(Fixtures.submit(address: "二七路8号"))
        #expect(newer != older && full.state(newer) != .merged, "outside the window: a case of its own")
        var working = Ledger()
        working.ids = full.ledger.ids
        for id in [newer, older] {  // the newer first, as a batch's read-back may bring them
            working.admit(full.ledger.cases[id]!, dispatches: (full.ledger.dispatchesOfCase[id] ?? []).compactMap { full.ledger.dispatches[$0] })
        }
        #expect(working.openByMergeKey == full.ledger.openByMergeKey)
        let report = Fixtures.submit(address: "二七路8号")
        let got = try working.decide(report, by: Fixtures.hotline, rules: full.rules, now: full.now.adding(ms: 1000)).get()
        let expected = try full.run(report, by: Fixtures.hotline).get()
        #expect(got == expected)
        guard case .accepted(_, .merged, let into?, _)? = got.reply else { Issue.record("not merged: \(String(describing: got.reply))"); return }
        #expect(into == newer)
    }
}
