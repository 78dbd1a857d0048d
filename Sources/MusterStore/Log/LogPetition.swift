import Foundation
import MusterCore
import MusterWire

/// A petition's record and facts in the log's JSON (docs/LOG-FORMAT.md, "Petitions"); the
/// store's `cases.petition` column is the same object.
extension LogWriter {
    static func petitionJSON(_ p: PetitionRecord) -> [UInt8] {
        var w = JSONWriter(capacity: 256)
        w.field("state", p.state.rawValue); w.field("repeat_key", p.repeatKey); w.field("about", p.about); w.field("repeat_of", p.repeatOf)
        w.array("notices", p.notices.map(noticeJSON))
        if let o = p.objection { w.raw("objection", objectionJSON(o)) }
        w.time("accepted_at", p.acceptedAt); w.time("window_closes", p.windowCloses); w.time("decide_by", p.decideBy)
        w.time("review_requested_at", p.reviewRequestedAt); w.time("recheck_requested_at", p.recheckRequestedAt); w.time("ended_at", p.endedAt)
        return w.finish()
    }

    static func noticeJSON(_ n: PetitionNotice) -> [UInt8] {
        var w = JSONWriter(capacity: 200)
        w.field("kind", n.kind.rawValue); w.field("number", n.number); w.field("title", n.title); w.field("issuer", n.issuer)
        w.field("url", n.url); w.field("sha256", n.sha256); w.time("served_at", n.servedAt); w.time("window_closes", n.windowCloses)
        return w.finish()
    }

    static func objectionJSON(_ o: PetitionObjection) -> [UInt8] {
        var w = JSONWriter(capacity: 160)
        w.field("dispatch_id", o.dispatchID); w.field("agency", o.agency); w.field("reason", o.reason); w.time("at", o.at)
        if let upheld = o.upheld { w.field("upheld", upheld) }
        return w.finish()
    }

    /// The petition facts' own fields (`write` puts `v` and `type` first).
    static func writePetition(_ change: Fact.Change, into w: inout JSONWriter) {
        switch change {
        case .petitionNotified(let n): w.raw("notice", noticeJSON(n))
        case .petitionObjected(let o): w.raw("objection", objectionJSON(o))
        case .petitionRuled(let upheld, let reason): w.field("upheld", upheld); w.field("reason", reason)
        case .petitionRequested(let kind, let reason, let decideBy):
            w.field("request", kind.rawValue); w.field("reason", reason); w.time("decide_by", decideBy)
        case .petitionWindowClosed(let clock): w.field("clock", clock.rawValue)
        case .petitionRepeat(_, let reason): w.field("reason", reason)
        default: break
        }
    }
}

extension LogRecordV2 {
    /// The petition facts, by type; nil for any other type.
    static func petitionChange(_ type: String, _ c: KeyedDecodingContainer<LogKey>) throws -> Fact.Change? {
        switch type {
        case "petition.notified": .petitionNotified(try notice(c.nestedContainer(keyedBy: LogKey.self, forKey: "notice")))
        case "petition.objected": .petitionObjected(try objection(c.nestedContainer(keyedBy: LogKey.self, forKey: "objection")))
        case "petition.ruled": .petitionRuled(upheld: try c.decode(Bool.self, forKey: "upheld"), reason: try c.decodeIfPresent(String.self, forKey: "reason"))
        case "petition.requested":
            .petitionRequested(try c.decode(PetitionRequestKind.self, forKey: "request"), reason: try c.decodeIfPresent(String.self, forKey: "reason"),
                               decideBy: try c.time("decide_by"))
        case "petition.window_closed": .petitionWindowClosed(try c.decode(ClockKind.self, forKey: "clock"))
        case "petition.split": .petitionRepeat(split: true, reason: try c.decodeIfPresent(String.self, forKey: "reason"))
        case "petition.repeat_confirmed": .petitionRepeat(split: false, reason: try c.decodeIfPresent(String.self, forKey: "reason"))
        default: nil
        }
    }

    static func petition(_ c: KeyedDecodingContainer<LogKey>) throws -> PetitionRecord {
        var p = PetitionRecord(state: try c.decode(PetitionState.self, forKey: "state"), repeatKey: try c.decodeIfPresent(String.self, forKey: "repeat_key"),
                               about: try c.decode([String].self, forKey: "about"), repeatOf: try c.decodeIfPresent(String.self, forKey: "repeat_of"))
        var list = try c.nestedUnkeyedContainer(forKey: "notices")
        while !list.isAtEnd { p.notices.append(try notice(list.nestedContainer(keyedBy: LogKey.self))) }
        if c.contains("objection") { p.objection = try objection(c.nestedContainer(keyedBy: LogKey.self, forKey: "objection")) }
        p.acceptedAt = try c.timeIfPresent("accepted_at"); p.windowCloses = try c.timeIfPresent("window_closes")
        p.decideBy = try c.timeIfPresent("decide_by"); p.reviewRequestedAt = try c.timeIfPresent("review_requested_at")
        p.recheckRequestedAt = try c.timeIfPresent("recheck_requested_at"); p.endedAt = try c.timeIfPresent("ended_at")
        return p
    }

    static func notice(_ c: KeyedDecodingContainer<LogKey>) throws -> PetitionNotice {
        PetitionNotice(kind: try c.decode(PetitionNoticeKind.self, forKey: "kind"), number: try c.decodeIfPresent(String.self, forKey: "number"),
                       title: try c.decodeIfPresent(String.self, forKey: "title"), issuer: try c.decodeIfPresent(String.self, forKey: "issuer"),
                       url: try c.decodeIfPresent(String.self, forKey: "url"), sha256: try c.decodeIfPresent(String.self, forKey: "sha256"),
                       servedAt: try c.time("served_at"), windowCloses: try c.timeIfPresent("window_closes"))
    }

    static func objection(_ c: KeyedDecodingContainer<LogKey>) throws -> PetitionObjection {
        PetitionObjection(dispatchID: try c.decode(String.self, forKey: "dispatch_id"), agency: try c.decode(String.self, forKey: "agency"),
                          reason: try c.decode(String.self, forKey: "reason"), at: try c.time("at"), upheld: try c.decodeIfPresent(Bool.self, forKey: "upheld"))
    }
}

extension LogReader {
    private struct Petition: Decodable {
        var record: PetitionRecord
        init(from decoder: any Decoder) throws { record = try LogRecordV2.petition(decoder.container(keyedBy: LogKey.self)) }
    }

    /// The store's `cases.petition` column.
    static func petition(_ json: String) throws -> PetitionRecord {
        try JSONDecoder().decode(Petition.self, from: Data(json.utf8)).record
    }
}
