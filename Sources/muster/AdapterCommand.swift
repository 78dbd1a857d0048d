import ArgumentParser
import Dispatch
import Foundation
import Logging
import MusterAdapterKit
import MusterConfig
import MusterPlugins
import MusterWire
import ServiceLifecycle
import ZeroMQ

struct AdapterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "adapter", abstract: "Run a department adapter from config/adapters/NAME.yaml: its plugin (muster plugins lists them), or the generic adapter's downstream (simulate, http or none).")

    @Option(help: "Log lines as text, or as JSON objects for log shippers (or set MUSTER_LOG_FORMAT).") var logFormat: LogFormat?
    @Option(help: "The adapter's config file.") var config: String
    @Option(help: "The broker endpoint (overrides the config).") var endpoint: String?
    @Option(help: "The broker's public key file (CURVE; overrides the config).") var serverKey: String?
    @Option(help: "This adapter's key file from muster keys gen (CURVE; overrides the config).") var key: String?
    @Flag(help: "Plain TCP, ignoring the config's curve section (only against a broker run with --insecure).") var insecure = false
    @Option(help: "HOST:PORT for /healthz and /readyz (ready: the broker welcomed it, and a plugin's act queue can be read). Off by default.")
    var health: String?

    func run() async throws {
        CLILogging.bootstrap(format: logFormat)
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
        let healthAddress = try health.map { try HealthEndpoint.address($0, flag: "--health") }
        let service: AdapterService
        /// Whether its session is welcomed, and a plugin's queue readable (nil: no queue).
        var client: MusterClient
        var queue: ActQueue?
        let plugin: (any DepartmentPlugin)?
        do {
            plugin = try PluginRegistry.make(cfg, configPath: config, context: .init(adapter: cfg.adapter, agency: cfg.agency, name: cfg.name, logger: logger))
        } catch {
            FileHandle.standardError.write(Data("config errors:\n\(error)\n".utf8))
            throw ExitCode(2)
        }
        if let plugin {
            let adapter = PluginAdapter(options, plugin: plugin, queue: try ActQueue(path: cfg.queuePath), logger: logger)
            (service, client, queue) = (adapter.service, adapter.client, adapter.queue)
        } else {
        switch cfg.downstream {
        case .simulate(let sign, let progress, let finish, let p, let report):
            let handler = SimulatedAgency(signAfter: sign, progressAfter: progress, finishAfter: finish, returnProbability: p,
                                          handlerName: "\(cfg.name) 值班员", reportAfter: report)
            let adapter = AgencyAdapter(options, handler: handler, logger: logger)
            (service, client) = (adapter.service, adapter.client)
        case .http(let url, let timeout):
            guard let u = URL(string: url) else { throw CLIError("\(config): downstream.url \(url) is not a URL") }
            let downstream = ForwardingDownstream(url: u, timeout: timeout)
            client = MusterClient(options, logger: logger) { command, body in try await downstream.forward(command, body) }
            service = AdapterService(client)
        case .none:
            client = MusterClient(options, logger: logger) { _, _ in }
            service = AdapterService(client)
        }
        }
        if let (host, port) = healthAddress {
            let (session, acts, name) = (client, queue, cfg.adapter)
            HealthEndpoint(host: host, port: port, readiness: {
                var reasons: [String] = []
                if !session.isWelcomed { reasons.append("not welcomed by the broker at \(session.options.endpoint)") }
                if let acts, (try? acts.contains("")) == nil { reasons.append("its act queue cannot be read") }
                var detail: [String: any Sendable] = ["adapter": name, "broker_session": session.isWelcomed ? "welcomed" : "not connected"]
                if !reasons.isEmpty { detail["reasons"] = reasons }
                return (reasons.isEmpty, detail)
            }, metrics: nil, logger: logger).start()
        }
        say("adapter \(cfg.adapter) (\(cfg.name)) connecting to \(options.endpoint)")
        // SIGTERM and SIGINT shut it down gracefully: BYE to the broker, socket closed, exit.
        let group = ServiceGroup(configuration: .init(services: [service], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        // The BYE lingers in its closed socket; libzmq's I/O thread sends it unless the process
        // ends first.
        Context.shared.terminate(waitingAtMost: 1)
    }
}
