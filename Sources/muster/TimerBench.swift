import Foundation
import Histogram
import Logging
import MusterBroker
import MusterConfig
import MusterStore
import MusterWire
import ZeroMQ

/// `muster bench timers`: many open dispatches with deadlines, then a restart of the real
/// broker binary (time to serving, resident memory), then ladders firing under a steady load
/// (how late a rung's NOTICE arrives after its due time).
struct TimerBench {
    let config: String
    let open: Int
    let rate: Int
    let seconds: Int

    func run() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("muster-timers-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("timers.db").path

        // 1. Fill: open dispatches (no agency connected, so none is signed for), each with its
        //    ladders' rungs as timer rows.
        let cfg = try BrokerConfig.load(config, insecure: true)
        var logger = Logger(label: "muster.bench.timers")
        logger.logLevel = .warning
        do {
            let store = try Store(path: db)
            let broker = try Broker(config: cfg, store: store, endpoint: "tcp://127.0.0.1:*", logger: logger)
            _ = broker.start()
            let start = DispatchTime.now().uptimeNanoseconds
            try LoadGenerator(endpoint: broker.endpoint).intake(count: open, pipeline: 4000)
            broker.stopAndWait()
            let rows = try store.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM timers") ?? 0 }
            print(String(format: "fill: %d open dispatches, %d timer rows in %.1f s", open, rows, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9))
        }

        // 2. A config whose signing clock is 2 s (the shipped ladder: 75 %, 100 %, +1wd), for the firing phase.
        let fast = dir.appendingPathComponent("config")
        try FileManager.default.copyItem(atPath: (config as NSString).deletingLastPathComponent, toPath: fast.path)
        let slaPath = fast.appendingPathComponent("sla.yaml").path
        var sla = try String(contentsOfFile: slaPath, encoding: .utf8)
        sla = sla.replacingOccurrences(of: #"(?m)^  ack_within: .*$"#, with: "  ack_within: 2s", options: .regularExpression)
        sla = sla.replacingOccurrences(of: #"(?ms)^rules:.*?^modes:"#, with: "rules: []\nmodes:", options: .regularExpression)
        try sla.write(toFile: slaPath, atomically: true, encoding: .utf8)

        // 3. Restart: the real binary, as a child process; time until it answers HELLO.
        let port = 20_000 + Int(getpid() % 20_000)
        let endpoint = "tcp://127.0.0.1:\(port)"
        let child = Process()
        child.executableURL = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0]).standardizedFileURL
        if !FileManager.default.isExecutableFile(atPath: child.executableURL!.path) {
            child.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        }
        child.arguments = ["broker", "--config", fast.appendingPathComponent("muster.yaml").path, "--db", db, "--endpoint", endpoint]
        child.standardOutput = FileHandle.nullDevice
        var env = ProcessInfo.processInfo.environment
        env["MUSTER_LOG"] = "error"
        child.environment = env
        let t0 = DispatchTime.now().uptimeNanoseconds
        try child.run()
        defer { if child.isRunning { child.terminate(); child.waitUntilExit() } }
        let probe = try Socket(.dealer)
        try probe.connect(endpoint)
        var served = false
        while !served && DispatchTime.now().uptimeNanoseconds - t0 < 600_000_000_000 {
            var w = JSONWriter(); w.field("id", "probe"); w.field("adapter", "bench-probe"); w.field("roles", ["monitor"])
            try probe.send(Envelope(.hello, body: w.finish()).frames)
            if probe.waitReadable(timeoutMs: 200), let m = try probe.receive(dontWait: true), m.count == 3, m[1] == Array("WELCOME".utf8) { served = true }
        }
        let startup = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        let rss = Self.residentMiB(pid: child.processIdentifier)
        print(String(format: "restart: serving after %.2f s, resident memory %.0f MiB (target ≤ 5 s, ≤ 1024 MiB at 1,000,000)", startup, rss))

        // 4. Firing under load: SUBMIT at `rate`/s; every case's signing clock rings at 75 % and 100 % of 2 s.
        try lateness(endpoint: endpoint)
    }

    static func residentMiB(pid: Int32) -> Double {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kb = Double(line.split(separator: " ").dropFirst().first ?? "") else { return -1 }
        return kb / 1024
    }

    func lateness(endpoint: String) throws {
        let gen = LoadGenerator(endpoint: endpoint)
        let intake = try gen.peer("bench-timer-intake", ["intake"])
        // Another department than the filled backlog's (reli), so that the rungs are measured, not
        // the flush of 100,000 waiting dispatches to a reconnecting agency.
        let agency = try gen.peer("bench-timer-gongshui", ["agency"], agency: "gongshui")
        var h = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
        let total = rate * seconds
        let interval = 1_000_000_000 / UInt64(rate)
        let start = LoadGenerator.now()
        let wallStart = Date()
        var sent = 0, notices = 0
        let expected = total * 2
        var received: [String] = []
        while notices < expected {
            let now = LoadGenerator.now()
            while sent < total && start + UInt64(sent) * interval <= now {
                try intake.send(Envelope(.submit, body: gen.submitBody("tb\(sent)", "\(gen.run)-tb\(sent)", category: "water_outage")).frames)
                sent += 1
            }
            if Poller.readable([intake, agency], timeoutMs: 1)[1] {
                while let m = try agency.receive(dontWait: true), m.count == 3 {
                    if let d = LoadGenerator.field(m[2], "delivery") { received.append(d) }
                    guard m[1] == Array("NOTICE".utf8) else { continue }
                    let arrived = Date()
                    if let rungDue = LoadGenerator.field(m[2], "rung_due").flatMap(CasesCommand.parse) {
                        _ = h.record(UInt64(max(0, arrived.timeIntervalSince(rungDue)) * 1_000_000))
                    }
                    notices += 1
                }
                if !received.isEmpty {
                    var w = JSONWriter(); w.field("deliveries", received)
                    try agency.send(Envelope(.received, body: w.finish()).frames)
                    received.removeAll(keepingCapacity: true)
                }
            }
            while (try intake.receive(dontWait: true)) != nil {}
            if Date().timeIntervalSince(wallStart) > Double(seconds + 60) { throw CLIError("only \(notices)/\(expected) notices") }
        }
        LoadGenerator.report("ladder rungs firing at \(rate) cases/s for \(seconds) s (NOTICE arrival − rung due)", count: notices,
                             elapsed: Date().timeIntervalSince(wallStart), h)
    }
}
