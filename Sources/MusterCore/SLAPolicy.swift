import Foundation
import MusterWire

/// The clocks a case runs against (docs/PROTOCOL.md, "Deadlines and escalation"): each has a window from the SLA rules and a
/// ladder of escalation rungs.
public enum ClockKind: String, Sendable, CaseIterable, Codable {
    case triage, ack, `return`, resolve, verify, evaluate
    /// A summoned department's way to the site (吹哨报到): its window is the whistle's `report_within`.
    case whistle
    /// A known incident still active `notify_after` it began: the centre is told (an outage past
    /// 24 h calls for emergency supply). One rung, from the INCIDENT itself, not from sla.yaml.
    case incident
    /// The running stage of a staged limit (Milestone): its window is the stage's `within`.
    case milestone
    /// A petition's (信访): 转送/交办 and 告知 from registration (Art. 22, 23); the windows for
    /// asking 复查 / 复核 from the document served, whose end is a trigger, not a rung (Art. 35,
    /// 36); the 复查 / 复核 decisions from the request.
    case transfer, notify, reviewRequest = "review_request", review, recheckRequest = "recheck_request", recheck

    /// The petition's clocks: set by a `source: petition` rule; absent, the statute's (SLAPolicy.statutoryPetitionWindows).
    public static let petition: [ClockKind] = [.transfer, .notify, .reviewRequest, .review, .recheckRequest, .recheck]
}

extension SLAPolicy {
    /// 信访工作条例 (2022): 转送/交办 and 告知 within 15 日 (Art. 22, 23); 复查 asked within 30 日 of
    /// the reply and decided in 30 日 (Art. 35); 复核 the same (Art. 36). sla.yaml may set others.
    public static let statutoryPetitionWindows: [ClockKind: Period] = [
        .transfer: Period(15, .d), .notify: Period(15, .d), .reviewRequest: Period(30, .d), .review: Period(30, .d),
        .recheckRequest: Period(30, .d), .recheck: Period(30, .d),
    ]
}

/// Deadlines as data (config/sla.yaml): rules matched on category, priority, source, mode,
/// season and grid give each clock's window; management modes tighten them; ladders say who is
/// reminded, supervised and reported, when.
public struct SLAPolicy: Sendable, Equatable {
    public typealias Windows = [ClockKind: Period]

    public struct Rule: Sendable, Equatable {
        public enum Season: String, Sendable { case heating, offSeason = "off_season" }
        public var name: String
        /// Codes or globs (`heating_*`); nil: any.
        public var categories: [String]?
        public var priorities: Set<Priority>?
        public var sources: Set<Source>?
        public var modes: Set<ManagementMode>?
        public var season: Season?
        /// Grid path prefixes; nil: anywhere.
        public var grids: [String]?
        public var windows: Windows
        /// Staged limits: the dispatch's stages, in order (Milestone).
        public var milestones: [Stage]?

        public init(name: String, categories: [String]? = nil, priorities: Set<Priority>? = nil, sources: Set<Source>? = nil,
                    modes: Set<ManagementMode>? = nil, season: Season? = nil, grids: [String]? = nil, windows: Windows,
                    milestones: [Stage]? = nil) {
            self.name = name; self.categories = categories; self.priorities = priorities; self.sources = sources
            self.modes = modes; self.season = season; self.grids = grids; self.windows = windows; self.milestones = milestones
        }
    }

    /// What a management mode changes: every window scaled, then capped.
    public struct ModeChange: Sendable, Equatable {
        public var scale: Double?
        public var caps: Windows
        public var whistleCategories: [String]
        public init(scale: Double? = nil, caps: Windows = [:], whistleCategories: [String] = []) {
            self.scale = scale; self.caps = caps; self.whistleCategories = whistleCategories
        }
    }

    /// One rung of a ladder: at a share of the window, or some time after the deadline.
    public struct Rung: Sendable, Equatable {
        /// N% of the window, +DURATION after the deadline, or -DURATION (clock time) before it.
        public enum At: Sendable, Equatable { case percent(Int), afterDeadline(Period), beforeDeadline(seconds: Int) }
        public var at: At
        public var notice: String
        /// Roles told: `agency` (the dispatch's department), `supervisor`, `ops`, `district` …
        public var to: [String]
        public var level: Int
        public init(at: At, notice: String, to: [String], level: Int) { self.at = at; self.notice = notice; self.to = to; self.level = level }
    }

    public struct Extensions: Sendable, Equatable {
        public var autoMaxCount: Int
        public var autoMaxBy: Period
        public var maxTotal: Period
        public init(autoMaxCount: Int, autoMaxBy: Period, maxTotal: Period) {
            self.autoMaxCount = autoMaxCount; self.autoMaxBy = autoMaxBy; self.maxTotal = maxTotal
        }
    }

    /// The policy's tables, a plain value.
    private struct Tables: Sendable, Equatable {
        var defaults: Windows
        var rules: [Rule]
        var modes: [ManagementMode: ModeChange]
        var heatingSeasons: [ClosedRange<CivilDay>]
        var memo = WindowsMemo()
        var ladders: [ClockKind: [Rung]]
        var extensions: Extensions
    }

    /// Behind one reference, as `Rules`' tables (`SharedValues`): each dispatch's deadlines and
    /// ladders copied the policy a few times, a retain and a release of each of its tables.
    private var shared: SharedValues<Tables>

    /// Whether both hold the one box (tests: a change through a copy must have copied it).
    func sharesTables(with other: SLAPolicy) -> Bool { shared.isShared(with: other.shared) }

    // Changing what windows are made of forgets the windows remembered (deferred: also when the
    // change throws halfway).
    public var defaults: Windows {
        _read { yield shared.values.defaults }
        _modify { defer { shared.values.memo = WindowsMemo() }; yield &shared.values.defaults }
    }
    public var rules: [Rule] {
        _read { yield shared.values.rules }
        _modify { defer { shared.values.memo = WindowsMemo() }; yield &shared.values.rules }
    }
    public var modes: [ManagementMode: ModeChange] {
        _read { yield shared.values.modes }
        _modify { defer { shared.values.memo = WindowsMemo() }; yield &shared.values.modes }
    }
    public var heatingSeasons: [ClosedRange<CivilDay>] {
        _read { yield shared.values.heatingSeasons }
        _modify { defer { shared.values.memo = WindowsMemo() }; yield &shared.values.heatingSeasons }
    }
    private var memo: WindowsMemo { shared.values.memo }
    public var ladders: [ClockKind: [Rung]] {
        _read { yield shared.values.ladders }
        _modify { yield &shared.values.ladders }
    }
    public var extensions: Extensions {
        _read { yield shared.values.extensions }
        _modify { yield &shared.values.extensions }
    }

    public init(defaults: Windows, rules: [Rule] = [], modes: [ManagementMode: ModeChange] = [:],
                heatingSeasons: [ClosedRange<CivilDay>] = [], ladders: [ClockKind: [Rung]] = [:],
                extensions: Extensions = Extensions(autoMaxCount: 1, autoMaxBy: Period(5, .wd), maxTotal: Period(30, .d))) {
        shared = SharedValues(Tables(defaults: defaults, rules: rules, modes: modes, heatingSeasons: heatingSeasons,
                                     ladders: ladders, extensions: extensions))
    }

    /// What a case is, for matching rules.
    public struct Subject: Sendable, Hashable {
        public var category: String
        public var priority: Priority
        public var source: Source
        public var grid: String
        public var mode: ManagementMode
        public init(category: String, priority: Priority, source: Source, grid: String, mode: ManagementMode) {
            self.category = category; self.priority = priority; self.source = source; self.grid = grid; self.mode = mode
        }
    }

    /// `*` matches any run of characters; the rest literally.
    public static func glob(_ pattern: String, _ text: String) -> Bool {
        // On the UTF-8 bytes (category codes are ASCII): this runs for every rule and every
        // dispatch, and Character-wise prefix and suffix tests were most of its cost.
        let p = pattern.utf8, t = text.utf8
        guard let star = p.firstIndex(of: UInt8(ascii: "*")) else { return pattern == text }
        let head = p[..<star], afterStar = p[p.index(after: star)...]
        if !afterStar.contains(UInt8(ascii: "*")) {
            // The usual `prefix*suffix`: no search needed.
            return t.count >= head.count + afterStar.count && t.starts(with: head) && t.reversed().starts(with: afterStar.reversed())
        }
        let chars = pattern[...], starAt = chars.firstIndex(of: "*")!
        let prefix = chars[..<starAt], tail = chars[chars.index(after: starAt)...]
        guard text.hasPrefix(prefix) else { return false }
        let rest = text.dropFirst(prefix.count)
        for i in rest.indices.reversed() + [rest.endIndex] where glob(String(tail), String(rest[i...])) { return true }
        return false
    }

    func matches(_ r: Rule, _ s: Subject, on day: CivilDay) -> Bool {
        if let c = r.categories, !c.contains(where: { Self.glob($0, s.category) }) { return false }
        if let p = r.priorities, !p.contains(s.priority) { return false }
        if let src = r.sources, !src.contains(s.source) { return false }
        if let m = r.modes, !m.contains(s.mode) { return false }
        if let g = r.grids, !g.contains(where: { GridMap.isPrefix($0, of: s.grid) }) { return false }
        if let season = r.season {
            let inSeason = heatingSeasons.contains { $0.contains(day) }
            if (season == .heating) != inSeason { return false }
        }
        return true
    }

    /// Each clock's window for a case: the first matching rule that sets it, else the default;
    /// then the mode's scale. Also the names of the rules used, for the record.
    public func windows(for s: Subject, on day: CivilDay) -> (windows: Windows, rules: [String]) {
        memo.windows(for: s, on: day) { matchWindows(for: s, on: day) }
    }

    private func matchWindows(for s: Subject, on day: CivilDay) -> (windows: Windows, rules: [String]) {
        var w: Windows = [:]
        var used: [String] = []
        for r in rules where matches(r, s, on: day) {
            var contributed = false
            for (k, v) in r.windows where w[k] == nil { w[k] = v; contributed = true }
            if contributed { used.append(r.name) }
        }
        for (k, v) in defaults where w[k] == nil { w[k] = v }
        if let scale = modes[s.mode]?.scale { w = w.mapValues { $0.scaled(by: scale) } }
        return (w, used)
    }

    /// The deadline of a clock started at `from`: the window's end on the calendar, no later than
    /// the mode's cap.
    public func deadline(_ clock: ClockKind, for s: Subject, from: Date, calendar: WorkCalendar) throws(WorkCalendar.Failure) -> Date {
        try deadlines([clock], for: s, from: from, calendar: calendar)[0]
    }

    /// Several clocks' deadlines at once (the rules are matched once).
    public func deadlines(_ clocks: [ClockKind], for s: Subject, from: Date, calendar: WorkCalendar) throws(WorkCalendar.Failure) -> [Date] {
        let w = windows(for: s, on: CivilDay(from)).windows
        let caps = modes[s.mode]?.caps ?? [:]
        var out: [Date] = []
        out.reserveCapacity(clocks.count)
        for clock in clocks {
            var end = try calendar.end(of: w[clock] ?? Period(1, .h), from: from)
            if let cap = caps[clock] { end = min(end, try calendar.end(of: cap, from: from)) }
            out.append(end)
        }
        return out
    }
}

extension Period {
    /// A window scaled by a management mode: clock units exactly (in seconds), working units
    /// rounded to whole units, never below one (working days below one become working hours,
    /// at 8 a day).
    public func scaled(by factor: Double) -> Period {
        switch unit {
        case .s, .m, .h, .d:
            return Period(max(1, Int((seconds! * factor).rounded())), .s)
        case .wh:
            return Period(max(1, Int((Double(amount) * factor).rounded())), .wh)
        case .wd:
            let days = Double(amount) * factor
            return days >= 1 ? Period(Int(days.rounded()), .wd) : Period(max(1, Int((days * 8).rounded())), .wh)
        }
    }
}

/// `SLAPolicy.windows` remembered by subject and day: every dispatch matches the rules' globs
/// and grid prefixes, and the same few subjects recur all day (matching cost a twentieth of a
/// SUBMIT). Forgotten when the policy changes, and all at once past a bound. Not part of the
/// policy's value: two policies are equal whatever either remembers.
final class WindowsMemo: @unchecked Sendable, Equatable {  // its one var is behind the lock
    private struct Key: Hashable { var subject: SLAPolicy.Subject; var day: CivilDay }
    private static let bound = 4096
    private let lock = NSLock()
    private var entries: [Key: (windows: SLAPolicy.Windows, rules: [String])] = [:]

    func windows(for s: SLAPolicy.Subject, on day: CivilDay,
                 _ match: () -> (windows: SLAPolicy.Windows, rules: [String])) -> (windows: SLAPolicy.Windows, rules: [String]) {
        let key = Key(subject: s, day: day)
        if let known = lock.withLock({ entries[key] }) { return known }
        let found = match()
        lock.withLock {
            if entries.count >= Self.bound { entries.removeAll(keepingCapacity: true) }
            entries[key] = found
        }
        return found
    }

    static func == (a: WindowsMemo, b: WindowsMemo) -> Bool { true }
}
