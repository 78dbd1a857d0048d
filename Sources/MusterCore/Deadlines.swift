import Foundation
import MusterWire

/// A period in the units of PROTOCOL.md. This issue computes `s`, `m`, `h` and `d`; working
/// hours and days need the holiday calendar and are refused until it exists.
public struct Period: Sendable, Equatable, CustomStringConvertible {
    public enum Unit: String, Sendable { case s, m, h, d, wh, wd }
    public var amount: Int
    public var unit: Unit

    public init(_ amount: Int, _ unit: Unit) { self.amount = amount; self.unit = unit }

    /// Parses `30s`, `15m`, `2h`, `60d`, `4wh`, `5wd`.
    public init?(_ text: String) {
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, let n = Int(digits), n >= 0, let u = Unit(rawValue: String(text.dropFirst(digits.count))) else { return nil }
        amount = n; unit = u
    }

    public var description: String { "\(amount)\(unit.rawValue)" }

    /// Seconds for calendar units; nil for working-time units.
    public var seconds: TimeInterval? {
        switch unit {
        case .s: TimeInterval(amount)
        case .m: TimeInterval(amount) * 60
        case .h: TimeInterval(amount) * 3600
        case .d: TimeInterval(amount) * 86_400
        case .wh, .wd: nil
        }
    }

    public func after(_ date: Date) -> Date { date.adding(ms: Int64((seconds ?? 0) * 1000)) }
}

/// The rules the core decides by: loaded from config by the shell, passed in as a value.
/// Every decision holds them (`Ledger.Run`), so the tables live in one box: a copy is one retain
/// instead of one for each table inside, and a change copies the box first when it is shared.
public struct Rules: Sendable, Equatable {
    /// The tables themselves, a plain value.
    private struct Tables: Equatable, Sendable {
        var routing: Routing
        var grids: GridMap
        var sla: SLAPolicy
        var calendar: WorkCalendar
        var mergeWindow: Period
        var classifier: TextClassifier
        var threshold: Double
    }

    /// Behind one reference, copied on write when shared (`SharedValues`, as the records).
    private var shared: SharedValues<Tables>

    /// Whether both hold the one box (tests: a change through a copy must have copied it).
    func sharesTables(with other: Rules) -> Bool { shared.isShared(with: other.shared) }

    public var routing: Routing {
        _read { yield shared.values.routing }
        _modify { yield &shared.values.routing }
    }
    public var grids: GridMap {
        _read { yield shared.values.grids }
        _modify { yield &shared.values.grids }
    }
    public var sla: SLAPolicy {
        _read { yield shared.values.sla }
        _modify { yield &shared.values.sla }
    }
    public var calendar: WorkCalendar {
        _read { yield shared.values.calendar }
        _modify { yield &shared.values.calendar }
    }
    /// Reports of the same category, grid and address within this window join one case (并单).
    public var mergeWindow: Period {
        _read { yield shared.values.mergeWindow }
        _modify { yield &shared.values.mergeWindow }
    }
    /// 智能派单: classifies a SUBMIT without a category (Classifier/).
    public var classifier: TextClassifier {
        _read { yield shared.values.classifier }
        _modify { yield &shared.values.classifier }
    }
    /// The classifier's confidence below which a case goes to triage instead (0…1].
    public var threshold: Double {
        _read { yield shared.values.threshold }
        _modify { yield &shared.values.threshold }
    }

    public static let defaultThreshold = 0.8

    /// Without a classifier, one is trained from routing's category names and keywords.
    public init(routing: Routing, grids: GridMap, sla: SLAPolicy, calendar: WorkCalendar, mergeWindow: Period = Period(24, .h),
                classifier: TextClassifier? = nil, threshold: Double = Rules.defaultThreshold) {
        shared = SharedValues(Tables(routing: routing, grids: grids, sla: sla, calendar: calendar, mergeWindow: mergeWindow,
                                     classifier: classifier ?? TextClassifier(routing: routing), threshold: threshold))
    }

    /// The deadlines a dispatch made now gets. Computed before any fact of a decision is made,
    /// so that a missing holiday schedule refuses the command instead of half-applying it.
    public func due(for s: SLAPolicy.Subject, at now: Date) throws(WireError) -> Due {
        do {
            var d = try sla.deadlines([.ack, .resolve, .return], for: s, from: now, calendar: calendar)
            // A petition's periods are statutory 期间: they end at 24:00 of their last day.
            if s.source == .petition { d = d.map(Ledger.endOfDay) }
            return Due(ackBy: d[0], resolveBy: d[1], returnBy: d[2], milestones: try sla.milestones(for: s, from: now, calendar: calendar))
        } catch {
            throw WireError(.unavailable, "cannot compute deadlines: \(error)")
        }
    }
}

/// A dispatch's deadlines: sign for (签收), finish (办结), return at the latest (退单).
public struct Due: Sendable, Equatable {
    public var ackBy: Date
    public var resolveBy: Date
    public var returnBy: Date
    /// Staged limits, the first stage's clock started (empty: none).
    public var milestones: [Milestone]

    public init(ackBy: Date, resolveBy: Date, returnBy: Date, milestones: [Milestone] = []) {
        self.ackBy = ackBy; self.resolveBy = resolveBy; self.returnBy = returnBy; self.milestones = milestones
    }
}
