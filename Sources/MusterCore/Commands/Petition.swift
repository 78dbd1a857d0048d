import Foundation
import MusterWire

/// PETITION (信访): an act on a petition's own course. The petition office (role intake, or the
/// centre) serves documents, rules on objections, records the petitioner's requests for 复查 /
/// 复核 and confirms or splits repeats; the unit it was forwarded to objects (Art. 23) and serves
/// its own 延期告知 and 答复意见书.
public enum OnPetition: CaseCommandKind {
    public static let name = Command.petition
    public static let roles: Set<Role> = [.intake, .agency, .ops]
    public static func needs(_ b: PetitionAct, _ rules: Rules) -> Ledger.Needs { Ledger.Needs(cases: [b.caseID]) }

    public static func decide(_ b: PetitionAct, _ ledger: inout Ledger, _ run: inout Ledger.Run) throws(WireError) -> Reply {
        try ledger.petitionAct(b, &run)
    }
}

extension CaseCommand {
    public static func petition(_ body: PetitionAct) -> CaseCommand { CaseCommand(OnPetition.self, body) }
}

extension Ledger {
    fileprivate mutating func petitionAct(_ b: PetitionAct, _ run: inout Run) throws(WireError) -> Reply {
        guard let c = cases[b.caseID] else { throw WireError(.unknownCase, "no case \(b.caseID)") }
        guard let p = c.petition else {
            throw WireError(.invalidTransition, "case \(c.caseID) is not a petition (its source is \(c.source.rawValue))", state: c.state.rawValue)
        }
        let lead = leadDispatch(of: c.caseID)
        let office = !run.actor.roles.isDisjoint(with: [.intake, .ops])
        let unit = lead.map { run.actor.agency == $0.agency } ?? false
        let id = c.caseID
        switch b.act {
        case .notify:
            let doc = b.document!
            let unitsOwn = doc.kind == .extension || doc.kind == .reply
            guard office || (unitsOwn && unit) else {
                throw WireError(.forbidden, "a \(doc.kind.chinese) of petition \(id) is served by the petition office" + (unitsOwn ? " or the unit handling it" : ""))
            }
            let trigger: PetitionMachine.Trigger = switch doc.kind {
            case .acceptance: .tell
            case .`extension`: .tellExtension
            case .reply: .serveReply
            case .review: .serveReview
            case .recheck: .serveRecheck
            }
            _ = try petitionRow(c, trigger, verb: "serve a \(doc.kind.chinese) on", at: run.now)
            let served = try servedAt(doc, notBefore: earliestServing(doc.kind, c), run)
            let opens: ClockKind? = doc.kind == .reply ? .reviewRequest : doc.kind == .review ? .recheckRequest : nil
            let closes = try opens.map { clock throws(WireError) in try petitionDeadline(clock, of: c, from: served, run.rules) }
            emit(id, .petitionNotified(PetitionNotice(kind: doc.kind, number: doc.number, title: doc.title, issuer: doc.issuer, url: doc.url,
                                                      sha256: doc.sha256, servedAt: served, windowCloses: closes)), &run)
        case .object:
            guard let lead, run.actor.agency == lead.agency else {
                throw WireError(.forbidden, "only the unit petition \(id) was forwarded to objects to it" + (lead.map { " (\($0.agency))" } ?? ""))
            }
            _ = try petitionRow(c, .object, verb: "object to", at: run.now)
            guard run.now <= lead.returnBy else {
                throw WireError(.returnRefused, "the window to object closed at \(Timestamp.format(lead.returnBy)) (5 工作日, 信访工作条例第二十三条): handle it")
            }
            emit(id, .petitionObjected(PetitionObjection(dispatchID: lead.dispatchID, agency: lead.agency, reason: b.reason!, at: run.now)), &run)
        case .rule:
            guard office else { throw WireError(.forbidden, "the petition office rules on an objection to petition \(id)") }
            if b.agree! {
                guard p.state == .objected, let o = p.objection, let d = dispatches[o.dispatchID] else {
                    throw WireError(.invalidTransition, "petition \(id) has no objection to rule on: it is \(p.state.rawValue) (\(p.state.chinese))", state: p.state.rawValue)
                }
                // Upheld: the unit's dispatch is returned and the case routed again, past it.
                _ = try dispatchRow(d, .return, run, verb: "return")
                let row = try caseRow(c, .return)
                if row.effects.contains(.reroute) { run.due = try run.rules.due(for: subject(c), at: run.now) }
                emit(id, .petitionRuled(upheld: true, reason: b.reason), &run)
                emit(id, .returned(dispatchID: d.dispatchID, reason: .notOurDuty, note: o.reason), &run)
                try perform(row, on: id, &run)
            } else {
                _ = try petitionRow(c, .overrule, verb: "overrule an objection to", at: run.now)
                emit(id, .petitionRuled(upheld: false, reason: b.reason), &run)
            }
        case .requestReview, .requestRecheck:
            guard office else { throw WireError(.forbidden, "the petitioner's request reaches petition \(id) through the petition office") }
            let kind: PetitionRequestKind = b.act == .requestReview ? .review : .recheck
            _ = try petitionRow(c, kind == .review ? .requestReview : .requestRecheck, verb: "ask for \(kind.chinese) of", at: run.now)
            let decideBy = try petitionDeadline(kind == .review ? .review : .recheck, of: c, from: run.now, run.rules)
            emit(id, .petitionRequested(kind, reason: b.reason, decideBy: decideBy), &run)
        case .confirmRepeat, .splitRepeat:
            guard office else { throw WireError(.forbidden, "the petition office confirms or splits a repeat (petition \(id))") }
            let split = b.act == .splitRepeat
            _ = try petitionRow(c, split ? .split : .confirm, verb: split ? "split" : "confirm the repeat of", at: run.now)
            if split {
                let row = try caseRow(c, .handBack)
                run.due = try run.rules.due(for: subject(c), at: run.now)
                emit(id, .petitionRepeat(split: true, reason: b.reason), &run)
                try perform(row, on: id, &run)
            } else {
                emit(id, .petitionRepeat(split: false, reason: b.reason), &run)
            }
        }
        return .petition(caseID: id, state: cases[id]!.state, cases[id]!.petition!)
    }

    /// The act a document answers, and when it was done: it cannot have been served before.
    private func earliestServing(_ kind: PetitionNoticeKind, _ c: CaseRecord) -> (String, Date) {
        let p = c.petition!
        switch kind {
        case .acceptance: return ("the petition was registered", c.acceptedAt)
        case .`extension`: return ("the unit accepted it (受理)", p.acceptedAt ?? c.acceptedAt)
        case .reply: return ("the unit finished it (办结)", leadDispatch(of: c.caseID)?.finishedAt ?? c.acceptedAt)
        case .review: return ("复查 was asked", p.reviewRequestedAt ?? c.acceptedAt)
        case .recheck: return ("复核 was asked", p.recheckRequestedAt ?? c.acceptedAt)
        }
    }

    /// When the petitioner received the document: given (not before the act it answers, not
    /// ahead of now beyond 5 minutes of clock skew between the systems), or now.
    private func servedAt(_ doc: PetitionDocument, notBefore: (String, Date), _ run: Run) throws(WireError) -> Date {
        guard let text = doc.servedAt else { return run.now }
        guard let t = Timestamp.parse(text) else { throw .badField("document.served_at", "not an RFC 3339 time with offset") }
        guard t <= run.now.adding(ms: 5 * 60_000) else { throw .badField("document.served_at", "\(text) is in the future") }
        // A document is dated to the second: one served the second of its act is not before it.
        guard t.ms >= notBefore.1.ms / 1000 * 1000 else {
            throw .badField("document.served_at", "\(text) is before \(notBefore.0) (\(Timestamp.format(notBefore.1)))")
        }
        return t
    }
}
