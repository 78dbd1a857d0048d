import ArgumentParser
import Dispatch
import Foundation
import Logging
import MusterBroker
import MusterConfig
import MusterStore

struct BrokerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "broker", abstract: "Run the broker.")

    @Option(help: "The broker's config file.") var config = "config/muster.yaml"
    @Option(help: "The SQLite database (overrides the config).") var db: String?
    @Option(help: "The endpoint to bind, e.g. tcp://127.0.0.1:7400 (overrides the config).") var endpoint: String?
    @Flag(help: "Plain TCP even if the config sets up CURVE (for tests on one machine; never in production).") var insecure = false

    func run() throws {
        CLILogging.bootstrap()
        let logger = Logger(label: "muster.broker")
        var cfg: BrokerConfig
        do { cfg = try BrokerConfig.load(config) } catch {
            FileHandle.standardError.write(Data("config errors:\n\(error)\n".utf8))
            throw ExitCode(2)
        }
        if insecure { cfg.security = nil }
        let calendarCheck = cfg.checkCalendar(today: Date())
        if let e = calendarCheck.error {
            FileHandle.standardError.write(Data("config error: \(e)\n".utf8))
            throw ExitCode(2)
        }
        if let w = calendarCheck.warning { logger.warning("\(w)") }
        let sync = Store.Synchronous(rawValue: cfg.synchronous) ?? .full
        let store = try Store(path: db ?? cfg.databasePath, synchronous: sync)
        let broker = try Broker(config: cfg, store: store, endpoint: endpoint, logger: logger)
        var sources: [DispatchSourceSignal] = []
        for sig in [SIGTERM, SIGINT] {
            signal(sig, SIG_IGN)
            let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            s.setEventHandler { broker.stop() }
            s.resume()
            sources.append(s)
        }
        // SIGHUP: read peers.yaml again; revoked keys' sessions are dropped.
        if let security = cfg.security {
            signal(SIGHUP, SIG_IGN)
            let hup = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
            let agencies = Set(cfg.rules.routing.agencies.keys)
            hup.setEventHandler {
                do { broker.reloadPeers(try PeersConfig.load(security.peersFile, agencies: agencies)) } catch {
                    logger.error("peers.yaml not reloaded", metadata: ["errors": "\(error)"])
                }
            }
            hup.resume()
            sources.append(hup)
        }
        say("muster broker \(cfg.name) listening on \(broker.endpoint) (db \(store.path))")
        broker.run()
        _ = sources
    }
}
