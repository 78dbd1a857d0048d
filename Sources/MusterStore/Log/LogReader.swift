import Foundation
import MusterCore
import MusterWire

/// Reads a v2 or v3 log record (docs/LOG-FORMAT.md), as `LogWriter` writes it. Each type's required
/// fields must be there: a missing or mistyped one is an error naming the key, never a default.
/// (`role` and `passed` repeat what the type says; `LogFormat.Reader` checks the two agree.)
struct LogRecordV2: Decodable {
    var type: String
    var change: Fact.Change

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: LogKey.self)
        let v = try c.decode(Int.self, forKey: "v")
        guard v == 2 || v == 3 else {
            throw DecodingError.dataCorruptedError(forKey: "v", in: c, debugDescription: "log format v\(v): written by a newer muster; this one reads v1 to v3")
        }
        type = try c.decode(String.self, forKey: "type")
        switch type {
        case "case.accepted": change = .accepted(try Self.caseRecord(c.nestedContainer(keyedBy: LogKey.self, forKey: "case")))
        case "case.merged": change = .merged(into: try c.decode(String.self, forKey: "merged_into"))
        case "case.report_merged": change = .reportMerged(from: try c.decode(String.self, forKey: "from_case"))
        case "case.triage":  // suggestions: since 智能派单; older records have none
            change = .triage(reason: try c.decode(String.self, forKey: "reason"),
                             suggestions: try c.decodeIfPresent([CategorySuggestion].self, forKey: "suggestions") ?? [])
        case "case.consultation": change = .consultation
        case "case.dispatched": change = .dispatched(try Self.dispatchRecord(c.nestedContainer(keyedBy: LogKey.self, forKey: "dispatch")))
        case "case.assigned":
            change = .assigned(lead: try c.decode(String.self, forKey: "lead"), assists: try c.decode([String].self, forKey: "assists"),
                               note: try c.decodeIfPresent(String.self, forKey: "note"))
        case "case.rejected": change = .rejected(reason: try c.decode(String.self, forKey: "reason"))
        case "dispatch.acked":
            change = .acked(dispatchID: try c.decode(String.self, forKey: "dispatch_id"),
                             handler: try c.decodeIfPresent(String.self, forKey: "handler"), note: try c.decodeIfPresent(String.self, forKey: "note"))
        case "dispatch.progress":
            change = .progressed(dispatchID: try c.decode(String.self, forKey: "dispatch_id"), note: try c.decodeIfPresent(String.self, forKey: "note"),
                                 attachments: try c.decode([Attachment].self, forKey: "attachments"))
        case "dispatch.milestone_reached":
            change = .milestoneReached(dispatchID: try c.decode(String.self, forKey: "dispatch_id"), milestone: try c.decode(String.self, forKey: "milestone"),
                                       late: try c.decode(Bool.self, forKey: "late"), nextDueBy: try c.timeIfPresent("next_due_by"))
        case "case.resolved", "dispatch.resolved":
            change = .resolved(dispatchID: try c.decode(String.self, forKey: "dispatch_id"), lead: try c.decode(DispatchRole.self, forKey: "role") == .lead,
                               result: try c.decodeIfPresent(String.self, forKey: "result"), note: try c.decodeIfPresent(String.self, forKey: "note"),
                               attachments: try c.decode([Attachment].self, forKey: "attachments"))
        case "dispatch.returned":
            change = .returned(dispatchID: try c.decode(String.self, forKey: "dispatch_id"), reason: try c.decode(ReturnReason.self, forKey: "reason"),
                               note: try c.decodeIfPresent(String.self, forKey: "note"))
        case "dispatch.cancelled": change = .cancelled(dispatchID: try c.decode(String.self, forKey: "dispatch_id"))
        case "case.verified", "case.rework":
            change = .verified(passed: try c.decode(Bool.self, forKey: "passed"), note: try c.decodeIfPresent(String.self, forKey: "note"))
        case "case.evaluated":
            change = .evaluated(try c.decode(Satisfaction.self, forKey: "satisfaction"), note: try c.decodeIfPresent(String.self, forKey: "note"))
        case "case.closed": change = .closed
        case "clock.scheduled" where v == 3 && c.contains("clocks"):
            change = .scheduled(try Self.schedule(c))
        case "clock.scheduled":
            var list = try c.nestedUnkeyedContainer(forKey: "rungs")
            var timers: [LadderTimer] = []
            while !list.isAtEnd { timers.append(try Self.rung(list.nestedContainer(keyedBy: LogKey.self))) }
            change = .scheduled(timers)
        case "case.escalated", "whistle.escalated", "incident.escalated": change = .escalated(try Self.rung(c.nestedContainer(keyedBy: LogKey.self, forKey: "rung")))
        case "dispatch.extended":
            change = .extended(dispatchID: try c.decode(String.self, forKey: "dispatch_id"), resolveBy: try c.time("resolve_by"),
                               by: try c.decode(String.self, forKey: "by"), reason: try c.decode(String.self, forKey: "reason"))
        case "dispatch.deadlines_moved":
            let due = try c.nestedContainer(keyedBy: LogKey.self, forKey: "due")
            change = .deadlinesMoved(dispatchID: try c.decode(String.self, forKey: "dispatch_id"), ackBy: try due.time("ack_by"),
                                     resolveBy: try due.time("resolve_by"), returnBy: try due.time("return_by"),
                                     reason: try c.decode(String.self, forKey: "reason"))
        case "dispatch.backlogged":
            change = .backlogged(dispatchID: try c.decode(String.self, forKey: "dispatch_id"), explanation: try c.decode(String.self, forKey: "explanation"))
        case "mode.changed":
            change = .modeSet(try c.decode(ManagementMode.self, forKey: "mode"), scope: try c.decode(String.self, forKey: "scope"))
        case "whistle.blown":
            let w = try c.nestedContainer(keyedBy: LogKey.self, forKey: "whistle")
            change = .whistleBlown(WhistleRecord(
                whistleID: try w.decode(String.self, forKey: "whistle_id"), grid: try w.decode(String.self, forKey: "grid"),
                kind: try w.decode(WhistleKind.self, forKey: "kind"), reason: try w.decode(String.self, forKey: "reason"),
                caseID: try w.decodeIfPresent(String.self, forKey: "case_id"), blownBy: try w.decode(String.self, forKey: "blown_by"),
                street: try w.decodeIfPresent(String.self, forKey: "street"),
                blownAt: try w.time("blown_at"), reportWithinMs: try w.decode(Int64.self, forKey: "report_within_ms")))
        case "whistle.summoned":
            let s = try c.nestedContainer(keyedBy: LogKey.self, forKey: "summon")
            change = .summoned(SummonRecord(
                summonID: try s.decode(String.self, forKey: "summon_id"), whistleID: try s.decode(String.self, forKey: "whistle_id"),
                agency: try s.decode(String.self, forKey: "agency"), summonedAt: try s.time("summoned_at"), reportBy: try s.time("report_by")))
        case "whistle.reported":
            change = .reported(summonID: try c.decode(String.self, forKey: "summon_id"), status: try c.decode(ReportStatus.self, forKey: "status"),
                               note: try c.decodeIfPresent(String.self, forKey: "note"), lat: try c.decodeIfPresent(Double.self, forKey: "lat"),
                               lon: try c.decodeIfPresent(Double.self, forKey: "lon"))
        case "whistle.released":
            change = .released(summonID: try c.decode(String.self, forKey: "summon_id"), note: try c.decodeIfPresent(String.self, forKey: "note"))
        case "whistle.stood_down":
            change = .stoodDown(note: try c.decodeIfPresent(String.self, forKey: "note"), override: try c.decodeIfPresent(String.self, forKey: "override"))
        case "incident.declared":
            let i = try c.nestedContainer(keyedBy: LogKey.self, forKey: "incident")
            change = .incidentDeclared(IncidentRecord(
                incidentID: try i.decode(String.self, forKey: "incident_id"), ref: try i.decode(String.self, forKey: "ref"),
                agency: try i.decodeIfPresent(String.self, forKey: "agency"), title: try i.decode(String.self, forKey: "title"),
                categories: try i.decode([String].self, forKey: "categories"), grids: try i.decode([String].self, forKey: "grids"),
                message: try i.decode(String.self, forKey: "message"), cause: try i.decodeIfPresent(String.self, forKey: "cause"),
                startsAt: try i.time("starts_at"), expectedEnd: try i.time("expected_end"), declaredAt: try i.time("declared_at"),
                declaredBy: try i.decode(String.self, forKey: "declared_by")))
        case "incident.ended":
            change = .incidentEnded(outcome: try c.decode(IncidentOutcome.self, forKey: "outcome"), note: try c.decodeIfPresent(String.self, forKey: "note"))
        case "case.handed_back":
            change = .handedBack(incidentID: try c.decode(String.self, forKey: "incident_id"))
        case "downstream.update":
            change = .downstream(subject: try c.decode(String.self, forKey: "subject"),
                                 DownstreamRef(status: try c.decode(String.self, forKey: "status"), ref: try c.decodeIfPresent(String.self, forKey: "ref"),
                                               update: try c.decodeIfPresent(String.self, forKey: "update")))
        case "adapter.health":
            change = .adapterHealth(AdapterHealth(
                adapter: try c.decode(String.self, forKey: "adapter"), agency: try c.decodeIfPresent(String.self, forKey: "agency"),
                state: try c.decode(HealthReport.State.self, forKey: "state"), detail: try c.decodeIfPresent(String.self, forKey: "detail"),
                failures: try c.decodeIfPresent(Int.self, forKey: "failures")))
        default:
            guard let petition = try Self.petitionChange(type, c) else {
                throw DecodingError.dataCorruptedError(forKey: "type", in: c, debugDescription: "unknown fact type \(type)")
            }
            change = petition
        }
    }

    static func caseRecord(_ c: KeyedDecodingContainer<LogKey>) throws -> CaseRecord {
        CaseRecord(
            caseID: try c.decode(String.self, forKey: "case_id"), source: try c.decode(Source.self, forKey: "source"),
            externalRef: try c.decode(String.self, forKey: "external_ref"), category: try c.decode(String.self, forKey: "category"),
            grid: try c.decode(String.self, forKey: "grid"), priority: try c.decode(Priority.self, forKey: "priority"),
            title: try c.decode(String.self, forKey: "title"), address: try c.decodeIfPresent(String.self, forKey: "address"),
            state: try c.decode(CaseState.self, forKey: "state"), round: try c.decode(Int.self, forKey: "round"),
            lead: try c.decodeIfPresent(String.self, forKey: "lead"), assists: try c.decode([String].self, forKey: "assists"),
            assigned: try c.decode(Bool.self, forKey: "assigned"), returnedBy: try c.decode([String].self, forKey: "returned_by"),
            mergedInto: try c.decodeIfPresent(String.self, forKey: "merged_into"),
            mergedReports: try c.decode(Int.self, forKey: "merged_reports"), acceptedAt: try c.time("accepted_at"),
            updatedAt: try c.time("updated_at"), resolveBy: try c.timeIfPresent("resolve_by"),
            satisfaction: try c.decodeIfPresent(Satisfaction.self, forKey: "satisfaction"),
            escalation: try c.decodeIfPresent(Int.self, forKey: "escalation"), backlog: try c.decodeIfPresent(String.self, forKey: "backlog"),
            petition: c.contains("petition") ? try Self.petition(c.nestedContainer(keyedBy: LogKey.self, forKey: "petition")) : nil)
    }

    static func dispatchRecord(_ c: KeyedDecodingContainer<LogKey>) throws -> DispatchRecord {
        DispatchRecord(
            dispatchID: try c.decode(String.self, forKey: "dispatch_id"), caseID: try c.decode(String.self, forKey: "case_id"),
            agency: try c.decode(String.self, forKey: "agency"), role: try c.decode(DispatchRole.self, forKey: "role"),
            round: try c.decode(Int.self, forKey: "round"), state: try c.decode(DispatchState.self, forKey: "state"),
            sentAt: try c.time("sent_at"), ackBy: try c.time("ack_by"), resolveBy: try c.time("resolve_by"),
            returnBy: try c.time("return_by"), ackedAt: try c.timeIfPresent("acked_at"), finishedAt: try c.timeIfPresent("finished_at"),
            handler: try c.decodeIfPresent(String.self, forKey: "handler"), extensions: try c.decodeIfPresent(Int.self, forKey: "extensions"),
            firstResolveBy: try c.timeIfPresent("first_resolve_by"),
            milestones: c.contains("milestones") ? try Self.milestones(c.nestedUnkeyedContainer(forKey: "milestones")) : nil)
    }

    static func milestones(_ list: UnkeyedDecodingContainer) throws -> [Milestone] {
        var list = list, out: [Milestone] = []
        while !list.isAtEnd {
            let m = try list.nestedContainer(keyedBy: LogKey.self)
            out.append(Milestone(name: try m.decode(String.self, forKey: "name"), within: try m.decode(String.self, forKey: "within"),
                                 dueBy: try m.timeIfPresent("due_by"), reachedAt: try m.timeIfPresent("reached_at")))
        }
        return out
    }

    /// v3's compact `clock.scheduled` (`LogWriter.writeSchedule`).
    static func schedule(_ c: KeyedDecodingContainer<LogKey>) throws -> [LadderTimer] {
        let caseID = try c.decode(String.self, forKey: "case_id")
        let dispatchID = try c.decodeIfPresent(String.self, forKey: "dispatch_id"), agency = try c.decodeIfPresent(String.self, forKey: "agency")
        var clocks = try c.nestedUnkeyedContainer(forKey: "clocks"), timers: [LadderTimer] = []
        while !clocks.isAtEnd {
            let g = try clocks.nestedContainer(keyedBy: LogKey.self)
            let clock = try g.decode(ClockKind.self, forKey: "clock"), stage = try g.decodeIfPresent(Int.self, forKey: "stage")
            let deadline = try g.time("deadline")
            var rungs = try g.nestedUnkeyedContainer(forKey: "rungs")
            while !rungs.isAtEnd {
                let r = try rungs.nestedContainer(keyedBy: LogKey.self)
                let index = try r.decode(Int.self, forKey: "rung")
                let id = LadderTimer.id(owner: dispatchID ?? caseID, clock: clock, stage: stage, rung: index)
                timers.append(LadderTimer(id: id, caseID: caseID, dispatchID: dispatchID, agency: agency, clock: clock,
                                          rung: index, level: try r.decode(Int.self, forKey: "level"),
                                          notice: try r.decode(String.self, forKey: "notice"), to: try r.decode([String].self, forKey: "to"),
                                          due: try r.time("due"), deadline: deadline))
            }
        }
        return timers
    }

    static func rung(_ c: KeyedDecodingContainer<LogKey>) throws -> LadderTimer {
        LadderTimer(
            id: try c.decode(String.self, forKey: "id"), caseID: try c.decode(String.self, forKey: "case_id"),
            dispatchID: try c.decodeIfPresent(String.self, forKey: "dispatch_id"), agency: try c.decodeIfPresent(String.self, forKey: "agency"),
            clock: try c.decode(ClockKind.self, forKey: "clock"), rung: try c.decode(Int.self, forKey: "rung"),
            level: try c.decode(Int.self, forKey: "level"), notice: try c.decode(String.self, forKey: "notice"),
            to: try c.decode([String].self, forKey: "to"), due: try c.time("due"), deadline: try c.time("deadline"))
    }
}

/// A key of the log's JSON, written as a string literal where it is read.
struct LogKey: CodingKey, ExpressibleByStringLiteral {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
    init(stringLiteral value: String) { stringValue = value }
}

extension KeyedDecodingContainer<LogKey> {
    func time(_ key: LogKey) throws -> Date {
        let text = try decode(String.self, forKey: key)
        guard let date = LogTime.parse(text) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "not an RFC 3339 time to the millisecond: \(text)")
        }
        return date
    }

    func timeIfPresent(_ key: LogKey) throws -> Date? {
        guard contains(key), try !decodeNil(forKey: key) else { return nil }
        return try time(key)
    }
}

/// The store's `dispatches.milestones` column, read with the log's reader.
enum LogReader {
    private struct Stages: Decodable {
        var list: [Milestone]
        init(from decoder: any Decoder) throws { list = try LogRecordV2.milestones(decoder.unkeyedContainer()) }
    }

    static func milestones(_ json: String) throws -> [Milestone] {
        try JSONDecoder().decode(Stages.self, from: Data(json.utf8)).list
    }
}
