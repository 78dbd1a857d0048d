import Foundation
import MusterAdapterKit
import MusterWire

/// The follow-up call (回访): once a case the caller reported is finished, the hotline calls back
/// everyone who asked for it — the merged reporters too — and the case is rated (EVALUATE) once
/// every call of that finish is settled: by the worst rating heard (one dissatisfied caller is a
/// 重办), or not at all if nobody could be reached (the broker's 回访 clock then tells the centre).
enum FollowUp {
    struct Refusal: Error, Equatable {
        var status: Int
        var field: String
        var message: String
    }

    /// What the operator heard.
    enum Outcome: String, CaseIterable {
        case satisfied = "满意", basicallySatisfied = "基本满意", dissatisfied = "不满意", unreached = "未接通"

        var satisfaction: Satisfaction? {
            switch self {
            case .satisfied: .satisfied
            case .basicallySatisfied: .basicallySatisfied
            case .dissatisfied: .dissatisfied
            case .unreached: nil
            }
        }
    }

    /// One call's outcome on a call still waiting; 未接通 counts an attempt, and the last allowed
    /// one gives the call up.
    static func apply(_ outcome: Outcome, note: String?, maxAttempts: Int, to call: inout HotlineBook.Call) throws(Refusal) {
        guard call.state == .waiting else {
            throw Refusal(status: 409, field: "outcome", message: "此回访已记录（\(call.state == .answered ? call.satisfaction ?? "" : "未接通")）— this call is settled already")
        }
        call.attempts += 1
        call.note = note
        if let s = outcome.satisfaction {
            call.state = .answered
            call.satisfaction = s.rawValue
        } else if call.attempts >= maxAttempts {
            call.state = .unreached
        }
    }

    /// The EVALUATE the calls of one finish make: nil while a call waits, or when nobody answered.
    static func evaluation(_ calls: [HotlineBook.Call]) -> (Satisfaction, String)? {
        guard !calls.isEmpty, !calls.contains(where: { $0.state == .waiting }) else { return nil }
        let heard = calls.compactMap { $0.satisfaction.flatMap(Satisfaction.init(rawValue:)) }
        guard let worst = heard.min(by: { rank($0) < rank($1) }) else { return nil }
        let note = calls.map { c in
            let who = c.name ?? c.orderNo
            let what = c.state == .answered ? (Outcome.allCases.first { $0.satisfaction?.rawValue == c.satisfaction }?.rawValue ?? "") : "未接通（\(c.attempts)次）"
            return "\(who)：\(what)" + (c.note.map { "，\($0)" } ?? "")
        }.joined(separator: "；")
        return (worst, "回访：" + note)
    }

    static func rank(_ s: Satisfaction) -> Int {
        switch s {
        case .dissatisfied: 0
        case .basicallySatisfied: 1
        case .satisfied: 2
        }
    }

    /// The EVALUATE act of one finish: its id from the case and the finish, so a recording sent
    /// twice is one act, and a redo's new finish is a new one.
    static func evaluate(caseID: String, finishSeq: Int64, _ s: Satisfaction, note: String) -> Act {
        var w = JSONWriter()
        w.field("case_id", caseID)
        w.field("satisfaction", s.rawValue)
        w.field("note", note)
        return Act(id: "ev-\(caseID)-\(finishSeq)", command: .evaluate, fields: w.finish())
    }
}
