import Foundation
import MusterWire

/// Writes a fact's change as JSON in exactly the shape Swift's synthesized `Codable` reads back
/// (`{"acked":{"dispatchID":…}}`, dates as integer milliseconds). Hand-written because the
/// broker logs every fact and JSONEncoder cost a fifth of the broker's time; a property test
/// checks that `FactCoding.decoder()` decodes this to the same value.
extension Fact.Change {
    public func json() -> [UInt8] {
        var w = JSONWriter(capacity: 256)
        switch self {
        case .accepted(let c): w.object("accepted") { $0.raw("_0", c.json()) }
        case .merged(let into): w.object("merged") { $0.field("into", into) }
        case .reportMerged(let from): w.object("reportMerged") { $0.field("from", from) }
        case .triage(let reason): w.object("triage") { $0.field("reason", reason) }
        case .consultation: w.object("consultation") { _ in }
        case .dispatched(let d): w.object("dispatched") { $0.raw("_0", d.json()) }
        case .assigned(let lead, let assists, let note):
            w.object("assigned") { $0.field("lead", lead); $0.field("assists", assists); $0.field("note", note) }
        case .rejected(let reason): w.object("rejected") { $0.field("reason", reason) }
        case .acked(let d, let handler, let note):
            w.object("acked") { $0.field("dispatchID", d); $0.field("handler", handler); $0.field("note", note) }
        case .progressed(let d, let note, let attachments):
            w.object("progressed") { $0.field("dispatchID", d); $0.field("note", note); $0.array("attachments", attachments.map(\.json)) }
        case .resolved(let d, let lead, let result, let note, let attachments):
            w.object("resolved") {
                $0.field("dispatchID", d); $0.field("lead", lead); $0.field("result", result); $0.field("note", note)
                $0.array("attachments", attachments.map(\.json))
            }
        case .returned(let d, let reason, let note):
            w.object("returned") { $0.field("dispatchID", d); $0.field("reason", reason.rawValue); $0.field("note", note) }
        case .cancelled(let d): w.object("cancelled") { $0.field("dispatchID", d) }
        case .verified(let passed, let note): w.object("verified") { $0.field("passed", passed); $0.field("note", note) }
        case .evaluated(let s, let note): w.object("evaluated") { $0.field("_0", s.rawValue); $0.field("note", note) }
        case .closed: w.object("closed") { _ in }
        case .scheduled(let timers): w.object("scheduled") { $0.array("_0", timers.map(\.json)) }
        case .escalated(let t): w.object("escalated") { $0.raw("_0", t.json) }
        case .extended(let d, let resolveBy, let by, let reason):
            w.object("extended") { $0.field("dispatchID", d); $0.field("resolveBy", resolveBy.ms); $0.field("by", by); $0.field("reason", reason) }
        case .deadlinesMoved(let d, let ackBy, let resolveBy, let returnBy, let reason):
            w.object("deadlinesMoved") {
                $0.field("dispatchID", d); $0.field("ackBy", ackBy.ms); $0.field("resolveBy", resolveBy.ms)
                $0.field("returnBy", returnBy.ms); $0.field("reason", reason)
            }
        case .backlogged(let d, let explanation): w.object("backlogged") { $0.field("dispatchID", d); $0.field("explanation", explanation) }
        case .modeSet(let mode, let scope): w.object("modeSet") { $0.field("_0", mode.rawValue); $0.field("scope", scope) }
        }
        return w.finish()
    }
}

extension CaseRecord {
    func json() -> [UInt8] {
        var w = JSONWriter(capacity: 400)
        w.field("caseID", caseID); w.field("source", source.rawValue); w.field("externalRef", externalRef)
        w.field("category", category); w.field("grid", grid); w.field("priority", priority.rawValue); w.field("title", title)
        w.field("address", address); w.field("state", state.rawValue); w.field("round", round); w.field("lead", lead)
        w.field("assists", assists); w.field("assigned", assigned); w.field("returnedBy", returnedBy)
        w.field("mergedInto", mergedInto); w.field("mergedReports", mergedReports); w.field("acceptedAt", acceptedAt.ms)
        w.field("updatedAt", updatedAt.ms)
        if let r = resolveBy { w.field("resolveBy", r.ms) }
        w.field("satisfaction", satisfaction?.rawValue)
        if let escalation { w.field("escalation", escalation) }
        w.field("backlog", backlog)
        return w.finish()
    }
}

extension DispatchRecord {
    func json() -> [UInt8] {
        var w = JSONWriter(capacity: 300)
        w.field("dispatchID", dispatchID); w.field("caseID", caseID); w.field("agency", agency); w.field("role", role.rawValue)
        w.field("round", round); w.field("state", state.rawValue); w.field("sentAt", sentAt.ms); w.field("ackBy", ackBy.ms)
        w.field("resolveBy", resolveBy.ms); w.field("returnBy", returnBy.ms)
        if let a = ackedAt { w.field("ackedAt", a.ms) }
        if let f = finishedAt { w.field("finishedAt", f.ms) }
        w.field("handler", handler)
        if let extensions { w.field("extensions", extensions) }
        if let f = firstResolveBy { w.field("firstResolveBy", f.ms) }
        return w.finish()
    }
}

extension Attachment {
    /// `{"url":…,"sha256":…}`, the same in the log and on the wire.
    public var json: [UInt8] {
        var w = JSONWriter()
        w.field("url", url)
        w.field("sha256", sha256)
        return w.finish()
    }
}

extension LadderTimer {
    /// The synthesized-Codable shape (camelCase, ms dates), like the other log encodings.
    public var json: [UInt8] {
        var w = JSONWriter()
        w.field("id", id); w.field("caseID", caseID); w.field("dispatchID", dispatchID); w.field("agency", agency)
        w.field("clock", clock.rawValue); w.field("rung", rung); w.field("level", level); w.field("notice", notice)
        w.field("to", to); w.field("due", due.ms); w.field("deadline", deadline.ms)
        return w.finish()
    }
}
