import Foundation

/// `muster bench peers`: this binary side by side with RabbitMQ and NATS JetStream on the shared
/// harness's durable job (../shared/bench-peers), interleaved, then the medians and the ratios.
/// With `--lifecycles`, each repetition is RabbitMQ's job (and Muster's) then whole lifecycles
/// against a broker of their own, and the lifecycles are compared with RabbitMQ's rate as
/// seven-message cases (the issue's target 2).
/// The harness is shell and C so that every side is driven by the same kind of client; this only
/// finds what it needs, builds the clients, starts the peers it did not find running, and reads
/// the output back (`HarnessReport`). With `--log` it only reads back a run already made.
struct PeersBench {
    var harness: String
    var scratch: String
    var repetitions: Int
    /// Messages a second for the steady-rate job; nil: the throughput job, 1,000 in flight.
    var rate: Int?
    /// Cases for a lifecycle run after each repetition of the throughput job; nil: none.
    var lifecycleCases: Int?

    static let rabbitServer = "/usr/lib/rabbitmq/bin/rabbitmq-server"
    static let rabbitPort: UInt16 = 5672, natsPort: UInt16 = 4222

    func run() throws {
        let fm = FileManager.default
        for script in ["sidebyside.sh", "peers_ctl.sh", "musterc.c", "rmqc.c"] where !fm.fileExists(atPath: "\(harness)/\(script)") {
            throw CLIFailure(.unreachable, "the shared harness is not at \(harness) (no \(script)); give its folder with --harness")
        }
        guard fm.isExecutableFile(atPath: Self.rabbitServer) else {
            throw CLIFailure(.unreachable, "RabbitMQ is not installed (no \(Self.rabbitServer)): apt-get install -y rabbitmq-server librabbitmq-dev sysstat — \(harness)/README.md")
        }
        let nats = rate == nil && lifecycleCases == nil && Self.onPath("nats-server") != nil
        let bin = "\(scratch)/bin"
        try fm.createDirectory(atPath: bin, withIntermediateDirectories: true)
        try buildClients(into: bin, nats: nats)

        // Peers found listening were started by someone else: used, and left running.
        var started: [String] = []
        defer { for peer in started.reversed() { _ = try? Self.shell(["bash", "\(harness)/peers_ctl.sh", "\(peer)-stop"], env: ["PEER_DIR": "\(scratch)/peers"]) } }
        if !Self.listening(Self.rabbitPort) {
            try Self.must(["bash", "\(harness)/peers_ctl.sh", "rmq-start"], env: ["PEER_DIR": "\(scratch)/peers"], "RabbitMQ did not start")
            started.append("rmq")
        }
        if nats, !Self.listening(Self.natsPort) {
            try Self.must(["bash", "\(harness)/peers_ctl.sh", "nats-start"], env: ["PEER_DIR": "\(scratch)/peers"], "NATS did not start")
            started.append("nats")
        }

        let me = (try? fm.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let log = "\(scratch)/sidebyside\(rate.map { "-rate\($0)" } ?? "").log"
        let job = (rate.map { "a steady \($0)/s" } ?? "as fast as acknowledged, 1,000 in flight")
            + (lifecycleCases.map { ", then \($0) lifecycles" } ?? "")
        FileHandle.standardError.write(Data("muster bench peers — \(repetitions) interleaved runs of Muster, RabbitMQ\(nats ? ", NATS" : ""): \(job); \(me); output in \(log)\n".utf8))
        // The harness runs `muster broker --config config/muster.yaml` in MUSTER_DIR: the checkout.
        var env = ["MUSTER_DIR": fm.currentDirectoryPath, "MUSTER_BIN": me, "BIN_DIR": bin, "SCRATCH": "\(scratch)/runs",
                   "REPS": String(repetitions), "NATS": nats ? "1" : "0"]
        if let rate { env["RATE"] = String(rate) }
        var output = ""
        if let cases = lifecycleCases {
            // One repetition of the harness, then the lifecycles, and again: the box's mood
            // shifts within minutes, so each lifecycle run has a RabbitMQ run beside it. The log
            // grows a repetition at a time: a failure keeps what ran before it.
            env["REPS"] = "1"
            FileManager.default.createFile(atPath: log, contents: nil)
            for rep in 1...repetitions {
                let harnessRun = try runHarness(env: env, log: "\(log).\(rep)")
                output += harnessRun + (try lifecycleRun(me: me, cases: cases, rep: rep))
                try output.write(toFile: log, atomically: true, encoding: .utf8)
            }
        } else {
            output = try runHarness(env: env, log: log)
        }
        let report = HarnessReport(parsing: output)
        guard report.repetitions("muster") > 0, report.repetitions("rmq") > 0 else {
            throw CLIFailure(.other, "the harness printed no runs to compare; its output is in \(log)")
        }
        print(report.table())
    }

    /// `sidebyside.sh` once, its output kept in `log` as it runs.
    func runHarness(env: [String: String], log: String) throws -> String {
        let out = try Self.shell(["bash", "\(harness)/sidebyside.sh"], env: env, keep: log)
        guard out.status == 0 else { throw CLIFailure(.other, "the harness failed (exit \(out.status)); its output is in \(log)") }
        return out.output
    }

    /// `muster bench lifecycle` against a broker of its own (this binary, the checkout's config,
    /// a fresh database), as the harness runs Muster's job; returns its lines for the report
    /// (`### lifecycle`, then the bench's own line with `lifecycle_cases/s=`).
    func lifecycleRun(me: String, cases: Int, rep: Int) throws -> String {
        let dir = "\(scratch)/lifecycles/\(rep)"
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        // Below Linux's ephemeral ports (32768 and up), where a client's socket could take it.
        var port = UInt16.random(in: 20000...32000)
        while Self.listening(port) { port = UInt16.random(in: 20000...32000) }
        let endpoint = "tcp://127.0.0.1:\(port)"
        let brokerLog = "\(dir)/broker.log"
        let broker = try Self.spawn([me, "broker", "--insecure", "--config", "config/muster.yaml", "--db", "\(dir)/m.db", "--endpoint", endpoint],
                                    output: brokerLog)
        var ended = false
        defer { if !ended { kill(broker, SIGKILL); var s: Int32 = 0; while waitpid(broker, &s, 0) == -1, errno == EINTR {} } }
        // Ready once it takes connections (whatever its log level); one that ends first, or is
        // not listening within 30 s, is a failure, its folder kept with the log.
        var ready = false
        for _ in 0..<300 where !ready && !ended {
            var status: Int32 = 0
            ended = waitpid(broker, &status, WNOHANG) == broker
            ready = !ended && Self.listening(port)
            if !ready && !ended { usleep(100_000) }
        }
        guard ready else {
            let said = ((try? String(contentsOfFile: brokerLog, encoding: .utf8)) ?? "").suffix(400)
            throw CLIFailure(.other, "the lifecycle run's broker \(ended ? "ended" : "did not listen on \(endpoint) within 30 s") (its log: \(brokerLog)): \(said)")
        }
        let out = try Self.shell([me, "bench", "lifecycle", "--endpoint", endpoint, "--cases", String(cases)], env: [:])
        guard out.status == 0, let line = out.output.split(separator: "\n").first(where: { $0.hasPrefix("lifecycle SUBMIT") }),
              let rate = line.split(separator: "= ").last.flatMap({ Double($0.prefix { $0.isNumber || $0 == "." }) }) else {
            throw CLIFailure(.other, "the lifecycle run failed (exit \(out.status)): \(out.output.suffix(400))")
        }
        try? FileManager.default.removeItem(atPath: dir)  // kept only when the run failed
        return "### lifecycle \(rep)\nlifecycle cases=\(cases) lifecycle_cases/s=\(Int(rate))\n"
    }

    /// The harness's C clients, built once into `bin` (gcc, libzmq, librabbitmq).
    func buildClients(into bin: String, nats: Bool) throws {
        var clients = [("musterc", ["-lzmq"]), ("rmqc", ["-lrabbitmq"])]
        if nats { clients.append(("natsc", [])) }
        for (name, libs) in clients where !FileManager.default.isExecutableFile(atPath: "\(bin)/\(name)") {
            try Self.must(["gcc", "-O2", "-o", "\(bin)/\(name)", "\(harness)/\(name).c"] + libs, env: [:],
                          "cannot build the harness's \(name) (gcc, libzmq3-dev, librabbitmq-dev — \(harness)/README.md)")
        }
    }

    static func onPath(_ program: String) -> String? {
        (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
            .map { "\($0)/\(program)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Whether something accepts TCP connections on 127.0.0.1:`port`.
    static func listening(_ port: UInt16) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    static func must(_ argv: [String], env: [String: String], _ what: String) throws {
        let r = try shell(argv, env: env)
        guard r.status == 0 else { throw CLIFailure(.unreachable, "\(what): \(r.output.suffix(400))") }
    }

    /// Starts `argv` with `env` added to the environment, stdout and stderr together into
    /// `output`, and returns at once: the caller waits for it or ends it.
    static func spawn(_ argv: [String], env: [String: String] = [:], output: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let environment = ProcessInfo.processInfo.environment.merging(env) { $1 }.map { "\($0)=\($1)" }
        let cArgs = argv.map { strdup($0) } + [nil], cEnv = environment.map { strdup($0) } + [nil]
        defer { (cArgs + cEnv).forEach { free($0) } }
        var pid = pid_t()
        let rc = posix_spawnp(&pid, argv[0], &actions, nil, cArgs, cEnv)
        guard rc == 0 else { throw CLIFailure(.other, "cannot run \(argv[0]): \(String(cString: strerror(rc)))") }
        return pid
    }

    /// Runs `argv` with `env` added to the end, stdout and stderr together into a file, and
    /// returns them. With `keep`, the output is written there (and can be followed while it
    /// runs) and kept. posix_spawn and waitpid, not Foundation's Process: on Linux, Process learns
    /// that its child ended from a socket the child inherits, and a daemon the script leaves
    /// running (RabbitMQ's beam, epmd) keeps it open — `waitUntilExit` would wait for the daemon.
    static func shell(_ argv: [String], env: [String: String], keep: String? = nil) throws -> (status: Int32, output: String) {
        let path = keep ?? FileManager.default.temporaryDirectory.appendingPathComponent("muster-bench-peers-\(getpid())-\(UInt64.random(in: 0 ... .max)).out").path
        defer { if keep == nil { try? FileManager.default.removeItem(atPath: path) } }
        let pid = try spawn(argv, env: env, output: path)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1, errno == EINTR {}
        // WIFEXITED / WEXITSTATUS (macros Swift does not import); a signal's end as 128 + signal.
        let code = status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return (code, (try? String(contentsOfFile: path, encoding: .utf8)) ?? "")
    }
}
