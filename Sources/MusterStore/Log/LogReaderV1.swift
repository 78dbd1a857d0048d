import Foundation
import MusterCore
import MusterWire

/// The log's first form, v1, as written until the v2 codec: whatever Swift's synthesized
/// `Codable` made of `Fact.Change` then — `{"acked":{"dispatchID":…}}`, `_0` for unlabelled
/// values, camelCase, times as integer milliseconds. Rows in this form stay as they are (the
/// hash chain covers their bytes); this reader is a frozen copy of that model, so the in-memory
/// `Fact` may change without old logs changing meaning. Tested on Fixtures/v1.sql (a dump of a v1 database).
enum LogV1 {
    static func change(from data: Data, decoder: JSONDecoder) throws -> Fact.Change {
        try decoder.decode(Change.self, from: data).change
    }

    enum Change: Decodable {
        case accepted(Case)
        case merged(into: String)
        case reportMerged(from: String)
        case triage(reason: String)
        case consultation
        case dispatched(Dispatch)
        case assigned(lead: String, assists: [String], note: String?)
        case rejected(reason: String)
        case acked(dispatchID: String, handler: String?, note: String?)
        case progressed(dispatchID: String, note: String?, attachments: [Attachment])
        case resolved(dispatchID: String, lead: Bool, result: String?, note: String?, attachments: [Attachment])
        case returned(dispatchID: String, reason: ReturnReason, note: String?)
        case cancelled(dispatchID: String)
        case verified(passed: Bool, note: String?)
        case evaluated(Satisfaction, note: String?)
        case closed
        case scheduled([Rung])
        case escalated(Rung)
        case extended(dispatchID: String, resolveBy: Int64, by: String, reason: String)
        case deadlinesMoved(dispatchID: String, ackBy: Int64, resolveBy: Int64, returnBy: Int64, reason: String)
        case backlogged(dispatchID: String, explanation: String)
        case modeSet(ManagementMode, scope: String)

        var change: Fact.Change {
            switch self {
            case .accepted(let c): .accepted(c.record)
            case .merged(let into): .merged(into: into)
            case .reportMerged(let from): .reportMerged(from: from)
            case .triage(let reason): .triage(reason: reason)
            case .consultation: .consultation
            case .dispatched(let d): .dispatched(d.record)
            case .assigned(let lead, let assists, let note): .assigned(lead: lead, assists: assists, note: note)
            case .rejected(let reason): .rejected(reason: reason)
            case .acked(let d, let handler, let note): .acked(dispatchID: d, handler: handler, note: note)
            case .progressed(let d, let note, let attachments): .progressed(dispatchID: d, note: note, attachments: attachments)
            case .resolved(let d, let lead, let result, let note, let attachments):
                .resolved(dispatchID: d, lead: lead, result: result, note: note, attachments: attachments)
            case .returned(let d, let reason, let note): .returned(dispatchID: d, reason: reason, note: note)
            case .cancelled(let d): .cancelled(dispatchID: d)
            case .verified(let passed, let note): .verified(passed: passed, note: note)
            case .evaluated(let s, let note): .evaluated(s, note: note)
            case .closed: .closed
            case .scheduled(let rungs): .scheduled(rungs.map(\.timer))
            case .escalated(let rung): .escalated(rung.timer)
            case .extended(let d, let resolveBy, let by, let reason):
                .extended(dispatchID: d, resolveBy: Date(ms: resolveBy), by: by, reason: reason)
            case .deadlinesMoved(let d, let ackBy, let resolveBy, let returnBy, let reason):
                .deadlinesMoved(dispatchID: d, ackBy: Date(ms: ackBy), resolveBy: Date(ms: resolveBy), returnBy: Date(ms: returnBy), reason: reason)
            case .backlogged(let d, let explanation): .backlogged(dispatchID: d, explanation: explanation)
            case .modeSet(let mode, let scope): .modeSet(mode, scope: scope)
            }
        }
    }

    struct Case: Decodable {
        var caseID: String, source: Source, externalRef: String, category: String, grid: String, priority: Priority
        var title: String, address: String?, state: CaseState, round: Int, lead: String?, assists: [String]
        var assigned: Bool, returnedBy: [String], mergedInto: String?, mergedReports: Int
        var acceptedAt: Int64, updatedAt: Int64, resolveBy: Int64?, satisfaction: Satisfaction?
        var escalation: Int?, backlog: String?

        var record: CaseRecord {
            CaseRecord(caseID: caseID, source: source, externalRef: externalRef, category: category, grid: grid, priority: priority,
                       title: title, address: address, state: state, round: round, lead: lead, assists: assists, assigned: assigned,
                       returnedBy: returnedBy, mergedInto: mergedInto, mergedReports: mergedReports, acceptedAt: Date(ms: acceptedAt),
                       updatedAt: Date(ms: updatedAt), resolveBy: resolveBy.map(Date.init(ms:)), satisfaction: satisfaction,
                       escalation: escalation, backlog: backlog)
        }
    }

    struct Dispatch: Decodable {
        var dispatchID: String, caseID: String, agency: String, role: DispatchRole, round: Int, state: DispatchState
        var sentAt: Int64, ackBy: Int64, resolveBy: Int64, returnBy: Int64, ackedAt: Int64?, finishedAt: Int64?
        var handler: String?, extensions: Int?, firstResolveBy: Int64?

        var record: DispatchRecord {
            DispatchRecord(dispatchID: dispatchID, caseID: caseID, agency: agency, role: role, round: round, state: state,
                           sentAt: Date(ms: sentAt), ackBy: Date(ms: ackBy), resolveBy: Date(ms: resolveBy), returnBy: Date(ms: returnBy),
                           ackedAt: ackedAt.map(Date.init(ms:)), finishedAt: finishedAt.map(Date.init(ms:)), handler: handler,
                           extensions: extensions, firstResolveBy: firstResolveBy.map(Date.init(ms:)))
        }
    }

    struct Rung: Decodable {
        var id: String, caseID: String, dispatchID: String?, agency: String?, clock: ClockKind, rung: Int, level: Int
        var notice: String, to: [String], due: Int64, deadline: Int64

        var timer: LadderTimer {
            LadderTimer(id: id, caseID: caseID, dispatchID: dispatchID, agency: agency, clock: clock, rung: rung, level: level,
                        notice: notice, to: to, due: Date(ms: due), deadline: Date(ms: deadline))
        }
    }
}
