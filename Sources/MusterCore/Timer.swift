import Foundation
import MusterWire

/// One rung of an escalation ladder, due at a moment: 催办 before the deadline, 督办 at it,
/// 通报 after it. A timer is part of the ledger (and a row in the store), scheduled by the fact
/// that starts its clock and gone when the clock stops or the rung fires — so it fires once.
public struct LadderTimer: Codable, Sendable, Hashable {
    /// Its fields, behind one reference (`SharedValues`).
    public struct Values: Codable, Sendable, Hashable {
        /// `D0000000007/ack/1`, `C0000000003/triage/0`, `W0000000001/chengguan/whistle/0`, `D0000000009/milestone.1/0`: stable, so a rung is never scheduled twice.
        public var id: String
        /// The case, or for a `whistle` clock the whistle.
        public var caseID: String
        /// The dispatch, or for a `whistle` clock the summoned department (`W…/agency`).
        public var dispatchID: String?
        /// The dispatch's department, when the clock is a dispatch's.
        public var agency: String?
        public var clock: ClockKind
        public var rung: Int
        public var level: Int
        public var notice: String
        public var to: [String]
        /// When it fires.
        public var due: Date
        /// The clock's deadline (for `overdue_by`).
        public var deadline: Date
    }

    @usableFromInline var shared: SharedValues<Values>

    @inlinable public var id: String { get { shared.values.id } _modify { yield &shared.values.id } }
    @inlinable public var caseID: String { get { shared.values.caseID } _modify { yield &shared.values.caseID } }
    @inlinable public var dispatchID: String? { get { shared.values.dispatchID } _modify { yield &shared.values.dispatchID } }
    @inlinable public var agency: String? { get { shared.values.agency } _modify { yield &shared.values.agency } }
    @inlinable public var clock: ClockKind { get { shared.values.clock } _modify { yield &shared.values.clock } }
    @inlinable public var rung: Int { get { shared.values.rung } _modify { yield &shared.values.rung } }
    @inlinable public var level: Int { get { shared.values.level } _modify { yield &shared.values.level } }
    @inlinable public var notice: String { get { shared.values.notice } _modify { yield &shared.values.notice } }
    @inlinable public var to: [String] { get { shared.values.to } _modify { yield &shared.values.to } }
    @inlinable public var due: Date { get { shared.values.due } _modify { yield &shared.values.due } }
    @inlinable public var deadline: Date { get { shared.values.deadline } _modify { yield &shared.values.deadline } }

    /// Timers of one dispatch, or of a case's own clocks.
    @inlinable public var owner: String { shared.values.dispatchID ?? shared.values.caseID }

    public init(id: String, caseID: String, dispatchID: String?, agency: String?, clock: ClockKind, rung: Int, level: Int,
                notice: String, to: [String], due: Date, deadline: Date) {
        shared = SharedValues(Values(id: id, caseID: caseID, dispatchID: dispatchID, agency: agency, clock: clock, rung: rung,
                                     level: level, notice: notice, to: to, due: due, deadline: deadline))
    }

    public init(from decoder: any Decoder) throws { shared = try SharedValues(from: decoder) }
    public func encode(to encoder: any Encoder) throws { try shared.encode(to: encoder) }
}

/// Printed (and shown by a failed test) as its values.
extension LadderTimer: CustomReflectable {
    public var customMirror: Mirror { Mirror(self, children: Mirror(reflecting: shared.values).children, displayStyle: .struct) }
}

extension SLAPolicy {
    /// The rungs of `clock`'s ladder for a clock running from `start` to `deadline`. A rung the
    /// calendar cannot place (a year without a schedule) is left out rather than guessed.
    public func ladder(_ clock: ClockKind, caseID: String, dispatch: DispatchRecord?, start: Date, deadline: Date,
                       calendar: WorkCalendar) -> [LadderTimer] {
        ladder(clock, caseID: caseID, owner: dispatch?.dispatchID, agency: dispatch?.agency, start: start, deadline: deadline, calendar: calendar)
    }

    /// The same for any owner: a dispatch, or a department summoned to a whistle (`caseID` is then
    /// the whistle's id and `owner` the summon's).
    /// `stage`: which stage of a staged limit, for a `milestone` clock (its rung ids carry it).
    public func ladder(_ clock: ClockKind, caseID: String, owner: String?, agency: String?, start: Date, deadline: Date,
                       calendar: WorkCalendar, stage: Int? = nil) -> [LadderTimer] {
        let rungs = ladders[clock] ?? (clock == .milestone ? ladders[.resolve] : nil) ?? []
        let idOwner = owner ?? caseID
        return rungs.enumerated().compactMap { i, rung in
            let due: Date
            switch rung.at {
            case .percent(let p):
                due = start.adding(ms: (deadline.ms - start.ms) * Int64(p) / 100)
            case .beforeDeadline(let seconds):
                // A window shorter than the lead time has no room for this reminder.
                due = deadline.adding(ms: -Int64(seconds) * 1000)
                guard due > start else { return nil }
            case .afterDeadline(let period):
                guard let d = try? calendar.end(of: period, from: deadline) else { return nil }
                due = d
            }
            return LadderTimer(id: LadderTimer.id(owner: idOwner, clock: clock, stage: stage, rung: i), caseID: caseID,
                               dispatchID: owner, agency: agency, clock: clock, rung: i,
                               level: rung.level, notice: rung.notice, to: rung.to, due: due, deadline: deadline)
        }
    }
}

extension LadderTimer {
    /// A rung's id, `owner/clock[.stage]/rung`, as the ladders make it and the log's reader and
    /// `RungsColumn` rebuild it. Written into one allocation (four joins a ladder and one with a
    /// number's description a rung were ~8,000 instructions a lifecycle).
    public static func id(owner: String, clock: ClockKind, stage: Int?, rung: Int) -> String {
        // Two slashes, a dot, and two numbers of at most 20 bytes (`-9223372036854775808`).
        String(capacity: owner.utf8.count + clock.rawValue.utf8.count + 3 + 40) { id in
            id.append(owner); id.append(byte: UInt8(ascii: "/")); id.append(clock.rawValue)
            if let stage { id.append(byte: UInt8(ascii: ".")); id.append(decimal: stage) }
            id.append(byte: UInt8(ascii: "/")); id.append(decimal: rung)
        }
    }
}
