import ArgumentParser
import Dispatch
import Foundation
import Logging
import MusterAdapterKit
import MusterConfig
import MusterWire

struct AdapterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "adapter", abstract: "Run a department adapter from config/adapters/NAME.yaml (downstream: simulate, http or none).")

    @Option(help: "The adapter's config file.") var config: String
    @Option(help: "The broker endpoint (overrides the config).") var endpoint: String?
    @Option(help: "The broker's public key file (CURVE; overrides the config).") var serverKey: String?
    @Option(help: "This adapter's key file from muster keys gen (CURVE; overrides the config).") var key: String?
    @Flag(help: "Plain TCP, ignoring the config's curve section (only against a broker run with --insecure).") var insecure = false

    func run() throws {
        CLILogging.bootstrap()
        let cfg: AdapterConfig
        do { cfg = try AdapterConfig.load(config) } catch {
            FileHandle.standardError.write(Data("config errors:\n\(error)\n".utf8))
            throw ExitCode(2)
        }
        let logger = Logger(label: "muster.adapter.\(cfg.adapter)")
        var options = MusterClient.Options(endpoint: endpoint ?? cfg.broker, adapter: cfg.adapter,
                                           roles: cfg.roles.compactMap(Role.init(rawValue:)), agency: cfg.agency,
                                           jurisdictions: cfg.jurisdictions, window: cfg.window)
        options.software = "muster-adapter/\(MusterClient.version)"
        if insecure {
            logger.warning("INSECURE: connecting without CURVE (--insecure); only a broker run with --insecure admits this adapter")
        } else {
            guard let curve = try curveKeys(serverKey: serverKey ?? cfg.serverKeyFile, key: key ?? cfg.keyFile) else {
                throw CLIError("\(config) has no curve section (server_key, key) and no --server-key/--key were given; CURVE is required unless --insecure")
            }
            options.curve = curve
        }
        let stopper: @Sendable () -> Void
        switch cfg.downstream {
        case .simulate(let sign, let progress, let finish, let p, let report):
            let handler = SimulatedAgency(signAfter: sign, progressAfter: progress, finishAfter: finish, returnProbability: p,
                                          handlerName: "\(cfg.name) 值班员", reportAfter: report)
            let adapter = AgencyAdapter(options, handler: handler, logger: logger)
            adapter.start()
            stopper = { adapter.stop() }
        case .http(let url, let timeout):
            guard let u = URL(string: url) else { throw CLIError("\(config): downstream.url \(url) is not a URL") }
            let downstream = ForwardingDownstream(url: u, timeout: timeout)
            let client = MusterClient(options, logger: logger) { command, body in try await downstream.forward(command, body) }
            client.start()
            stopper = { client.stop() }
        case .none:
            let client = MusterClient(options, logger: logger) { _, _ in }
            client.start()
            stopper = { client.stop() }
        }
        say("adapter \(cfg.adapter) (\(cfg.name)) connecting to \(options.endpoint)")
        let done = DispatchSemaphore(value: 0)
        var sources: [DispatchSourceSignal] = []
        for sig in [SIGTERM, SIGINT] {
            signal(sig, SIG_IGN)
            let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            s.setEventHandler { stopper(); done.signal() }
            s.resume()
            sources.append(s)
        }
        done.wait()
        // Give the client thread a moment to say BYE.
        usleep(200_000)
        _ = sources
    }
}
