import Foundation

/// The shared harness's output (../shared/bench-peers/sidebyside.sh) read back: one run per
/// system and repetition, and the medians and ratios the issue's targets are stated in.
struct HarnessReport {
    /// One job of one system: what its producer had confirmed, its consumer's end-to-end
    /// latency, and the server's CPU over the job.
    struct Run {
        var system: String
        var acknowledgedPerSecond: Double?
        var confirmP50: Double?, confirmP99: Double?
        var endToEndP50: Double?, endToEndP99: Double?
        var cores: Double?

        /// Server CPU a message, µs: cores busy over the messages a second.
        var cpuPerMessage: Double? {
            guard let cores, let rate = acknowledgedPerSecond, rate > 0 else { return nil }
            return cores * 1e6 / rate
        }
    }

    /// The systems in the order the harness runs them; the first is the one compared.
    static let systems = ["muster", "rmq", "nats"]
    static let names = ["muster": "Muster", "rmq": "RabbitMQ", "nats": "NATS JetStream"]

    var runs: [Run] = []
    /// Whole lifecycles a second (`muster bench peers --lifecycles`), each with the RabbitMQ run
    /// of its repetition, which ran just before it.
    var lifecycles: [(casesPerSecond: Double, rabbit: Double?)] = []
    /// Messages a lifecycle of `muster bench lifecycle` moves: six requests and a push. RabbitMQ's
    /// rate over this is its rate in cases of as many messages.
    static let messagesPerLifecycle = 7.0

    /// Reads the harness's lines. Unknown lines are skipped (the harness also prints loads,
    /// threads and memory); a job is the lines after its `### SYSTEM…` header.
    init(parsing text: String) {
        var current: Run?
        var runsBeforeRepetition = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) {
            if line.hasPrefix("### ") {
                if let current { runs.append(current) }
                let system = line.dropFirst(4).prefix { $0.isLetter }
                current = Self.systems.contains(String(system)) ? Run(system: String(system)) : nil
                continue
            }
            let fields = Self.fields(line)
            if let rate = fields["lifecycle_cases/s"] {
                if let current { runs.append(current) }
                current = nil
                // Its repetition's RabbitMQ run: one since the lifecycle run before, none if it printed nothing.
                lifecycles.append((rate, runs[runsBeforeRepetition...].last { $0.system == "rmq" }?.acknowledgedPerSecond))
                runsBeforeRepetition = runs.count
                continue
            }
            guard current != nil else { continue }
            if let rate = fields["accepted_msgs/s"] ?? fields["confirmed_msgs/s"] ?? fields["acked_msgs/s"] {
                current?.acknowledgedPerSecond = rate
                current?.confirmP50 = fields["confirm_p50_ms"]
                current?.confirmP99 = fields["confirm_p99_ms"]
            } else if fields["e2e_msgs/s"] != nil {
                current?.endToEndP50 = fields["e2e_p50_ms"]
                current?.endToEndP99 = fields["e2e_p99_ms"]
            } else if let r = line.range(of: ": server avg "), line.trimmingCharacters(in: .whitespaces).hasPrefix("cpu ") {
                current?.cores = Double(line[r.upperBound...].prefix { $0.isNumber || $0 == "." })
            }
        }
        if let current { runs.append(current) }
    }

    /// `key=value` pairs of a client's summary line, the values that are numbers.
    static func fields(_ line: String) -> [String: Double] {
        var out: [String: Double] = [:]
        for word in line.split(separator: " ") {
            guard let eq = word.firstIndex(of: "="), let v = Double(word[word.index(after: eq)...]) else { continue }
            out[String(word[..<eq])] = v
        }
        return out
    }

    static func median(_ xs: [Double]) -> Double? {
        let s = xs.sorted()
        guard !s.isEmpty else { return nil }
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    /// The median of one figure over a system's runs.
    func median(_ system: String, _ figure: (Run) -> Double?) -> Double? {
        Self.median(runs.filter { $0.system == system }.compactMap(figure))
    }

    func repetitions(_ system: String) -> Int { runs.filter { $0.system == system }.count }

    /// Muster's median acknowledged/s over another system's.
    func ratio(to system: String) -> Double? {
        guard let m = median("muster", \.acknowledgedPerSecond), let p = median(system, \.acknowledgedPerSecond), p > 0 else { return nil }
        return m / p
    }

    /// Each repetition's lifecycles a second over its RabbitMQ run's rate in seven-message cases
    /// (nil where that run printed no rate).
    func lifecycleRatios() -> [Double?] {
        lifecycles.map { l in l.rabbit.flatMap { $0 > 0 ? l.casesPerSecond * Self.messagesPerLifecycle / $0 : nil } }
    }

    /// The table printed by `muster bench peers`: medians per system, and Muster's ratios.
    func table() -> String {
        func f(_ v: Double?, _ digits: Int = 0) -> String {
            guard let v else { return "—" }
            return digits == 0 ? String(Int(v.rounded())) : String(format: "%.\(digits)f", v)
        }
        var lines = ["system            runs  acknowledged/s  CPU/msg µs  server cores  confirm p50/p99 ms  end-to-end p50/p99 ms"]
        for system in Self.systems where repetitions(system) > 0 {
            let cols = [
                (Self.names[system] ?? system).padding(toLength: 18, withPad: " ", startingAt: 0),
                String(repetitions(system)).padding(toLength: 6, withPad: " ", startingAt: 0),
                f(median(system, \.acknowledgedPerSecond)).padding(toLength: 16, withPad: " ", startingAt: 0),
                f(median(system, \.cpuPerMessage)).padding(toLength: 12, withPad: " ", startingAt: 0),
                f(median(system, \.cores), 2).padding(toLength: 14, withPad: " ", startingAt: 0),
                "\(f(median(system, \.confirmP50), 1)) / \(f(median(system, \.confirmP99), 1))".padding(toLength: 20, withPad: " ", startingAt: 0),
                "\(f(median(system, \.endToEndP50), 1)) / \(f(median(system, \.endToEndP99), 1))",
            ]
            lines.append(cols.joined())
        }
        for system in Self.systems.dropFirst() {
            if let r = ratio(to: system) { lines.append("Muster / \(Self.names[system] ?? system): \(String(format: "%.2f", r))× acknowledged/s (medians)") }
        }
        if !lifecycles.isEmpty {
            lines.append("Muster lifecycles: \(f(Self.median(lifecycles.map(\.casesPerSecond)))) cases/s (median of \(lifecycles.count); 7 messages each)")
            let ratios = lifecycleRatios()
            if let r = Self.median(ratios.compactMap { $0 }) {
                let each = ratios.map { $0.map { String(format: "%.2f", $0) } ?? "—" }.joined(separator: ", ")
                lines.append("Muster lifecycles / RabbitMQ's 7-message cases: \(String(format: "%.2f", r))× (median; each repetition \(each))")
            }
        }
        return lines.joined(separator: "\n")
    }
}
