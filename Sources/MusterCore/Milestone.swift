import Foundation
import MusterWire

/// One stage of a staged limit (分阶段时限), e.g. 违法搭建: 停工 within 4 工作时 of the dispatch,
/// then 处罚 within 7 工作日 of that, then 拆除 within 20 工作日. Each stage's clock starts when
/// the one before is reached, so only the stage running has a deadline (`dueBy`).
public struct Milestone: Codable, Sendable, Equatable {
    public var name: String
    /// Its window, as sla.yaml gave it (after the management mode's scale).
    public var within: String
    public var dueBy: Date?
    public var reachedAt: Date?

    public init(name: String, within: String, dueBy: Date? = nil, reachedAt: Date? = nil) {
        self.name = name; self.within = within; self.dueBy = dueBy; self.reachedAt = reachedAt
    }
}

extension DispatchRecord {
    /// The stage running now: the first not yet reached (nil without stages, or all reached).
    public var runningMilestone: Int? { milestones?.firstIndex { $0.reachedAt == nil } }
}

extension SLAPolicy {
    /// A stage as sla.yaml names it: `{name: 停工, within: 4wh}`.
    public struct Stage: Sendable, Equatable {
        public var name: String
        public var within: Period
        public init(name: String, within: Period) { self.name = name; self.within = within }
    }

    /// The stages of a dispatch made now: those of the first matching rule that has any, each
    /// window scaled as the mode scales every clock; the first stage's clock started.
    public func milestones(for s: Subject, from now: Date, calendar: WorkCalendar) throws(WorkCalendar.Failure) -> [Milestone] {
        guard let stages = rules.first(where: { $0.milestones != nil && matches($0, s, on: CivilDay(now)) })?.milestones else { return [] }
        let scale = modes[s.mode]?.scale
        var out = stages.map { Milestone(name: $0.name, within: (scale.map($0.within.scaled(by:)) ?? $0.within).description) }
        if !out.isEmpty, let first = Period(out[0].within) { out[0].dueBy = try calendar.end(of: first, from: now) }
        return out
    }

    /// The rungs of stage `index`'s clock: the `milestone` ladder, or the `resolve` ladder when
    /// sla.yaml gives none. Ids carry the stage, so each stage's rungs are its own.
    public func milestoneLadder(_ d: DispatchRecord, stage index: Int, start: Date, calendar: WorkCalendar) -> [LadderTimer] {
        guard let due = d.milestones?[index].dueBy else { return [] }
        return ladder(.milestone, caseID: d.caseID, owner: d.dispatchID, agency: d.agency, start: start, deadline: due,
                      calendar: calendar, stage: index)
    }
}
