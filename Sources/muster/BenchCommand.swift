import ArgumentParser
import Foundation
import Histogram
import Logging
import MusterBroker
import MusterConfig
import MusterCore
import MusterStore
import MusterWire
import ZeroMQ

/// Benchmarks, not tests: each prints throughput and HdrHistogram percentiles. By default the
/// broker runs in this process on its own thread (synchronous=FULL, a fresh database), and the
/// load comes from raw DEALER sockets on another thread: two threads for two cores.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Benchmarks: intake (pipelined SUBMIT), lifecycle (whole loops), latency (SUBMIT→DISPATCH at a fixed rate), peers (beside RabbitMQ and NATS).")

    @Argument(help: "intake, lifecycle, latency, timers, restart, peers, or all (all but timers, restart and peers).") var which = "all"
    @Option(help: "The broker's config file.") var config = "config/muster.yaml"
    @Option(help: "Use a running broker at this endpoint instead of an in-process one.") var endpoint: String?
    @Option(help: "SUBMITs for the intake bench.") var submits = 200_000
    @Option(help: "Requests kept in flight.") var pipeline = 2000
    @Option(help: "Cases for the lifecycle bench (default 50,000; 10,000 a repetition for peers --lifecycles).") var cases: Int?
    @Option(help: "Cases per second for the latency bench (and for peers --steady).") var rate = 1000
    @Option(help: "Seconds for the latency bench.") var seconds = 10
    @Option(help: "full, normal or off.") var synchronous = "full"
    @Option(help: "Open dispatches for the timers and restart benches.") var open = 100_000
    @Option(help: "Closed cases for the restart bench.") var closed = 100_000
    @Option(help: "Restarts of each database in the restart bench (the median is reported).") var repeats = 3
    @Option(help: "peers: the shared harness's folder (sidebyside.sh, the C clients' sources).") var harness = "../shared/bench-peers"
    @Option(help: "peers: scratch folder for the clients, the peers' state and the runs.") var scratch = "/tmp/muster-bench-peers"
    @Option(help: "peers: interleaved runs of each system (medians are reported).") var reps = 3
    @Flag(help: "peers: the steady-rate job at --rate instead of the throughput job.") var steady = false
    @Flag(help: "peers: whole lifecycles (muster bench lifecycle, --cases each run, against a broker of its own) beside RabbitMQ's job, compared as its seven-message cases.") var lifecycles = false
    @Option(help: "peers: read back this saved harness output instead of running it.") var log: String?
    @Flag(help: "CURVE on the in-process broker (fresh keys; one principal that may claim anything), to measure its cost.") var curve = false

    func run() throws {
        CLILogging.bootstrap(default: .warning)
        let which = self.which
        if which == "timers" {
            try TimerBench(config: config, open: open, rate: rate, seconds: seconds).run()
            return
        }
        if which == "decode" {
            try decodeBench()
            return
        }
        if which == "peers" {
            if let log {
                guard let text = try? String(contentsOfFile: log, encoding: .utf8) else { throw CLIFailure(.noFile, "no such file: \(log)") }
                let report = HarnessReport(parsing: text)
                guard report.repetitions("muster") > 0 else { throw CLIFailure(.badFile, "\(log): no run of the harness in it (### muster … lines)") }
                print(report.table())
                return
            }
            guard !(steady && lifecycles) else { throw CLIFailure(.usage, "--steady and --lifecycles are two different jobs: give one") }
            try PeersBench(harness: harness, scratch: scratch, repetitions: reps, rate: steady ? rate : nil,
                           lifecycleCases: lifecycles ? cases ?? 10_000 : nil).run()
            return
        }
        if which == "restart" {
            try RestartBench(config: config, open: open, closed: closed, repeats: repeats, cacheDir: "/tmp/muster-restart-cache").run()
            return
        }
        var broker: Broker?
        var target = endpoint ?? ""
        var dbPath = ""
        var clientCurve: (serverKey: String, keys: CurveKeyPair)?
        if endpoint == nil {
            var cfg = try BrokerConfig.load(config, insecure: true)
            if curve {
                let server = try CurveKeyPair.generate(), client = try CurveKeyPair.generate()
                let anyone = Principal(name: "bench", publicKey: client.publicKey, adapters: ["*"], roles: Set(Role.allCases), agencies: ["*"])
                cfg.security = .init(serverPublicKey: server.publicKey, serverSecretKey: server.secretKey,
                                     principals: [client.publicKey: anyone], peersFile: "")
                clientCurve = (server.publicKey, client)
            }
            dbPath = FileManager.default.temporaryDirectory.appendingPathComponent("muster-bench-\(getpid())/bench.db").path
            let store = try Store(path: dbPath, synchronous: Store.Synchronous(rawValue: synchronous.uppercased()) ?? .full)
            try store.checkpointInBackground()
            var logger = Logger(label: "muster.bench.broker")
            logger.logLevel = .warning
            let b = try Broker(config: cfg, store: store, endpoint: "tcp://127.0.0.1:*", logger: logger)
            _ = b.start()
            broker = b
            target = b.endpoint
        }
        print("muster bench — \(ProcessInfo.processInfo.activeProcessorCount) cores, broker \(endpoint == nil ? "in-process, synchronous=\(synchronous), \(curve ? "CURVE" : "plain TCP"), db \(dbPath)" : "at \(target)")")
        let bench = LoadGenerator(endpoint: target, curve: clientCurve)
        if which == "intake" || which == "all" { try bench.intake(count: submits, pipeline: pipeline) }
        if which == "lifecycle" || which == "all" { try bench.lifecycle(count: cases ?? 50_000, pipeline: pipeline) }
        if which == "latency" || which == "all" { try bench.latency(rate: rate, seconds: seconds) }
        broker?.stopAndWait()
        if !dbPath.isEmpty { try? FileManager.default.removeItem(atPath: (dbPath as NSString).deletingLastPathComponent) }
    }

    /// What reading one SUBMIT costs, in this process: the broker's one pass (JSONTree, the
    /// reserved-key check, the kept case) against Foundation's JSONDecoder on the same body.
    func decodeBench() throws {
        let n = max(submits, 1000)
        let load = LoadGenerator(endpoint: "")
        let bodies = (0..<1000).map { load.submitBody("d\($0)", "decode-\($0)") }
        func time(_ label: String, _ body: ([UInt8]) -> Void) {
            let t0 = DispatchTime.now().uptimeNanoseconds
            for i in 0..<n { body(bodies[i % bodies.count]) }
            let ns = Double(DispatchTime.now().uptimeNanoseconds - t0) / Double(n)
            print(String(format: "decode  %@: %.2f µs a SUBMIT (%d)", label, ns / 1000, n))
        }
        time("JSONTree + TreeDecoder (the broker's)") { _ = OnSubmit.decode($0) }
        time("JSONTree alone") { _ = try? JSONTree.parse($0) }
        time("Foundation JSONDecoder") { _ = try? JSONDecoder().decode(Submit.self, from: Data($0)) }
    }
}

/// Raw MUSTER/1 peers driving load; all sockets live on the calling thread.
struct LoadGenerator {
    let endpoint: String
    var curve: (serverKey: String, keys: CurveKeyPair)? = nil
    let run = String(Int64(Date().timeIntervalSince1970 * 1000), radix: 36)

    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    func peer(_ adapter: String, _ roles: [String], agency: String? = nil) throws -> Socket {
        let s = try Socket(.dealer)
        try s.setHighWaterMarks(send: 0, receive: 0)
        if let curve { try s.setCurveClient(serverKey: curve.serverKey, keys: curve.keys) }
        try s.connect(endpoint)
        var w = JSONWriter()
        w.field("id", "hello-\(adapter)")
        w.field("adapter", adapter)
        w.field("roles", roles)
        w.field("agency", agency)
        w.field("window", 100_000)
        try s.send(Envelope(.hello, body: w.finish()).frames)
        guard s.waitReadable(timeoutMs: 5000), let m = try s.receive(), m.count == 3, m[1] == Array("WELCOME".utf8) else {
            throw CLIError("no WELCOME for \(adapter) from \(endpoint)")
        }
        return s
    }

    func submitBody(_ id: String, _ ref: String, category: String = "heating_not_warm") -> [UInt8] {
        var w = JSONWriter(capacity: 400)
        w.field("id", id)
        w.object("case") { c in
            c.field("source", "hotline_12345")
            c.field("external_ref", ref)
            c.field("category", category)
            c.field("title", "小区暖气不热，室温低于18度")
            c.field("description", "业主反映3号楼暖气不热已两天")
            c.field("priority", "normal")
            c.object("location") { l in l.field("grid", "zz/erqi/jiefanglu"); l.field("address", "解放路\(ref)号") }
            c.object("reporter") { r in r.field("name", "王女士"); r.field("phone", "13800000000") }
        }
        return w.finish()
    }

    static func field(_ body: [UInt8], _ name: String) -> String? {
        guard let span = JSONSpan.value(of: name, in: body), span.count >= 2 else { return nil }
        return String(decoding: span.dropFirst().dropLast(), as: UTF8.self)
    }

    static func report(_ title: String, count: Int, elapsed: Double, _ h: Histogram<UInt64>, unit: String = "µs") {
        print(String(format: "%@: %d in %.2f s = %.0f/s", title, count, elapsed, Double(count) / elapsed))
        print("  latency \(unit): p50 \(h.valueAtPercentile(50)) p90 \(h.valueAtPercentile(90)) p99 \(h.valueAtPercentile(99)) p99.9 \(h.valueAtPercentile(99.9)) max \(h.max) (n=\(h.totalCount))")
    }

    /// Pipelined SUBMIT → ACCEPTED, `pipeline` in flight.
    func intake(count: Int, pipeline: Int) throws {
        let s = try peer("bench-intake-\(run)", ["intake"])
        var h = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
        var sentAt = [UInt64](repeating: 0, count: count)
        var sent = 0, done = 0
        let start = Self.now()
        while done < count {
            while sent < count && sent - done < pipeline {
                sentAt[sent] = Self.now()
                try s.send(Envelope(.submit, body: submitBody("i\(sent)", "\(run)-i\(sent)")).frames)
                sent += 1
            }
            guard s.waitReadable(timeoutMs: 10_000) else { throw CLIError("intake stalled at \(done)/\(count)") }
            while let m = try s.receive(dontWait: true) {
                guard m.count == 3, let re = Self.field(m[2], "re"), let i = Int(re.dropFirst()) else { continue }
                if m[1] != Array("ACCEPTED".utf8) { throw CLIError("SUBMIT \(re): \(String(decoding: m[2], as: UTF8.self))") }
                _ = h.record((Self.now() - sentAt[i]) / 1000)
                done += 1
            }
        }
        Self.report("intake  SUBMIT→ACCEPTED (durable)", count: count, elapsed: Double(Self.now() - start) / 1e9, h)
    }

    /// Whole loops: SUBMIT → DISPATCH → RECEIVED+ACK → RESOLVE → VERIFY → EVALUATE (closed).
    func lifecycle(count: Int, pipeline: Int) throws {
        let intake = try peer("bench-hotline-\(run)", ["intake"])
        let agency = try peer("bench-reli-\(run)", ["agency"], agency: "reli")
        let grid = try peer("bench-grid-\(run)", ["grid"])
        var h = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
        var startedAt = [UInt64](repeating: 0, count: count)
        var caseIndex: [String: Int] = [:]
        var sent = 0, closed = 0
        let start = Self.now()
        var receivedBatch: [String] = []
        while closed < count {
            while sent < count && sent - closed < pipeline {
                startedAt[sent] = Self.now()
                try intake.send(Envelope(.submit, body: submitBody("l\(sent)", "\(run)-l\(sent)")).frames)
                sent += 1
            }
            let ready = Poller.readable([intake, agency, grid], timeoutMs: 10_000)
            if !ready.contains(true) { throw CLIError("lifecycle stalled at \(closed)/\(count)") }
            while let m = try agency.receive(dontWait: true), m.count == 3 {
                let cmd = String(decoding: m[1], as: UTF8.self)
                if cmd == "DISPATCH" {
                    if let d = Self.field(m[2], "delivery") { receivedBatch.append(d) }
                    guard let did = Self.field(m[2], "dispatch_id") else { continue }
                    var w = JSONWriter(); w.field("id", "a\(did)"); w.field("dispatch_id", did); w.field("handler", "值班员")
                    try agency.send(Envelope(.ack, body: w.finish()).frames)
                } else if cmd == "OK", let did = Self.field(m[2], "dispatch_id"), let re = Self.field(m[2], "re") {
                    if re.hasPrefix("a") {
                        var w = JSONWriter(); w.field("id", "r\(did)"); w.field("dispatch_id", did); w.field("result", "已修复")
                        try agency.send(Envelope(.resolve, body: w.finish()).frames)
                    } else if let c = Self.field(m[2], "case_id") {
                        var w = JSONWriter(); w.field("id", "v\(c)"); w.field("case_id", c); w.field("passed", true)
                        try grid.send(Envelope(.verify, body: w.finish()).frames)
                    }
                } else if cmd == "ERROR" {
                    throw CLIError("agency: \(String(decoding: m[2], as: UTF8.self))")
                }
            }
            if !receivedBatch.isEmpty {
                var w = JSONWriter(); w.field("deliveries", receivedBatch)
                try agency.send(Envelope(.received, body: w.finish()).frames)
                receivedBatch.removeAll(keepingCapacity: true)
            }
            while let m = try grid.receive(dontWait: true), m.count == 3 {
                guard m[1] == Array("OK".utf8), let c = Self.field(m[2], "case_id") else {
                    if m[1] == Array("ERROR".utf8) { throw CLIError("grid: \(String(decoding: m[2], as: UTF8.self))") }
                    continue
                }
                var w = JSONWriter(); w.field("id", "e\(c)"); w.field("case_id", c); w.field("satisfaction", "satisfied")
                try intake.send(Envelope(.evaluate, body: w.finish()).frames)
            }
            while let m = try intake.receive(dontWait: true), m.count == 3 {
                guard let re = Self.field(m[2], "re") else { continue }
                if m[1] == Array("ACCEPTED".utf8), let c = Self.field(m[2], "case_id"), let i = Int(re.dropFirst()) {
                    caseIndex[c] = i
                } else if m[1] == Array("OK".utf8), let c = Self.field(m[2], "case_id"), let i = caseIndex.removeValue(forKey: c) {
                    _ = h.record((Self.now() - startedAt[i]) / 1000)
                    closed += 1
                } else if m[1] == Array("ERROR".utf8) {
                    throw CLIError("intake: \(String(decoding: m[2], as: UTF8.self))")
                }
            }
        }
        Self.report("lifecycle SUBMIT→…→closed (6 requests + 1 push each)", count: count, elapsed: Double(Self.now() - start) / 1e9, h)
    }

    /// SUBMIT at a fixed rate; latency from sending SUBMIT to the DISPATCH arriving at the agency.
    func latency(rate: Int, seconds: Int) throws {
        let intake = try peer("bench-latency-\(run)", ["intake"])
        let agency = try peer("bench-gongshui-\(run)", ["agency"], agency: "gongshui")
        var h = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
        let total = rate * seconds
        var sentAt = [UInt64](repeating: 0, count: total)
        let interval = 1_000_000_000 / UInt64(rate)
        let start = Self.now()
        var sent = 0, arrived = 0
        var receivedBatch: [String] = []
        while arrived < total {
            let now = Self.now()
            while sent < total && start + UInt64(sent) * interval <= now {
                sentAt[sent] = Self.now()
                try intake.send(Envelope(.submit, body: submitBody("t\(sent)", "\(run)-t\(sent)", category: "water_outage")).frames)
                sent += 1
            }
            let nextDue = sent < total ? start + UInt64(sent) * interval : now + 100_000_000
            let clock = Self.now()
            // Rounded up: at 1,000/s the wait is under a millisecond, and a 0 ms poll spun a whole
            // core the broker's threads then waited for (perf sched: up to 4 ms). A send may leave
            // up to a millisecond late; its time is taken when it leaves.
            let waitMs = nextDue > clock ? Int((nextDue - clock + 999_999) / 1_000_000) : 0
            let ready = Poller.readable([intake, agency], timeoutMs: waitMs)
            if ready[1] {
                while let m = try agency.receive(dontWait: true), m.count == 3 {
                    guard m[1] == Array("DISPATCH".utf8) else { continue }
                    let t = Self.now()
                    if let d = Self.field(m[2], "delivery") { receivedBatch.append(d) }
                    if let span = JSONSpan.value(of: "case", in: m[2]), let ref = Self.field(Array(span), "external_ref"),
                       let i = Int(ref.components(separatedBy: "-t").last ?? ""), Self.field(m[2], "role") == "lead" {
                        _ = h.record((t - sentAt[i]) / 1000)
                        arrived += 1
                    }
                }
                var w = JSONWriter(); w.field("deliveries", receivedBatch)
                if !receivedBatch.isEmpty { try agency.send(Envelope(.received, body: w.finish()).frames) }
                receivedBatch.removeAll(keepingCapacity: true)
            }
            if ready[0] { while (try intake.receive(dontWait: true)) != nil {} }
            if Self.now() - start > UInt64(seconds + 30) * 1_000_000_000 { throw CLIError("latency bench: only \(arrived)/\(total) dispatches arrived") }
        }
        Self.report("latency SUBMIT→DISPATCH at the agency, \(rate)/s for \(seconds) s", count: total, elapsed: Double(Self.now() - start) / 1e9, h)
    }
}
