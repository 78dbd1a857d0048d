import ArgumentParser
import Dispatch
import Foundation
import Logging
import MusterBroker
import MusterConfig
import MusterCore
import Metrics
import MusterStore
import Prometheus

struct BrokerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "broker", abstract: "Run the broker.")

    @Option(help: "Log lines as text, or as JSON objects for log shippers (or set MUSTER_LOG_FORMAT).") var logFormat: LogFormat?
    @Option(help: "The broker's config file.") var config = "config/muster.yaml"
    @Option(help: "The SQLite database (overrides the config).") var db: String?
    @Option(help: "The endpoint to bind, e.g. tcp://127.0.0.1:7400 (overrides the config).") var endpoint: String?
    @Flag(help: "Plain TCP: no CURVE, no keys; any peer that can reach the endpoint may claim anything. Tests and benchmarks only.") var insecure = false
    @Option(help: "HOST:PORT for /metrics (Prometheus), /healthz and /readyz, e.g. 127.0.0.1:9400. Off by default.") var metrics: String?

    /// swift-metrics → Prometheus, with buckets for what the broker measures: commits take
    /// milliseconds (an fsync), batches hold one to a few thousand requests, rungs fire within
    /// the loop's 50 ms unless the broker was down.
    static func prometheus(_ registry: PrometheusCollectorRegistry) -> PrometheusMetricsFactory {
        var f = PrometheusMetricsFactory(registry: registry)
        let ms = { (n: Int) in Duration.milliseconds(n) }
        f.durationHistogramBuckets = [
            "muster_commit_duration_seconds": [ms(1), ms(2), ms(5), ms(10), ms(20), ms(50), ms(100), ms(250), ms(500), ms(1000)],
            "muster_timer_firing_lag_seconds": [ms(10), ms(50), ms(100), ms(500), ms(1000), ms(5000), ms(60_000), ms(3_600_000)],
        ]
        f.valueHistogramBuckets = ["muster_commit_batch_size": [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 4096]]
        return f
    }

    /// Where a running broker writes its verdict on a reload, for `muster keys reload`.
    static func reloadStatusFile(db: String) -> String { db + ".reload.json" }

    func run() throws {
        CLILogging.bootstrap(format: logFormat)
        let logger = Logger(label: "muster.broker")
        var cfg: BrokerConfig
        do { cfg = try BrokerConfig.load(config, insecure: insecure) } catch {
            FileHandle.standardError.write(Data("config errors:\n\(error)\n".utf8))
            throw ExitCode(2)
        }
        if cfg.security == nil, !insecure {
            FileHandle.standardError.write(Data("""
                config error: \(config) has no security section. CURVE is the default: add one (see config/muster.yaml
                and docs/SECURITY.md), or pass --insecure to run on plain TCP for a test.\n
                """.utf8))
            throw ExitCode(2)
        }
        if insecure {
            FileHandle.standardError.write(Data("""
                ************************************************************************************
                * INSECURE: --insecure given. CURVE is off: no keys, no authentication. Any peer    *
                * that can reach the endpoint may claim any adapter, role and agency. Never in      *
                * production.                                                                      *
                ************************************************************************************\n
                """.utf8))
        }
        logger.info("allocator", metadata: ["malloc": "\(Allocator.describe())"])
        let calendarCheck = cfg.checkCalendar(today: Date())
        if let e = calendarCheck.error {
            FileHandle.standardError.write(Data("config error: \(e)\n".utf8))
            throw ExitCode(2)
        }
        if let w = calendarCheck.warning { logger.warning("\(w)") }
        let sync = Store.Synchronous(rawValue: cfg.synchronous) ?? .full
        let databasePath = db ?? cfg.databasePath
        // One broker per database: the lock comes before the store is opened.
        let lock: DatabaseLock
        do { lock = try DatabaseLock(database: databasePath) } catch let busy as DatabaseLock.Busy {
            FileHandle.standardError.write(Data("error: \(busy)\n".utf8))
            throw ExitCode(3)
        }
        let health = try metrics.map { try HealthEndpoint.address($0, flag: "--metrics") }
        let registry = PrometheusCollectorRegistry()
        if health != nil { MetricsSystem.bootstrap(Self.prometheus(registry)) }
        let store = try Store(path: databasePath, synchronous: sync)
        logger.info("sqlite", metadata: ["memory_statistics": "\(Store.sqliteCountsMemory ? "on" : "off")"])
        try store.checkpointInBackground()
        let broker = try Broker(config: cfg, store: store, endpoint: endpoint, logger: logger, metrics: health != nil)
        if let (host, port) = health {
            let path = store.path
            HealthEndpoint(host: host, port: port, readiness: {
                let (ready, reasons) = broker.health.readiness()
                let s = broker.health.snapshot
                var detail: [String: any Sendable] = ["store": path, "commits": s.commits, "commit_failures": s.failures,
                                                      "loop_age_ms": Int(Date().timeIntervalSince(s.loopAt) * 1000)]
                if let at = s.lastCommitAt { detail["last_commit_age_s"] = Int(Date().timeIntervalSince(at)) }
                if !reasons.isEmpty { detail["reasons"] = reasons }
                return (ready, detail)
            }, metrics: { registry.emitToBuffer() }, logger: logger).start()
        }
        var sources: [DispatchSourceSignal] = []
        for sig in [SIGTERM, SIGINT] {
            signal(sig, SIG_IGN)
            let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            s.setEventHandler { broker.stop() }
            s.resume()
            sources.append(s)
        }
        // SIGHUP (muster reload): read the whole config again; all of it is applied or, with any
        // error, none. Revoked keys' sessions are dropped, waiting cases the new routing names an
        // owner for are routed, deadlines a new schedule moves are recomputed.
        // Handled in every mode, so that a stray reload never kills an --insecure broker.
        signal(SIGHUP, SIG_IGN)
        let hup = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        let (configPath, insecureBroker) = (config, insecure)
        broker.reloadStatusPath = Self.reloadStatusFile(db: databasePath)
        hup.setEventHandler {
            do {
                broker.reload(Broker.Reload(config: try BrokerConfig.load(configPath, insecure: insecureBroker), errors: []))
            } catch {
                logger.error("config not reloaded: nothing applied", metadata: ["errors": "\(error)"])
                broker.reload(Broker.Reload(config: nil, errors: (error as? ConfigErrors)?.errors.map(\.description) ?? ["\(error)"]))
            }
        }
        hup.resume()
        sources.append(hup)
        say("muster broker \(cfg.name) listening on \(broker.endpoint) (db \(store.path); \(cfg.security == nil ? "INSECURE, plain TCP" : "CURVE, \(cfg.security!.principals.count) keys admitted"))")
        broker.run()
        lock.release()
        _ = sources
    }
}
