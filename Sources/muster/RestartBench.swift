import Foundation
import MusterBroker
import MusterConfig
import MusterCore
import MusterStore
import MusterWire
import ZeroMQ

/// `muster bench restart` (issue 9 item 7): how long the real `muster broker` binary takes from
/// spawn to answering HELLO, and how much memory it holds, on a database of N open dispatches,
/// on one of N closed cases, and on an empty one (the closed / empty ratio).
///
/// The databases are built in-process, without sockets (`populate`), and cached under /tmp by kind
/// and size so that re-runs measure at once. Each measured broker runs on a copy, so the cache stays
/// as built.
struct RestartBench {
    let config: String
    let open: Int
    let closed: Int
    let repeats: Int
    let cacheDir: String

    enum Kind: String { case empty, open, closed }

    /// Populated databases are stamped this far in the future, so that no ladder rung comes due
    /// (and fires at start-up, which is not what is measured) while the cache is reused, and no
    /// stored request id is old enough to be pruned on the first tick.
    static let futureShiftMs: Int64 = 7 * 86_400_000
    /// Bumped when `populate` writes something different, or the schema changes (a cached
    /// database would be migrated inside each timed restart), so old caches are not reused.
    static let cacheVersion = "v2"

    struct Sample {
        var seconds: Double
        /// From the child's stderr lines as they arrived (see `phases`).
        var phases: [(String, Double)]
        var hwmMiB: Double
        var rssMiB: Double
    }

    func run() throws {
        let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("model name") }
            .map { $0.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "" } ?? "?"
        say("muster bench restart — \(ProcessInfo.processInfo.activeProcessorCount) cores (\(cpu)), broker binary \(Self.executable.path)")
        let configPath = URL(fileURLWithPath: config).standardizedFileURL.path
        try FileManager.default.createDirectory(atPath: cacheDir, withIntermediateDirectories: true)

        var kinds: [(Kind, Int)] = [(.empty, 0)]
        if open > 0 { kinds.append((.open, open)) }
        if closed > 0 { kinds.append((.closed, closed)) }

        // 1. The databases: cached, or built now.
        for (kind, n) in kinds {
            let path = cachePath(kind, n)
            let start = Self.now()
            let reused = try Self.populate(kind, count: n, at: path, config: configPath)
            say(String(format: "%@ %@: %@ (%.1f s), %@", kind.rawValue, Self.grouped(n), reused ? "reused cached database" : "built",
                         Self.seconds(since: start), Self.describe(path)))
        }

        // 2. A working copy per kind: the broker writes to its database (WAL, lock file), the cache must not change.
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("muster-restart-\(getpid())").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        var copies: [Kind: String] = [:]
        for (kind, n) in kinds {
            let copy = "\(work)/\(kind.rawValue).db"
            let start = Self.now()
            try FileManager.default.copyItem(atPath: cachePath(kind, n), toPath: copy)
            copies[kind] = copy
            say(String(format: "copied %@ database in %.1f s", kind.rawValue, Self.seconds(since: start)))
        }

        // 3. Restarts, the kinds in turn within each round, so that the machine's noise falls on all of them.
        var samples: [Kind: [Sample]] = [:]
        for round in 1...repeats {
            for (kind, n) in kinds {
                let s = try restart(db: copies[kind]!, config: configPath)
                samples[kind, default: []].append(s)
                let phases = s.phases.map { String(format: "%@ %.2f", $0.0, $0.1) }.joined(separator: ", ")
                say(String(format: "  %d/%d %@ %@: serving after %.2f s (%@), VmHWM %.0f MiB, VmRSS %.0f MiB",
                             round, repeats, kind.rawValue, Self.grouped(n), s.seconds, phases, s.hwmMiB, s.rssMiB))
            }
        }

        // 4. Medians against the targets.
        say("medians of \(repeats):")
        func median(_ kind: Kind, _ value: (Sample) -> Double) -> Double {
            let v = (samples[kind] ?? []).map(value).sorted()
            return v.isEmpty ? .nan : v[v.count / 2]
        }
        for (kind, n) in kinds {
            var line = String(format: "  %@ %@: serving after %.2f s, VmHWM %.0f MiB, VmRSS %.0f MiB", kind.rawValue, Self.grouped(n),
                              median(kind, \.seconds), median(kind, \.hwmMiB), median(kind, \.rssMiB))
            let phaseNames = samples[kind]?.first?.phases.map { $0.0 } ?? []
            line += " (" + phaseNames.map { name in
                String(format: "%@ %.2f", name, median(kind) { s in s.phases.first { $0.0 == name }?.1 ?? .nan })
            }.joined(separator: ", ") + ")"
            say(line)
        }
        if open > 0 {
            say(String(format: "  target at 1,000,000 open dispatches: ≤ 5 s and ≤ 1024 MiB; here %@: %.2f s, VmHWM %.0f MiB",
                         Self.grouped(open), median(.open, \.seconds), median(.open, \.hwmMiB)))
        }
        if closed > 0 {
            let ratio = median(.closed, \.seconds) / median(.empty, \.seconds)
            say(String(format: "  closed / empty: %.2f s / %.2f s = %.2f (target ≤ 1.10 at 1,000,000 closed cases)",
                         median(.closed, \.seconds), median(.empty, \.seconds), ratio))
        }

        // 5. The load phase split, in this process (the broker's own phases are not visible from outside).
        for (kind, n) in kinds where n > 0 {
            let t = try Self.timeLoad(copies[kind]!)
            say(String(format: "load phases in-process, %@ %@: loadWorkingSet %.2f s, pendingPushes(bodies: 50,000) %.2f s (%@ pushes)",
                         kind.rawValue, Self.grouped(n), t.ledger, t.pushes, Self.grouped(t.pushCount)))
        }
    }

    func cachePath(_ kind: Kind, _ n: Int) -> String { "\(cacheDir)/\(Self.cacheVersion)-\(kind.rawValue)-\(n).db" }

    // MARK: the restart, measured from outside

    static var executable: URL {
        URL(fileURLWithPath: Bundle.main.executablePath ?? "/proc/self/exe").resolvingSymlinksInPath()
    }

    /// Spawns `muster broker` on `db`, times it until a HELLO is answered, reads its memory, stops it.
    func restart(db: String, config: String) throws -> Sample {
        let port = try Self.freePort()
        let endpoint = "tcp://127.0.0.1:\(port)"
        // Connected before the spawn, the HELLO waits in the socket's queue until the broker binds.
        let probe = try Socket(.dealer)
        defer { probe.close() }
        try probe.setReconnect(initialMs: 5, maxMs: 5)
        try probe.connect(endpoint)
        var hello = JSONWriter(); hello.field("id", "probe"); hello.field("adapter", "bench-restart-probe"); hello.field("roles", ["monitor"])

        let child = Process()
        child.executableURL = Self.executable
        child.arguments = ["broker", "--config", config, "--db", db, "--endpoint", endpoint, "--insecure"]
        child.standardOutput = FileHandle.nullDevice
        var env = ProcessInfo.processInfo.environment
        env["MUSTER_LOG"] = "info"  // its start-up lines mark the phases
        child.environment = env
        let stderr = Pipe()
        child.standardError = stderr
        let lines = LineClock(stderr.fileHandleForReading)

        let t0 = Self.now()
        try child.run()
        defer { if child.isRunning { child.terminate(); child.waitUntilExit() } }
        _ = try probe.send(Envelope(.hello, body: hello.finish()).frames)
        var served: UInt64?
        while served == nil {
            if probe.waitReadable(timeoutMs: 100) {
                while let m = try probe.receive(dontWait: true) {
                    if m.count == 3, m[1] == Array("WELCOME".utf8) { served = Self.now() }
                }
            } else if !child.isRunning {
                throw CLIError("the broker exited (\(child.terminationStatus)) before serving: \(lines.text.suffix(2000))")
            } else if Self.now() - t0 > 900_000_000_000 {
                throw CLIError("no WELCOME after 900 s")
            }
        }
        let status = (try? String(contentsOfFile: "/proc/\(child.processIdentifier)/status", encoding: .utf8)) ?? ""
        child.terminate()
        child.waitUntilExit()
        lines.waitForEnd()
        return Sample(seconds: Double(served! - t0) / 1e9, phases: Self.phases(lines.lines, start: t0, served: served!),
                      hwmMiB: Self.kib(status, "VmHWM:") / 1024, rssMiB: Self.kib(status, "VmRSS:") / 1024)
    }

    /// Start-up as the broker's stderr shows it: the --insecure banner is written once the config is
    /// loaded; "CURVE is off" is logged in Broker.init after the store is open and the socket bound,
    /// just before the ledger is loaded; "broker ready" once the ledger, the timer heap and the
    /// pending pushes are in memory and the loop has checked the holiday schedules and started
    /// the scan of stored request ids (on its own thread); then the loop answers HELLO.
    static func phases(_ lines: [(at: UInt64, text: String)], start: UInt64, served: UInt64) -> [(String, Double)] {
        func at(_ marker: String) -> UInt64? { lines.first { $0.text.contains(marker) }?.at }
        let marks: [(String, UInt64?)] = [
            ("exec+config", at("INSECURE: --insecure given")), ("store open", at("INSECURE: CURVE is off")),
            ("load", at("broker ready")), ("ready→WELCOME", served),
        ]
        var out: [(String, Double)] = []
        var previous = start
        for (name, t) in marks {
            guard let t else { continue }
            // The log's lines are timed by the thread that reads the broker's stderr, so "broker
            // ready" can be seen just after the WELCOME that followed it: 0, not an unsigned wrap.
            out.append((name, t > previous ? Double(t - previous) / 1e9 : 0))
            previous = max(previous, t)
        }
        return out
    }

    static func kib(_ status: String, _ key: String) -> Double {
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(key) }),
              let kb = Double(line.split(separator: " ").dropFirst().first ?? "") else { return .nan }
        return kb
    }

    /// A TCP port nothing listens on now (bound to port 0, then released).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw CLIError("socket: \(errno)") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard ok else { throw CLIError("bind: \(errno)") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
    static func seconds(since t: UInt64) -> Double { Double(now() - t) / 1e9 }

    static func grouped(_ n: Int) -> String {
        let f = NumberFormatter()
        f.numberStyle = .decimal
        f.groupingSeparator = ","
        return f.string(from: NSNumber(value: n)) ?? "\(n)"
    }

    static func describe(_ path: String) -> String {
        let size = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.int64Value ?? 0
        return String(format: "%.0f MiB at %@", Double(size) / 1_048_576, path)
    }

    // MARK: the only code that uses the core's and the store's APIs — adapt here when they change

    /// Builds a database of `count` cases of `kind` at `path` the way the broker would have written
    /// it, or reuses the one an earlier run left there. Returns whether it was reused.
    ///
    /// Per SUBMIT, as `Broker.decide` does: the body decoded by `BodyDecoder`, `Ledger.decide` with
    /// the config's rules, the case's submitted bytes, the facts, a DISPATCH push per new dispatch
    /// (body as `Messages.dispatch` writes it, delivery id tagged by the store's key), the ACCEPTED
    /// reply as a stored request; sealed from the ledger and committed by `Store.commit` in batches
    /// (on a second thread, as CommitWriter does). The first batch records the applied holiday
    /// schedules, as a broker's first start does, so the restart has no calendar to catch up on.
    ///
    /// open: each case SUBMITted and dispatched, nobody signs: open dispatches, their ladder rungs
    /// as timer rows, their DISPATCHes waiting in the outbox.
    /// closed: each case also ACKed and RESOLVEd by its departments, VERIFYed (passed) and
    /// EVALUATEd (satisfied): closed. Its DISPATCHes were received (deleted from the outbox). No
    /// request ids are stored for them: history older than 7 days has had them pruned.
    static func populate(_ kind: Kind, count: Int, at path: String, config: String) throws -> Bool {
        let fm = FileManager.default
        let done = path + ".complete"
        if fm.fileExists(atPath: done), fm.fileExists(atPath: path) {
            // Opening migrates an old cache once here, not in the measured broker.
            let firstDue = try Store(path: path, synchronous: .off).read { db in try Int64.fetchOne(db, sql: "SELECT min(due) FROM timers") }
            if firstDue.map({ $0 > Date().ms + 3_600_000 }) ?? true { return true }
            say("\(path): a ladder rung comes due within the hour; building it again")
        }
        for p in [path, path + "-wal", path + "-shm", done] { try? fm.removeItem(atPath: p) }

        let cfg = try BrokerConfig.load(config, insecure: true)
        let rules = cfg.rules
        let store = try Store(path: path, synchronous: .off)
        let deliveryIDs = store.deliveryIDs
        var ledger = Ledger()
        var lastDelivery = store.lastDelivery
        let intake = Actor(adapter: "bench-restart-intake", roles: [.intake])
        let grid = Actor(adapter: "bench-restart-grid", roles: [.grid])
        let run = String(Int64(Date().timeIntervalSince1970 * 1000), radix: 36)
        let load = LoadGenerator(endpoint: "")

        // The writer: one batch committing while the next is decided, at most two in flight.
        let commits = DispatchQueue(label: "muster.bench.restart.commit")
        let slots = DispatchSemaphore(value: 2)
        let failure = FailureBox()
        func commit(_ batch: Batch) throws {
            slots.wait()
            if let e = failure.error { throw e }
            commits.async {
                do { try store.commit(batch) } catch { failure.set(error) }
                slots.signal()
            }
        }

        func decided(_ command: MusterCore.CaseCommand, _ actor: Actor, _ now: Date, _ what: String) throws -> Decision {
            switch ledger.decide(command, by: actor, rules: rules, now: now) {
            case .success(let d): return d
            case .failure(let e): throw CLIError("\(what): \(e.code.rawValue) \(e.message)")
            }
        }
        /// Requests decoded as the broker decodes them (the requests have no public initialisers).
        func decode<R: Request>(_ type: R.Type, _ body: [UInt8]) throws -> R {
            switch BodyDecoder.decode(type, from: body) {
            case .success(let r): return r
            case .failure(let e): throw CLIError("bench request \(String(decoding: body, as: UTF8.self)): \(e.message)")
            }
        }
        func request<R: Request>(_ type: R.Type, _ fill: (inout JSONWriter) -> Void) throws -> R {
            var w = JSONWriter()
            fill(&w)
            return try decode(type, w.finish())
        }

        var batch = Batch()
        let year = CivilDay(Date()).year
        batch.appliedCalendar = rules.calendar.schedules(Set(rules.calendar.years).union((year - 1)...(year + 3)))
        var inBatch = 0
        let perBatch = kind == .closed ? 500 : 2000
        var clock = Date().adding(ms: futureShiftMs)
        let started = RestartBench.now()
        var nextReport = 100_000
        func flush() throws {
            batch.seal(from: ledger)
            batch.lastDelivery = lastDelivery
            try commit(batch)
            batch = Batch()
            inBatch = 0
        }
        /// A DISPATCH into this batch's outbox rows (Broker.push); returns its delivery number.
        func push(_ d: DispatchRecord, _ now: Date) throws -> Int64 {
            guard let c = ledger.cases[d.caseID], let submitted = batch.submitted[d.caseID] else { throw CLIError("no case for \(d.dispatchID)") }
            lastDelivery += 1
            let shown = PersonalData.reporterShown(in: submitted, reveal: rules.routing.agencies[d.agency]?.contactsReporters ?? false)
            batch.pushes.append(Batch.Push(
                delivery: lastDelivery, target: "agency:\(d.agency)", command: Command.dispatch.rawValue,
                body: Messages.dispatch(delivery: deliveryIDs.wire(lastDelivery), d, c, submitted: shown, calendar: rules.calendar), dispatchID: d.dispatchID, createdAt: now))
            return lastDelivery
        }

        for i in 0..<count {
            if inBatch == 0 { clock = Date().adding(ms: futureShiftMs) }  // one clock reading per batch, as the broker does
            let now = clock
            let requestID = "s\(i)"
            let body = load.submitBody(requestID, "restart-\(kind.rawValue)-\(run)-\(i)")
            let decision = try decided(.submit(try decode(Submit.self, body)), intake, now, "SUBMIT \(i)")
            guard case .accepted(let caseID, _, _, _) = decision.reply, let caseBytes = JSONSpan.value(of: "case", in: body) else {
                throw CLIError("SUBMIT \(i): \(decision.reply)")
            }
            batch.submitted[caseID] = Array(caseBytes)
            batch.add(decision.facts, touched: decision.touched)
            var dispatches: [DispatchRecord] = []
            for f in decision.facts {
                guard case .dispatched(let d) = f.change else { continue }
                dispatches.append(d)
                let delivery = try push(d, now)
                if kind == .closed { batch.received.append(delivery) }  // the department's RECEIVED
            }
            if dispatches.isEmpty { throw CLIError("SUBMIT \(i) was not dispatched: \(decision.reply)") }

            if kind == .closed {
                // Assists first: the case moves with its lead.
                for d in dispatches.sorted(by: { $0.role != .lead && $1.role == .lead }) {
                    let agency = Actor(adapter: "bench-restart-\(d.agency)", roles: [.agency], agency: d.agency)
                    let ack = try request(Ack.self) { w in
                        w.field("id", "a\(d.dispatchID)"); w.field("dispatch_id", d.dispatchID); w.field("handler", "值班员")
                    }
                    do { let made = try decided(.ack(ack), agency, now, "ACK \(d.dispatchID)"); batch.add(made.facts, touched: made.touched) }
                    let resolve = try request(Resolve.self) { w in
                        w.field("id", "r\(d.dispatchID)"); w.field("dispatch_id", d.dispatchID); w.field("result", "已修复")
                    }
                    do { let made = try decided(.resolve(resolve), agency, now, "RESOLVE \(d.dispatchID)"); batch.add(made.facts, touched: made.touched) }
                }
                let verify = try request(Verify.self) { w in w.field("id", "v\(caseID)"); w.field("case_id", caseID); w.field("passed", true) }
                do { let made = try decided(.verify(verify), grid, now, "VERIFY \(caseID)"); batch.add(made.facts, touched: made.touched) }
                let evaluate = try request(Evaluate.self) { w in
                    w.field("id", "e\(caseID)"); w.field("case_id", caseID); w.field("satisfaction", "satisfied")
                }
                do { let made = try decided(.evaluate(evaluate), intake, now, "EVALUATE \(caseID)"); batch.add(made.facts, touched: made.touched) }
                guard ledger.cases[caseID]?.state == .closed else {
                    throw CLIError("case \(caseID) is \(ledger.cases[caseID]?.state.rawValue ?? "?") after EVALUATE, not closed")
                }
            } else {
                batch.replies.append(Batch.StoredReply(adapter: intake.adapter, requestID: requestID, command: .accepted,
                                                       body: Messages.reply(re: requestID, decision.reply!, calendar: rules.calendar, now: now).1, at: now))
            }

            inBatch += 1
            if inBatch == perBatch { try flush() }
            if i + 1 == nextReport || i + 1 == count {
                let s = RestartBench.seconds(since: started)
                say(String(format: "  %@: %@ / %@ cases in %.0f s (%.0f/s)", kind.rawValue, RestartBench.grouped(i + 1),
                             RestartBench.grouped(count), s, Double(i + 1) / s))
                nextReport += 100_000
            }
        }
        if inBatch > 0 || !batch.isEmpty { try flush() }  // with no cases: the applied calendar alone
        commits.sync {}
        if let e = failure.error { throw e }
        _ = fm.createFile(atPath: done, contents: Data())
        return false
    }

    /// The broker's two loads (its working set, its pending pushes) timed in this process, to
    /// split its load phase.
    static func timeLoad(_ path: String) throws -> (ledger: Double, pushes: Double, pushCount: Int) {
        let store = try Store(path: path)
        let t0 = now()
        let ledger = try store.loadWorkingSet(timersDueBy: Date().adding(ms: 3_600_000))
        let t1 = now()
        let pushes = try store.pendingPushes(bodies: 50_000)
        let t2 = now()
        _ = ledger.cases.count
        return (Double(t1 - t0) / 1e9, Double(t2 - t1) / 1e9, pushes.count)
    }
}

/// The first error of the populating writer thread.
final class FailureBox: @unchecked Sendable {
    private let lock = NSLock()
    private var first: Error?
    var error: Error? { lock.withLock { first } }
    func set(_ e: Error) { lock.withLock { if first == nil { first = e } } }
}

/// The child's stderr, line by line, each with the time it arrived here.
final class LineClock: @unchecked Sendable {
    private let lock = NSLock()
    private var collected: [(at: UInt64, text: String)] = []
    private var all = ""
    private let ended = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle) {
        let t = Thread { [self] in
            var pending = Data()
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                let at = DispatchTime.now().uptimeNanoseconds
                pending.append(chunk)
                while let nl = pending.firstIndex(of: 0x0A) {
                    let line = String(decoding: pending[pending.startIndex..<nl], as: UTF8.self)
                    pending.removeSubrange(pending.startIndex...nl)
                    lock.withLock { collected.append((at, line)); all += line + "\n" }
                }
            }
            ended.signal()
        }
        t.start()
    }

    var lines: [(at: UInt64, text: String)] { lock.withLock { collected } }
    var text: String { lock.withLock { all } }
    func waitForEnd() { ended.wait() }
}
