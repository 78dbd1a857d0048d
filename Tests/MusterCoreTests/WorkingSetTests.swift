import Foundation
import Testing
@testable import MusterCore
import MusterWire

/// The broker keeps only open work in memory: finished cases leave once durable and come back
/// from the store when a command names them. Deciding on that working set must be deciding on
/// all history: the same facts, actions and replies, the same refusals.
@Suite struct WorkingSetTests {
    @Test(arguments: [1, 2, 3])
    func aWorkingSetDecidesAsTheWholeLedgerDoes(_ seed: Int) {
        var full = Driver()
        var working = Ledger()
        var evicted = 0, admitted = 0
        for step in 0..<2500 {
            let n = step * 7919 + seed * 104_729
            let (command, actor) = InvariantTests.command(n, full)
            if n % 17 == 0 { full.now = full.now.adding(ms: 2 * 86_400_000) }
            if n % 11 == 0 {
                full.now = full.now.adding(ms: Int64(n % 7) * 3_600_000)
                for t in full.ledger.timers.values.sorted(by: { $0.id < $1.id }) {
                    let a = full.ledger.fire(t.id, now: full.now), b = working.fire(t.id, now: full.now)
                    #expect(a == b, "rung \(t.id)")
                }
            }
            // The shell's read-back, with the whole ledger standing in for the store.
            let missing = working.missing(command.needs)
            var ids = missing.cases
            ids += missing.dispatches.compactMap { full.ledger.dispatches[$0]?.caseID }
            ids += missing.refs.compactMap { full.ledger.caseID(source: $0.source, externalRef: $0.ref) }
            for id in ids {
                guard let c = full.ledger.cases[id] else { continue }
                working.admit(c, dispatches: (full.ledger.dispatchesOfCase[id] ?? []).compactMap { full.ledger.dispatches[$0] })
                admitted += 1
            }
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
        }
        // The open work is all there, as the whole ledger has it.
        for c in full.ledger.cases.values where !c.state.isTerminal {
            #expect(working.cases[c.caseID] == c)
            #expect(working.openDispatches[c.caseID] == full.ledger.openDispatches[c.caseID])
        }
        #expect(working.timers == full.ledger.timers)
        #expect(working.cases.count < full.ledger.cases.count, "finished cases left memory")
        #expect(evicted > 0 && admitted > 0, "the walk exercised leaving and coming back (\(evicted), \(admitted))")
    }
}
