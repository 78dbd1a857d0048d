import Foundation
import MusterCore
import MusterWire

/// A petition on the wire (ACCEPTED, OK, events, QUERY): its course and documents. Never its
/// repeat key: a digest of the petitioner's identity stays in the broker's store.
extension Messages {
    static func petitionJSON(_ p: PetitionRecord) -> [UInt8] {
        var w = JSONWriter(capacity: 320)
        w.field("state", p.state.rawValue)
        w.field("state_zh", p.state.chinese)
        w.field("about", p.about)
        w.field("repeat_of", p.repeatOf)
        w.array("notices", p.notices.map(noticeJSON))
        if let o = p.objection { w.raw("objection", objectionJSON(o)) }
        w.field("accepted_at", p.acceptedAt)
        w.field("window_closes", p.windowCloses)
        w.field("decide_by", p.decideBy)
        w.field("review_requested_at", p.reviewRequestedAt)
        w.field("recheck_requested_at", p.recheckRequestedAt)
        w.field("ended_at", p.endedAt)
        return w.finish()
    }

    static func noticeJSON(_ n: PetitionNotice) -> [UInt8] {
        var w = JSONWriter(capacity: 200)
        w.field("kind", n.kind.rawValue); w.field("kind_zh", n.kind.chinese); w.field("number", n.number); w.field("title", n.title)
        w.field("issuer", n.issuer); w.field("url", n.url); w.field("sha256", n.sha256)
        w.field("served_at", n.servedAt); w.field("window_closes", n.windowCloses)
        return w.finish()
    }

    static func objectionJSON(_ o: PetitionObjection) -> [UInt8] {
        var w = JSONWriter(capacity: 160)
        w.field("dispatch_id", o.dispatchID); w.field("agency", o.agency); w.field("reason", o.reason); w.field("at", o.at)
        if let upheld = o.upheld { w.field("upheld", upheld) }
        return w.finish()
    }

    /// The petition facts' `data` in events.
    static func petitionEventData(_ change: Fact.Change, into w: inout JSONWriter) {
        switch change {
        case .petitionNotified(let n): w.raw("notice", noticeJSON(n))
        case .petitionObjected(let o): w.raw("objection", objectionJSON(o))
        case .petitionRuled(let upheld, let reason): w.field("upheld", upheld); w.field("reason", reason)
        case .petitionRequested(let kind, let reason, let decideBy):
            w.field("request", kind.rawValue); w.field("request_zh", kind.chinese); w.field("reason", reason)
            w.field("decide_by", decideBy)
        case .petitionWindowClosed(let clock): w.field("clock", clock.rawValue)
        case .petitionRepeat(_, let reason): w.field("reason", reason)
        default: break
        }
    }
}
