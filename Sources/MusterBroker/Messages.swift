import Foundation
import MusterCore
import MusterStore
import MusterWire

/// The bodies the broker sends, written with `JSONWriter` (no re-encoding on the hot path).
public enum Messages {
    static func error(re: String?, _ e: WireError) -> [UInt8] {
        var w = JSONWriter()
        w.field("re", re)
        w.field("code", e.code.rawValue)
        w.field("message", e.message)
        w.object("detail") { d in
            d.field("field", e.field)
            d.field("state", e.state)
        }
        return w.finish()
    }

    /// The `code` of an ERROR body as `error(re:_:)` writes it (for the metrics; nil if absent).
    static func errorCode(in body: [UInt8]) -> String? {
        let marker = Array(#""code":""#.utf8)
        guard let start = body.firstRange(of: marker)?.upperBound,
              let end = body[start...].firstIndex(of: UInt8(ascii: "\"")) else { return nil }
        return String(decoding: body[start..<end], as: UTF8.self)
    }

    /// `calendar` and `now` mark a deadline that reaches into a provisional year (see `provisional`).
    public static func reply(re: String, _ reply: Reply, calendar: WorkCalendar? = nil, now: Date = Date(ms: 0)) -> (Command, [UInt8]) {
        var w = JSONWriter()
        w.field("re", re)
        switch reply {
        case .accepted(let caseID, let state, let mergedInto, let due):
            w.field("case_id", caseID)
            w.field("state", state.rawValue)
            w.field("merged_into", mergedInto)
            w.field("due", due)
            if let due, let calendar, provisional(calendar, from: now, to: due) { w.field("due_provisional", true) }
            return (.accepted, w.finish())
        case .ok(let caseID, let state, let dispatchID):
            w.field("case_id", caseID)
            w.field("state", state.rawValue)
            w.field("dispatch_id", dispatchID)
            return (.ok, w.finish())
        case .extended(let caseID, let dispatchID, let resolveBy):
            w.field("case_id", caseID)
            w.field("dispatch_id", dispatchID)
            w.field("resolve_by", resolveBy)
            return (.ok, w.finish())
        case .modeSet(let mode, let scope):
            w.field("mode", mode.rawValue)
            w.field("scope", scope)
            return (.ok, w.finish())
        case .whistle(let record, let summoned):
            w.field("whistle_id", record.whistleID)
            w.field("state", record.state.rawValue)
            w.field("case_id", record.caseID)
            w.field("summoned", summoned)
            if !summoned.isEmpty, let s = record.summon(of: summoned[0]) { w.field("report_by", s.reportBy) }
            return (.ok, w.finish())
        case .reported(let whistleID, let agency, let state, let onTime):
            w.field("whistle_id", whistleID)
            w.field("agency", agency)
            w.field("state", state.rawValue)
            if let onTime { w.field("on_time", onTime) }
            return (.ok, w.finish())
        case .acceptedPetition(let caseID, let state, let mergedInto, let due, let p, let standing):
            w.field("case_id", caseID)
            w.field("state", state.rawValue)
            w.field("merged_into", mergedInto)
            w.field("due", due)
            if let due, let calendar, provisional(calendar, from: now, to: due) { w.field("due_provisional", true) }
            w.raw("petition", petitionJSON(p))
            if let standing { w.raw("standing", petitionJSON(standing)) }  // Art. 19: where the petition it repeats stands
            return (.accepted, w.finish())
        case .petition(let caseID, let state, let p):
            w.field("case_id", caseID)
            w.field("state", state.rawValue)
            w.raw("petition", petitionJSON(p))
            return (.ok, w.finish())
        case .acceptedIntoIncident(let caseID, let r):
            w.field("case_id", caseID)
            w.field("state", CaseState.merged.rawValue)
            w.field("merged_into", r.incidentID)
            w.raw("incident", incidentJSON(r))
            return (.accepted, w.finish())
        case .incident(let r):
            w.raw("incident", incidentJSON(r))
            return (.ok, w.finish())
        case .health(let h, let changed):
            w.field("adapter", h.adapter)
            w.field("state", h.state.rawValue)
            w.field("changed", changed)
            return (.ok, w.finish())
        }
    }

    /// A known incident as peers see it: what callers are told, how far it reaches, how many joined.
    static func incidentJSON(_ r: IncidentRecord) -> [UInt8] {
        var w = JSONWriter()
        w.field("incident_id", r.incidentID); w.field("ref", r.ref); w.field("agency", r.agency); w.field("title", r.title)
        w.field("categories", r.categories); w.field("grids", r.grids); w.field("message", r.message); w.field("cause", r.cause)
        w.field("starts_at", r.startsAt); w.field("expected_end", r.expectedEnd)
        w.field("state", r.state.rawValue); w.field("reports", r.reports.count)
        w.field("ended_at", r.endedAt); w.field("outcome", r.outcome?.rawValue); w.field("note", r.note)
        return w.finish()
    }

    /// `{adapter, agency, state, detail, failures}`: an adapter's downstream health.
    static func health(_ h: AdapterHealth) -> [UInt8] {
        var w = JSONWriter()
        w.field("adapter", h.adapter); w.field("agency", h.agency); w.field("state", h.state.rawValue)
        w.field("detail", h.detail); if let f = h.failures { w.field("failures", f) }
        return w.finish()
    }

    /// NOTICE to the centre: an adapter's downstream went down (`downstream_down`) or came back.
    static func healthNotice(delivery: String, _ h: AdapterHealth, kind: String, now: Date) -> [UInt8] {
        var w = JSONWriter()
        w.field("delivery", delivery)
        w.field("kind", kind)
        w.field("agency", h.agency)
        w.field("adapter", h.adapter)
        w.field("state", h.state.rawValue)
        w.field("detail", h.detail)
        if let f = h.failures { w.field("failures", f) }
        w.field("at", now)
        return w.finish()
    }

    static func ok(re: String, _ fill: (inout JSONWriter) -> Void = { _ in }) -> [UInt8] {
        var w = JSONWriter()
        w.field("re", re)
        fill(&w)
        return w.finish()
    }

    /// DISPATCH: the case as submitted, with the broker's `case_id`, `category` and `grid`
    /// appended (last, so that they win over any same-named field a peer sent).
    public static func dispatch(delivery: String, _ d: DispatchRecord, _ c: CaseRecord, submitted: [UInt8], calendar: WorkCalendar) -> [UInt8] {
        var w = JSONWriter(capacity: submitted.count + 400)
        w.field("delivery", delivery)
        w.field("dispatch_id", d.dispatchID)
        w.field("role", d.role.rawValue)
        w.field("round", d.round)
        var caseBytes = Array(submitted)
        while let last = caseBytes.last, JSONWriter.isSpace(last) { caseBytes.removeLast() }
        if caseBytes.last == UInt8(ascii: "}") {
            caseBytes.removeLast()
            var extra = JSONWriter()
            extra.field("case_id", c.caseID)
            // A submitted category is the case's category; add it only where the broker classified.
            if JSONSpan.value(of: "category", in: submitted) == nil { extra.field("category", c.category) }
            extra.field("grid", c.grid)
            var tail = extra.finish()
            tail.removeFirst()  // its "{"
            let empty = caseBytes.dropFirst().allSatisfy(JSONWriter.isSpace)
            if !empty { caseBytes.append(UInt8(ascii: ",")) }
            caseBytes.append(contentsOf: tail)
        }
        w.raw("case", caseBytes)
        due(Due(ackBy: d.ackBy, resolveBy: d.resolveBy, returnBy: d.returnBy, milestones: d.milestones ?? []),
            provisional: provisional(calendar, d), into: &w)
        return w.finish()
    }

    /// A dispatch's `due`: 签收, 办结 and 退单 deadlines, and whether they are provisional;
    /// written in place.
    static func due(_ d: Due, provisional: Bool = false, as key: JSONWriter.Key = "due", into w: inout JSONWriter) {
        w.object(key) { w in
            w.field("ack_by", d.ackBy)
            w.field("resolve_by", d.resolveBy)
            w.field("return_by", d.returnBy)
            if !d.milestones.isEmpty { w.raw("milestones", milestonesJSON(d.milestones)) }
            if provisional { w.field("provisional", true) }
        }
    }

    /// Staged limits on the wire: `[{"name","within","due_by"?,"reached_at"?}]`; only the stage
    /// running (and those reached) have times.
    static func milestonesJSON(_ stages: [Milestone]) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "[")]
        for (i, m) in stages.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            var w = JSONWriter()
            w.field("name", m.name); w.field("within", m.within)
            w.field("due_by", m.dueBy); w.field("reached_at", m.reachedAt)
            out += w.finish()
        }
        out.append(UInt8(ascii: "]"))
        return out
    }

    /// A deadline reaching into a year whose holiday schedule is provisional (computed from the
    /// law while the State Council's notice is not yet in config/calendar): it may still move.
    static func provisional(_ calendar: WorkCalendar, from: Date, to: Date) -> Bool {
        !calendar.provisionalYears(from: from, to: to).isEmpty
    }

    static func provisional(_ calendar: WorkCalendar, _ d: DispatchRecord) -> Bool {
        provisional(calendar, from: d.sentAt, to: max(d.ackBy, d.resolveBy, d.returnBy))
    }

    static func event(_ logged: LoggedFact, calendar: WorkCalendar? = nil) -> [UInt8] {
        var w = JSONWriter(capacity: logged.data.count + 160)
        w.field("delivery", "E\(logged.seq)")
        w.field("seq", logged.seq)
        w.field("type", logged.type)
        w.field("case_id", logged.fact.caseID)
        w.field("at", logged.fact.at)
        w.field("actor", logged.fact.actor)
        w.raw("data", eventData(logged.fact.change, record: logged.fact.caseID, grids: nil, calendar: calendar))
        return w.finish()
    }

    /// An event's `data` on the wire: snake_case, RFC 3339 times (the log keeps its own form).
    /// `record`: the fact's case or whistle id (a stand-down names its whistle by it).
    static func eventData(_ change: Fact.Change, record: String = "", grids: GridMap?, calendar: WorkCalendar? = nil) -> [UInt8] {
        var w = JSONWriter()
        switch change {
        case .accepted(let c): w.raw("case", caseJSON(c, grids: grids))
        case .merged(let into): w.field("merged_into", into)
        case .reportMerged(let from): w.field("from_case", from)
        case .triage(let reason, let suggestions):
            w.field("reason", reason)
            if !suggestions.isEmpty { w.array("suggestions", suggestions.map(\.json)) }
        case .consultation, .closed: break
        case .dispatched(let d): w.raw("dispatch", dispatchJSON(d, calendar: calendar))
        case .assigned(let lead, let assists, let note): w.field("lead", lead); w.field("assists", assists); w.field("note", note)
        case .rejected(let reason): w.field("reason", reason)
        case .acked(let d, let handler, let note): w.field("dispatch_id", d); w.field("handler", handler); w.field("note", note)
        case .progressed(let d, let note, let attachments):
            w.field("dispatch_id", d); w.field("note", note); w.array("attachments", attachments.map(\.json))
        case .resolved(let d, let lead, let result, let note, let attachments):
            w.field("dispatch_id", d); w.field("role", lead ? "lead" : "assist"); w.field("result", result); w.field("note", note)
            w.array("attachments", attachments.map(\.json))
        case .milestoneReached(let d, let name, let late, let next):
            w.field("dispatch_id", d); w.field("milestone", name); w.field("late", late); w.field("next_due_by", next)
        case .returned(let d, let reason, let note): w.field("dispatch_id", d); w.field("reason", reason.rawValue); w.field("note", note)
        case .cancelled(let d): w.field("dispatch_id", d)
        case .verified(let passed, let note): w.field("passed", passed); w.field("note", note)
        case .evaluated(let s, let note): w.field("satisfaction", s.rawValue); w.field("note", note)
        case .scheduled(let timers): w.array("rungs", timers.map(rungJSON))
        case .escalated(let t): w.raw("rung", rungJSON(t))
        case .extended(let d, let resolveBy, let by, let reason):
            w.field("dispatch_id", d); w.field("resolve_by", resolveBy); w.field("by", by); w.field("reason", reason)
        case .modeSet(let mode, let scope): w.field("mode", mode.rawValue); w.field("scope", scope)
        case .deadlinesMoved(let d, let ackBy, let resolveBy, let returnBy, let reason):
            w.field("dispatch_id", d)
            due(Due(ackBy: ackBy, resolveBy: resolveBy, returnBy: returnBy), into: &w)
            w.field("reason", reason)
        case .backlogged(let d, let explanation): w.field("dispatch_id", d); w.field("explanation", explanation)
        case .whistleBlown(let r):
            w.field("whistle_id", r.whistleID); w.field("grid", r.grid); w.field("kind", r.kind.rawValue); w.field("reason", r.reason)
            w.field("case_id", r.caseID); w.field("blown_by", r.blownBy); w.field("street", r.street)
            w.field("report_within", duration(ms: r.reportWithinMs))
        case .summoned(let s):
            w.field("whistle_id", s.whistleID); w.field("summon_id", s.summonID); w.field("agency", s.agency)
            w.field("report_by", s.reportBy)
        case .reported(let sid, let status, let note, let lat, let lon):
            w.field("whistle_id", SummonRecord.parts(of: sid).whistle); w.field("summon_id", sid); w.field("agency", SummonRecord.parts(of: sid).agency)
            w.field("status", status.rawValue); w.field("note", note)
            if let lat, let lon { w.field("lat", lat); w.field("lon", lon) }
        case .released(let sid, let note):
            w.field("whistle_id", SummonRecord.parts(of: sid).whistle); w.field("summon_id", sid); w.field("agency", SummonRecord.parts(of: sid).agency)
            w.field("note", note)
        case .stoodDown(let note, let override): w.field("whistle_id", record); w.field("note", note); w.field("override", override)
        case .downstream(let subject, let ref):
            w.field("subject", subject); w.field("status", ref.status); w.field("ref", ref.ref); w.field("update", ref.update)
        case .adapterHealth(let h): w.raw("health", health(h))
        case .incidentDeclared(let r): w.raw("incident", incidentJSON(r))
        case .incidentEnded(let outcome, let note): w.field("incident_id", record); w.field("outcome", outcome.rawValue); w.field("note", note)
        case .handedBack(let incidentID): w.field("incident_id", incidentID)
        case .petitionNotified, .petitionObjected, .petitionRuled, .petitionRequested, .petitionWindowClosed, .petitionRepeat:
            petitionEventData(change, into: &w)
        }
        return w.finish()
    }


    static func caseJSON(_ c: CaseRecord, grids: GridMap?) -> [UInt8] {
        var w = JSONWriter()
        w.field("case_id", c.caseID)
        w.field("source", c.source.rawValue)
        w.field("external_ref", c.externalRef)
        w.field("category", c.category)
        w.field("grid", c.grid)
        if let grids { w.field("grid_name", grids.displayName(c.grid)) }
        w.field("priority", c.priority.rawValue)
        w.field("title", c.title)
        w.field("address", c.address)
        w.field("state", c.state.rawValue)
        w.field("state_zh", c.state.chinese)
        w.field("round", c.round)
        w.field("lead", c.lead)
        w.field("assists", c.assists)
        w.field("assigned", c.assigned)
        w.field("returned_by", c.returnedBy)
        w.field("merged_into", c.mergedInto)
        w.field("merged_reports", c.mergedReports)
        w.field("accepted_at", c.acceptedAt)
        w.field("updated_at", c.updatedAt)
        w.field("resolve_by", c.resolveBy)
        w.field("satisfaction", c.satisfaction?.rawValue)
        if let e = c.escalation { w.field("escalation", e) }
        w.field("backlog", c.backlog)
        if let p = c.petition { w.raw("petition", petitionJSON(p)) }
        return w.finish()
    }

    static func dispatchJSON(_ d: DispatchRecord, calendar: WorkCalendar? = nil) -> [UInt8] {
        var w = JSONWriter()
        w.field("dispatch_id", d.dispatchID)
        w.field("agency", d.agency)
        w.field("role", d.role.rawValue)
        w.field("round", d.round)
        w.field("state", d.state.rawValue)
        w.field("state_zh", d.state.chinese)
        w.field("sent_at", d.sentAt)
        w.field("ack_by", d.ackBy)
        w.field("resolve_by", d.resolveBy)
        w.field("return_by", d.returnBy)
        w.field("acked_at", d.ackedAt)
        w.field("finished_at", d.finishedAt)
        w.field("handler", d.handler)
        if let n = d.extensions { w.field("extensions", n) }
        if let m = d.milestones { w.raw("milestones", milestonesJSON(m)) }
        if let calendar, provisional(calendar, d) { w.field("provisional", true) }
        return w.finish()
    }

    /// A timeline entry; with its hash-chain link when QUERY case asked for `chain`.
    static func timelineEntry(_ logged: LoggedFact, calendar: WorkCalendar? = nil, link: ChainLink? = nil) -> [UInt8] {
        var w = JSONWriter()
        w.field("seq", logged.seq)
        w.field("type", logged.type)
        w.field("at", logged.fact.at)
        w.field("actor", logged.fact.actor)
        w.raw("data", eventData(logged.fact.change, record: logged.fact.caseID, grids: nil, calendar: calendar))
        if let link {
            w.field("hash", Self.hex(link.hash))
            w.field("prev_hash", Self.hex(link.previous))
            w.field("intact", link.intact)
        }
        return w.finish()
    }

    static func hex(_ d: Data) -> String { d.map { String(format: "%02x", $0) }.joined() }

    static func rungJSON(_ t: LadderTimer) -> [UInt8] {
        var w = JSONWriter()
        w.field("clock", t.clock.rawValue)
        w.field("rung", t.rung)
        w.field("level", t.level)
        w.field("notice", t.notice)
        w.field("to", t.to)
        if t.clock == .whistle {
            w.field("whistle_id", t.caseID)
            w.field("summon_id", t.dispatchID)
        } else {
            w.field("dispatch_id", t.dispatchID)
        }
        w.field("agency", t.agency)
        w.field("due", t.due)
        w.field("deadline", t.deadline)
        return w.finish()
    }

    /// NOTICE to a department: its dispatch's deadlines moved because the holiday schedule did.
    static func deadlinesMoved(delivery: String, _ m: Ledger.MovedDeadline, title: String?, calendar: WorkCalendar) -> [UInt8] {
        let d = m.dispatch
        var w = JSONWriter()
        w.field("delivery", delivery)
        w.field("kind", "deadlines_moved")
        w.field("kind_zh", "时限调整")
        w.field("case_id", d.caseID)
        w.field("dispatch_id", d.dispatchID)
        w.field("agency", d.agency)
        w.field("title", title)
        due(Due(ackBy: d.ackBy, resolveBy: d.resolveBy, returnBy: d.returnBy), provisional: provisional(calendar, d), into: &w)
        due(m.before, as: "was", into: &w)
        w.field("reason", "节假日安排已更新 the holiday schedule was updated (official years \(calendar.years.sorted().map(String.init).joined(separator: ", ")))")
        return w.finish()
    }

    /// NOTICE: a rung of a ladder reached (催办 remind, 督办 supervise, 通报 report_overdue …).
    /// For a `whistle` clock: `whistle_id`, the department's `summon_id`, and the case the whistle
    /// was blown on as `case_id`; `title` is the whistle's reason.
    /// `milestone`: for a `milestone` clock, the stage running late.
    static func notice(delivery: String, _ t: LadderTimer, title: String?, now: Date, whistle: WhistleRecord? = nil,
                       milestone: String? = nil) -> [UInt8] {
        var w = JSONWriter()
        w.field("delivery", delivery)
        w.field("kind", t.notice)
        w.field("level", t.level)
        w.field("clock", t.clock.rawValue)
        w.field("milestone", milestone)
        if t.clock == .whistle {
            w.field("whistle_id", t.caseID)
            w.field("summon_id", t.dispatchID)
            w.field("case_id", whistle?.caseID)
        } else {
            w.field("case_id", t.caseID)
            w.field("dispatch_id", t.dispatchID)
        }
        w.field("agency", t.agency)
        w.field("title", title)
        w.field("due", t.deadline)
        w.field("rung_due", t.due)
        if now > t.deadline { w.field("overdue_by", Messages.duration(ms: now.ms - t.deadline.ms)) }
        return w.finish()
    }

    /// `2h15m`, `40s`: a length in the protocol's units.
    static func duration(ms: Int64) -> String {
        let s = ms / 1000
        if s < 60 { return "\(s)s" }
        let m = s / 60
        if m < 60 { return "\(m)m" }
        let h = m / 60
        return m % 60 == 0 ? "\(h)h" : "\(h)h\(m % 60)m"
    }
}
