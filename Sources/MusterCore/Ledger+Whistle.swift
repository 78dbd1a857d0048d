import Foundation
import MusterWire

/// The whistle in the ledger: folding its facts (states from `WhistleMachine` and
/// `SummonMachine`, never set by hand) and the guard its stand-down is read against.
extension Ledger {
    mutating func applyWhistle(_ fact: Fact, _ fp: inout Footprint) {
        let id = fact.caseID
        switch fact.change {
        case .whistleBlown(var w):
            w.state = .open
            w.summons = []
            whistles[id] = w
            ids.observe(whistleID: id)
            fp.whistles.append(id)
            return
        case .summoned(var s):
            s.state = .summoned
            guard whistles[id] != nil else { return }
            whistles[id]!.summons.append(s)
            fp.whistles.append(id)
        case .reported(let sid, let status, let note, let lat, let lon):
            updateSummon(sid, &fp) { s in
                s.note = note ?? s.note; s.lat = lat ?? s.lat; s.lon = lon ?? s.lon
                if status == .enRoute, s.enRouteAt == nil { s.enRouteAt = fact.at }
                if status == .onSite, s.onSiteAt == nil { s.onSiteAt = fact.at }
            }
        case .released(let sid, _):
            updateSummon(sid, &fp) { $0.endedAt = fact.at }
        case .stoodDown(_, let override):
            guard whistles[id] != nil else { return }
            whistles[id]!.closedAt = fact.at
            whistles[id]!.override = override
            fp.whistles.append(id)
        default:
            return
        }
        advanceWhistle(fact, &fp)
    }

    /// Moves the whistle and its departments by the rows their tables take for this fact.
    mutating func advanceWhistle(_ fact: Fact, _ fp: inout Footprint) {
        if let (sid, trigger) = fact.change.summonTrigger { moveSummon(sid, trigger, at: fact.at, &fp) }
        guard let trigger = fact.change.whistleTrigger, let w = whistles[fact.caseID],
              let row = WhistleMachine.table.outcome(w.state, trigger, holds: { holds($0, w) }).row else { return }
        whistles[w.whistleID]!.state = row.to
        fp.whistles.append(w.whistleID)
        for case .standDownAll in row.effects {
            for s in w.summons where s.state.isActive {
                moveSummon(s.summonID, .standDown, at: fact.at, &fp)
                updateSummon(s.summonID, &fp) { $0.endedAt = fact.at }
            }
        }
    }

    private mutating func moveSummon(_ sid: String, _ trigger: SummonMachine.Trigger, at: Date, _ fp: inout Footprint) {
        guard let s = summon(sid), let row = SummonMachine.table.outcome(s.state, trigger, holds: { _ in true }).row else { return }
        updateSummon(sid, &fp) { $0.state = row.to }
        if row.effects.contains(.stopClock) { removeTimers(of: sid, clocks: [.whistle], &fp) }
    }

    mutating func updateSummon(_ sid: String, _ fp: inout Footprint, _ change: (inout SummonRecord) -> Void) {
        let wid = SummonRecord.parts(of: sid).whistle
        guard let i = whistles[wid]?.summons.firstIndex(where: { $0.summonID == sid }) else { return }
        change(&whistles[wid]!.summons[i])
        fp.whistles.append(wid)
    }

    public func summon(_ sid: String) -> SummonRecord? {
        whistles[SummonRecord.parts(of: sid).whistle]?.summons.first { $0.summonID == sid }
    }

    /// The whistle's guard. A case not in memory while a stand-down is applied was read back to
    /// decide it (and replay holds every case), so absent means the decision found it finished.
    func holds(_ g: WhistleMachine.Guard, _ w: WhistleRecord) -> Bool {
        switch g {
        case .caseFinished:
            guard let id = w.caseID, let c = cases[id] else { return true }
            return Ledger.isDone(c.state)
        }
    }

    /// 办结 or later, or never to be worked on here (rejected, merged): nobody is needed on site.
    static func isDone(_ s: CaseState) -> Bool { s == .finished || s == .verified || s.isTerminal }
}
