/// Hands out time-ordered ids from counters. A value, not a clock: the shell seeds it from the
/// store at start and the core advances it, so replays and tests are deterministic. Sequential
/// ids also keep SQLite's B-tree inserts at the right-hand edge (random keys cost 8× here).
public struct IDSource: Sendable, Equatable {
    public var lastCase: Int64
    public var lastDispatch: Int64
    public var lastWhistle: Int64
    public var lastIncident: Int64

    public init(lastCase: Int64 = 0, lastDispatch: Int64 = 0, lastWhistle: Int64 = 0, lastIncident: Int64 = 0) {
        self.lastCase = lastCase
        self.lastDispatch = lastDispatch
        self.lastWhistle = lastWhistle
        self.lastIncident = lastIncident
    }

    public mutating func nextIncident() -> String {
        lastIncident += 1
        return IDSource.format("I", lastIncident)
    }

    public mutating func nextWhistle() -> String {
        lastWhistle += 1
        return IDSource.format("W", lastWhistle)
    }

    public mutating func nextCase() -> String {
        lastCase += 1
        return IDSource.format("C", lastCase)
    }

    public mutating func nextDispatch() -> String {
        lastDispatch += 1
        return IDSource.format("D", lastDispatch)
    }

    static func format(_ prefix: String, _ n: Int64) -> String {
        let digits = String(n)
        return prefix + String(repeating: "0", count: max(0, 10 - digits.count)) + digits
    }

    /// The counter inside an id made by `format`, to reseed after a restart.
    public static func counter(of id: String) -> Int64? { Int64(id.dropFirst()) }

    /// Keeps the counters ahead of an id seen in the log (replay).
    public mutating func observe(caseID: String? = nil, dispatchID: String? = nil, whistleID: String? = nil, incidentID: String? = nil) {
        if let i = incidentID.flatMap(IDSource.counter(of:)) { lastIncident = max(lastIncident, i) }
        if let w = whistleID.flatMap(IDSource.counter(of:)) { lastWhistle = max(lastWhistle, w) }
        if let c = caseID.flatMap(IDSource.counter(of:)) { lastCase = max(lastCase, c) }
        if let d = dispatchID.flatMap(IDSource.counter(of:)) { lastDispatch = max(lastDispatch, d) }
    }
}
