import Foundation
import Metrics
import MusterCore

/// What the broker counts and measures, through swift-metrics: nothing (its no-op backend)
/// unless the process bootstraps one — `muster broker --metrics` bootstraps Prometheus
/// (docs/OPERATIONS.md, "Metrics"). Names follow Prometheus: base units, `_total` counters for
/// the process's life, low-cardinality labels (commands, codes, roles, states, agencies).
/// Counters are touched on the broker's thread, the commit histograms on the writer's; the
/// gauges are sampled from the broker's memory once a second (`sample`), never on a request.
final class BrokerMetrics: @unchecked Sendable {
    private var requests: [String: Counter] = [:]
    private var errors: [String: Counter] = [:]
    private var rungs: [Int: Counter] = [:]
    private var gauges: [String: Gauge] = [:]
    /// Gauge series set at the last sample: those absent now are set to 0, not left stale.
    private var lastSampled: Set<String> = []

    /// Requests answered by one group commit (0 for a commit of fired rungs alone).
    let batchSize = Recorder(label: "muster_commit_batch_size", aggregate: true)
    let commitDuration = Metrics.Timer(label: "muster_commit_duration_seconds")
    /// Each commit under synchronous=FULL (or EXTRA) is one fsync of the write-ahead log.
    let fsyncs = Counter(label: "muster_store_fsyncs_total")
    let commitFailures = Counter(label: "muster_commit_failures_total")
    let firingLag = Metrics.Timer(label: "muster_timer_firing_lag_seconds")
    /// The broker loop's time deciding and answering (BusyTime): its rate near 1 means saturated.
    let brokerBusy = FloatingPointCounter(label: "muster_broker_busy_seconds_total")

    /// A request answered: by command (HELLO, SUBMIT, …) and outcome (`ok` or `error`).
    func request(_ command: String, ok: Bool) {
        let key = command + (ok ? "|ok" : "|error")
        if let c = requests[key] { c.increment(); return }
        let c = Counter(label: "muster_requests_total", dimensions: [("command", command), ("outcome", ok ? "ok" : "error")])
        requests[key] = c
        c.increment()
    }

    /// An ERROR sent, by its code.
    func error(_ code: String) {
        if let c = errors[code] { c.increment(); return }
        let c = Counter(label: "muster_errors_total", dimensions: [("code", code)])
        errors[code] = c
        c.increment()
    }

    /// A ladder rung fired (1 催办, 2 督办, 3 通报 …), `lagMs` after it was due.
    func rungFired(level: Int, lagMs: Int64) {
        let c = rungs[level] ?? Counter(label: "muster_rungs_fired_total", dimensions: [("level", String(level))])
        rungs[level] = c
        c.increment()
        firingLag.recordMilliseconds(max(0, lagMs))
    }

    /// The gauges, from the broker's memory (open cases and their dispatches, sessions, pushes, rungs).
    func sample(ledger: Ledger, sessions: [Session], outbox: Outbox, timersInMemory: Int, now: Date) {
        var values: [String: (label: String, dimensions: [(String, String)], value: Int)] = [:]
        func set(_ label: String, _ dimensions: [(String, String)] = [], _ value: Int) {
            let key = label + dimensions.map { "|\($0.0)=\($0.1)" }.joined()
            values[key, default: (label, dimensions, 0)].value += value
        }
        for role in ["agency", "intake", "grid", "ops", "supervisor", "monitor"] { set("muster_sessions", [("role", role)], 0) }
        for s in sessions { for role in s.actor.roles { set("muster_sessions", [("role", role.rawValue)], 1) } }
        set("muster_pushes_unreceived", [], sessions.reduce(0) { $0 + $1.inFlightCount })
        for p in outbox.pending.values { set("muster_outbox_pending", [("to", Self.target(p.push.target))], 1) }
        set("muster_timers_pending", [], timersInMemory)
        for state in CaseState.allCases where state != .new && !state.isTerminal { set("muster_cases", [("state", state.rawValue)], 0) }
        for c in ledger.cases.values where !c.state.isTerminal { set("muster_cases", [("state", c.state.rawValue)], 1) }
        for d in ledger.dispatches.values where (d.state == .sent || d.state == .acked) && d.resolveBy < now {
            set("muster_dispatches_overdue", [("agency", d.agency)], 1)
        }
        set("muster_whistles_open", [], ledger.whistles.values.filter { $0.state == .open }.count)
        for key in lastSampled where values[key] == nil { gauges[key]?.record(0) }
        for (key, v) in values {
            let g = gauges[key] ?? Gauge(label: v.label, dimensions: v.dimensions)
            gauges[key] = g
            g.record(v.value)
        }
        lastSampled = Set(values.keys)
    }

    /// A push's target as a label: the agency's code, `role:ops`, or `adapter` for any one peer
    /// (named peers are many: one series each would not be low-cardinality).
    static func target(_ t: String) -> String {
        if t.hasPrefix("agency:") { return String(t.dropFirst(7)) }
        if t.hasPrefix("role:") { return t }
        return "adapter"
    }
}
