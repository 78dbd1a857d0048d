import Foundation
import MusterCore
import MusterWire

/// Writes a fact as the log's current form, v3 (docs/LOG-FORMAT.md): `{"v":3,"type":…, fields}`,
/// the fields named as in the `EVENT`'s data (PROTOCOL.md) plus what replay needs (whole
/// records, rung ids), RFC 3339 times to the millisecond, absent values left out. Hand-written because the broker logs
/// every fact and JSONEncoder cost a fifth of the broker's time. `LogReader` reads it back
/// (round-trip tested for every fact type, and the keys checked against the document).
enum LogWriter {
    static func write(_ change: Fact.Change, type: String) -> [UInt8] {
        var w = JSONWriter(capacity: 256)
        w.field("v", LogFormat.version)
        w.field("type", type)
        switch change {
        case .accepted(let c): w.raw("case", caseJSON(c))
        case .merged(let into): w.field("merged_into", into)
        case .reportMerged(let from): w.field("from_case", from)
        case .triage(let reason, let suggestions):
            w.field("reason", reason)
            if !suggestions.isEmpty { w.array("suggestions", suggestions.map(\.json)) }
        case .consultation, .closed: break
        case .dispatched(let d): w.raw("dispatch", dispatchJSON(d))
        case .assigned(let lead, let assists, let note):
            w.field("lead", lead); w.field("assists", assists); w.field("note", note)
        case .rejected(let reason): w.field("reason", reason)
        case .acked(let d, let handler, let note):
            w.field("dispatch_id", d); w.field("handler", handler); w.field("note", note)
        case .progressed(let d, let note, let attachments):
            w.field("dispatch_id", d); w.field("note", note); w.array("attachments", attachments.map(\.json))
        case .resolved(let d, let lead, let result, let note, let attachments):
            w.field("dispatch_id", d); w.field("role", lead ? "lead" : "assist"); w.field("result", result); w.field("note", note)
            w.array("attachments", attachments.map(\.json))
        case .milestoneReached(let d, let name, let late, let next):
            w.field("dispatch_id", d); w.field("milestone", name); w.field("late", late); w.time("next_due_by", next)
        case .returned(let d, let reason, let note):
            w.field("dispatch_id", d); w.field("reason", reason.rawValue); w.field("note", note)
        case .cancelled(let d): w.field("dispatch_id", d)
        case .verified(let passed, let note): w.field("passed", passed); w.field("note", note)
        case .evaluated(let s, let note): w.field("satisfaction", s.rawValue); w.field("note", note)
        case .scheduled(let timers): writeSchedule(timers, into: &w)
        case .escalated(let t): w.raw("rung", rungJSON(t))
        case .extended(let d, let resolveBy, let by, let reason):
            w.field("dispatch_id", d); w.time("resolve_by", resolveBy); w.field("by", by); w.field("reason", reason)
        case .deadlinesMoved(let d, let ackBy, let resolveBy, let returnBy, let reason):
            w.field("dispatch_id", d)
            w.object("due") { $0.time("ack_by", ackBy); $0.time("resolve_by", resolveBy); $0.time("return_by", returnBy) }
            w.field("reason", reason)
        case .backlogged(let d, let explanation): w.field("dispatch_id", d); w.field("explanation", explanation)
        case .modeSet(let mode, let scope): w.field("mode", mode.rawValue); w.field("scope", scope)
        case .whistleBlown(let r): w.raw("whistle", whistleJSON(r))
        case .summoned(let s): w.raw("summon", summonJSON(s))
        case .reported(let sid, let status, let note, let lat, let lon):
            w.field("summon_id", sid); w.field("status", status.rawValue); w.field("note", note)
            if let lat, let lon { w.field("lat", lat); w.field("lon", lon) }
        case .released(let sid, let note): w.field("summon_id", sid); w.field("note", note)
        case .stoodDown(let note, let override): w.field("note", note); w.field("override", override)
        case .downstream(let subject, let ref):
            w.field("subject", subject); w.field("status", ref.status); w.field("ref", ref.ref); w.field("update", ref.update)
        case .incidentDeclared(let r): w.raw("incident", incidentJSON(r))
        case .incidentEnded(let outcome, let note): w.field("outcome", outcome.rawValue); w.field("note", note)
        case .handedBack(let incidentID): w.field("incident_id", incidentID)
        case .adapterHealth(let h):
            w.field("adapter", h.adapter); w.field("agency", h.agency); w.field("state", h.state.rawValue)
            w.field("detail", h.detail); if let f = h.failures { w.field("failures", f) }
        case .petitionNotified, .petitionObjected, .petitionRuled, .petitionRequested, .petitionWindowClosed, .petitionRepeat:
            writePetition(change, into: &w)
        }
        return w.finish()
    }

    /// A whistle as `whistle.blown` records it (its departments follow as `whistle.summoned`).
    static func whistleJSON(_ r: WhistleRecord) -> [UInt8] {
        var w = JSONWriter(capacity: 256)
        w.field("whistle_id", r.whistleID); w.field("grid", r.grid); w.field("kind", r.kind.rawValue); w.field("reason", r.reason)
        w.field("case_id", r.caseID); w.field("blown_by", r.blownBy); w.field("street", r.street); w.time("blown_at", r.blownAt)
        w.field("report_within_ms", r.reportWithinMs)
        return w.finish()
    }

    /// The incident as declared (its reports and end are facts of their own).
    static func incidentJSON(_ r: IncidentRecord) -> [UInt8] {
        var w = JSONWriter(capacity: 400)
        w.field("incident_id", r.incidentID); w.field("ref", r.ref); w.field("agency", r.agency); w.field("title", r.title)
        w.field("categories", r.categories); w.field("grids", r.grids); w.field("message", r.message); w.field("cause", r.cause)
        w.time("starts_at", r.startsAt); w.time("expected_end", r.expectedEnd); w.time("declared_at", r.declaredAt)
        w.field("declared_by", r.declaredBy)
        return w.finish()
    }

    static func summonJSON(_ s: SummonRecord) -> [UInt8] {
        var w = JSONWriter(capacity: 200)
        w.field("summon_id", s.summonID); w.field("whistle_id", s.whistleID); w.field("agency", s.agency)
        w.time("summoned_at", s.summonedAt); w.time("report_by", s.reportBy)
        return w.finish()
    }

    static func caseJSON(_ c: CaseRecord) -> [UInt8] {
        var w = JSONWriter(capacity: 400)
        w.field("case_id", c.caseID); w.field("source", c.source.rawValue); w.field("external_ref", c.externalRef)
        w.field("category", c.category); w.field("grid", c.grid); w.field("priority", c.priority.rawValue)
        w.field("title", c.title); w.field("address", c.address); w.field("state", c.state.rawValue); w.field("round", c.round)
        w.field("lead", c.lead); w.field("assists", c.assists); w.field("assigned", c.assigned)
        w.field("returned_by", c.returnedBy); w.field("merged_into", c.mergedInto); w.field("merged_reports", c.mergedReports)
        w.time("accepted_at", c.acceptedAt); w.time("updated_at", c.updatedAt); w.time("resolve_by", c.resolveBy)
        w.field("satisfaction", c.satisfaction?.rawValue)
        if let e = c.escalation { w.field("escalation", e) }
        w.field("backlog", c.backlog)
        if let p = c.petition { w.raw("petition", petitionJSON(p)) }
        return w.finish()
    }

    static func dispatchJSON(_ d: DispatchRecord) -> [UInt8] {
        var w = JSONWriter(capacity: 320)
        w.field("dispatch_id", d.dispatchID); w.field("case_id", d.caseID); w.field("agency", d.agency)
        w.field("role", d.role.rawValue); w.field("round", d.round); w.field("state", d.state.rawValue)
        w.time("sent_at", d.sentAt); w.time("ack_by", d.ackBy); w.time("resolve_by", d.resolveBy); w.time("return_by", d.returnBy)
        w.time("acked_at", d.ackedAt); w.time("finished_at", d.finishedAt); w.field("handler", d.handler)
        if let n = d.extensions { w.field("extensions", n) }
        w.time("first_resolve_by", d.firstResolveBy)
        if let m = d.milestones { w.raw("milestones", milestonesJSON(m)) }
        return w.finish()
    }

    /// A dispatch's stages: `[{"name","within","due_by"?,"reached_at"?}]` (also the store's `dispatches.milestones`).
    static func milestonesJSON(_ stages: [Milestone]) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "[")]
        for (i, m) in stages.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            var w = JSONWriter(capacity: 96)
            w.field("name", m.name); w.field("within", m.within); w.time("due_by", m.dueBy); w.time("reached_at", m.reachedAt)
            out += w.finish()
        }
        out.append(UInt8(ascii: "]"))
        return out
    }

    /// v3's `clock.scheduled`: what its rungs share (case, owner, department) once, then each
    /// clock's deadline once and each rung by what is its own — a dispatch's six rungs took
    /// 1.6 KB as whole rungs, the largest fact a SUBMIT wrote. A rung's id follows from its
    /// owner, clock, stage and index; rungs that do not share those or whose ids do not follow
    /// (none are made so) are written whole, as v2 wrote them.
    static func writeSchedule(_ timers: [LadderTimer], into w: inout JSONWriter) {
        guard let first = timers.first,
              timers.allSatisfy({ $0.caseID == first.caseID && $0.dispatchID == first.dispatchID && $0.agency == first.agency })
        else { return w.array("rungs", timers.map(rungJSON)) }
        // Runs of rungs of one clock, stage and deadline, in order.
        var runs: [(range: Range<Int>, stage: Int?)] = []
        for (i, t) in timers.enumerated() {
            guard let stage = stage(t) else { return w.array("rungs", timers.map(rungJSON)) }
            if let last = runs.last, case let head = timers[last.range.lowerBound],
               head.clock == t.clock, head.deadline == t.deadline, last.stage == stage {
                runs[runs.count - 1].range = last.range.lowerBound..<(i + 1)
            } else {
                runs.append((i..<(i + 1), stage))
            }
        }
        w.field("case_id", first.caseID); w.field("dispatch_id", first.dispatchID); w.field("agency", first.agency)
        w.objects("clocks", count: runs.count) { i, g in writeClock(timers[runs[i].range], stage: runs[i].stage, into: &g) }
    }

    /// Rungs of one clock and deadline, as v3's `clock.scheduled` lists them under `clocks`.
    static func writeClock(_ run: ArraySlice<LadderTimer>, stage: Int?, into g: inout JSONWriter) {
        guard let head = run.first else { return }
        g.field("clock", head.clock.rawValue)
        if let stage { g.field("stage", stage) }
        g.time("deadline", head.deadline)
        g.objects("rungs", count: run.count) { j, r in
            let t = run[run.startIndex + j]
            r.field("rung", t.rung); r.field("level", t.level); r.field("notice", t.notice); r.field("to", t.to); r.time("due", t.due)
        }
    }

    static func clockJSON(_ run: [LadderTimer], stage: Int?) -> [UInt8] {
        var g = JSONWriter(capacity: 96 + run.count * 96)
        writeClock(run[...], stage: stage, into: &g)
        return g.finish()
    }

    /// The stage in a rung's id (`D…/milestone.2/0` → 2; `D…/ack/1` → .some(nil)), nil when its
    /// id is not `owner/clock[.stage]/rung`. On the bytes: it runs for every rung scheduled.
    static func stage(_ t: LadderTimer) -> Int?? {
        t.id.withUTF8Bytes { id in t.owner.withUTF8Bytes { owner in t.clock.rawValue.withUTF8Bytes { clock in
            var i = 0
            func take(_ s: UnsafeBufferPointer<UInt8>) -> Bool {
                guard id.count - i >= s.count, memcmp(id.baseAddress! + i, s.baseAddress!, s.count) == 0 else { return false }
                i += s.count
                return true
            }
            func take(_ b: UInt8) -> Bool {
                guard i < id.count, id[i] == b else { return false }
                i += 1
                return true
            }
            func number() -> Int? {  // digits without a leading zero, as String(Int) writes them
                let start = i
                while i < id.count, id[i] >= UInt8(ascii: "0"), id[i] <= UInt8(ascii: "9"), i - start < 9 { i += 1 }
                guard i > start, i - start == 1 || id[start] != UInt8(ascii: "0") else { return nil }
                return id[start..<i].reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
            }
            guard !owner.isEmpty, !clock.isEmpty, take(owner), take(UInt8(ascii: "/")), take(clock) else { return nil }
            var stage: Int?
            if take(UInt8(ascii: ".")) { guard let n = number() else { return nil }; stage = n }
            guard take(UInt8(ascii: "/")), number() == t.rung, i == id.count else { return nil }
            return .some(stage)
        } } }
    }

    static func rungJSON(_ t: LadderTimer) -> [UInt8] {
        var w = JSONWriter(capacity: 256)
        w.field("id", t.id); w.field("case_id", t.caseID); w.field("clock", t.clock.rawValue); w.field("rung", t.rung)
        w.field("level", t.level); w.field("notice", t.notice); w.field("to", t.to); w.field("dispatch_id", t.dispatchID)
        w.field("agency", t.agency); w.time("due", t.due); w.time("deadline", t.deadline)
        return w.finish()
    }
}

extension JSONWriter {
    /// A time as the log writes it (`LogTime`).
    mutating func time(_ k: JSONWriter.Key, _ date: Date) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: LogTime.width) { buf in
            let n = LogTime.format(date, into: buf)
            raw(k, UnsafeBufferPointer(rebasing: buf[..<n]))
        }
    }

    mutating func time(_ k: JSONWriter.Key, _ date: Date?) { if let date { time(k, date) } }
}
