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

/// The deadlines a dispatch gets (a first cut; sla.yaml with rules comes with the clock issue).
public struct DeadlinePolicy: Sendable, Equatable {
    public var ackWithin: [Priority: Period]
    public var resolveWithin: [Priority: Period]
    /// 退单 is allowed this long after the dispatch was sent.
    public var returnWithin: Period

    public init(ackWithin: [Priority: Period], resolveWithin: [Priority: Period], returnWithin: Period) {
        self.ackWithin = ackWithin; self.resolveWithin = resolveWithin; self.returnWithin = returnWithin
    }

    /// DOMAIN.md §3 defaults: sign within 1 h (urgent 15 min); urgent answered within 2 h,
    /// general complaints 5 days (calendar days until working days exist), consultations 2 days.
    public static let defaults = DeadlinePolicy(
        ackWithin: [.urgent: Period(15, .m), .normal: Period(1, .h), .consult: Period(1, .h)],
        resolveWithin: [.urgent: Period(2, .h), .normal: Period(5, .d), .consult: Period(2, .d)],
        returnWithin: Period(24, .h))

    public func due(priority: Priority, from sent: Date) -> (ackBy: Date, resolveBy: Date, returnBy: Date) {
        let ack = ackWithin[priority] ?? Period(1, .h)
        let resolve = resolveWithin[priority] ?? Period(5, .d)
        return (ack.after(sent), resolve.after(sent), returnWithin.after(sent))
    }
}

/// The rules the core decides by: loaded from config by the shell, passed in as a value.
public struct Rules: Sendable, Equatable {
    public var routing: Routing
    public var grids: GridMap
    public var deadlines: DeadlinePolicy
    /// Reports of the same category, grid and address within this window join one case (并单).
    public var mergeWindow: Period

    public init(routing: Routing, grids: GridMap, deadlines: DeadlinePolicy = .defaults, mergeWindow: Period = Period(24, .h)) {
        self.routing = routing; self.grids = grids; self.deadlines = deadlines; self.mergeWindow = mergeWindow
    }
}
