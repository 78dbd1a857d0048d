import ArgumentParser
import Foundation
import Logging
import MusterAdapterKit
import MusterConfig
import MusterWeb
import ServiceLifecycle
import ZeroMQ

/// `muster web`: the operations centre's screen (一屏观全域) — a hummingbird server that is a
/// MUSTER/1 peer with the monitor role: it QUERYs and SUBSCRIBEs like any peer, and the broker
/// gains no HTTP code. Names and the map's outlines come from the broker's own config files.
struct WebCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "web", abstract: "Serve the operations centre's screen (一屏观全域) over HTTP, as a monitor peer of the broker.",
        discussion: """
            Pages: / the screen (map, overdue, departments, whistles, today's intake, petitions, live feed); \
            /case/ID a case's whole course; /search?q= by case id, reference or address; /healthz, /readyz. \
            Operators of config/web.yaml log in at /login to act on a case (指派, 不予受理, 延期, 吹哨), each act \
            a MUSTER/1 request under their own name (adapter ops-screen-LOGIN). docs/OPERATIONS.md, "The centre's screen".
            """)

    @Option(help: "Log lines as text, or as JSON objects for log shippers (or set MUSTER_LOG_FORMAT).") var logFormat: LogFormat?
    @Option(help: "HOST:PORT to serve on.") var listen = "127.0.0.1:8800"
    @Option(help: "The broker's endpoint (or set MUSTER_ENDPOINT).")
    var endpoint: String = ProcessInfo.processInfo.environment["MUSTER_ENDPOINT"] ?? "tcp://127.0.0.1:7400"
    @Option(help: "This peer's adapter id (peers.yaml must admit it with the monitor role).") var adapter = "ops-screen"
    @Option(help: "The broker's public key file, for CURVE.") var serverKey = "data/keys/broker.pub"
    @Option(help: "This peer's key file (muster keys init writes data/keys/ops-screen.key): role monitor.") var key = "data/keys/ops-screen.key"
    @Option(help: "The operators' key file (data/keys/ops-desk.key): role ops, used only for operators' acts, so the screen's own key reads and nothing more.")
    var operatorKey = "data/keys/ops-desk.key"
    @Flag(help: "Plain TCP (only against a broker run with --insecure).") var insecure = false
    @Option(help: "The broker's config: grids.yaml (names, the map's outlines) and routing.yaml (department names).")
    var config = "config/muster.yaml"
    @Option(help: "Who may act from the screen (config/web.yaml: operators, their acts, password hashes); absent: read-only.")
    var operators = "config/web.yaml"

    func run() async throws {
        CLILogging.bootstrap(format: logFormat)
        let logger = Logger(label: "muster.web")
        let parts = listen.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count >= 2, let port = Int(parts.last!), (0...65535).contains(port) else {
            throw ValidationError("--listen is HOST:PORT (127.0.0.1:8800), not \(listen)")
        }
        let host = parts.dropLast().joined(separator: ":")
        let rules: BrokerConfig
        do { rules = try BrokerConfig.load(config, insecure: true) } catch {
            FileHandle.standardError.write(Data("config errors:\n\(error)\n".utf8))
            throw ExitCode(2)
        }
        var options = MusterClient.Options(endpoint: endpoint, adapter: adapter, roles: [.monitor])
        options.software = "muster-web/\(MusterClient.version)"
        if !insecure {
            do { options.curve = try curveKeys(serverKey: serverKey, key: key) } catch {
                throw CLIFailure(.keyFiles, "\(error) — the screen's key is made by `muster keys init` (peers.yaml: ops-screen); --insecure for a broker run with --insecure")
            }
        }
        var web = WebConfig.empty
        if FileManager.default.fileExists(atPath: operators) {
            do { web = try WebConfig.load(operators) } catch {
                FileHandle.standardError.write(Data("config errors:\n\(error)\n".utf8))
                throw ExitCode(2)
            }
        }
        let names = Names(grids: rules.rules.grids, routing: rules.rules.routing)
        let feed = EventFeed(names: names)
        let link = BrokerLink(options: options, feed: feed, logger: logger)
        var deskOptions = options
        if !insecure, !web.operators.isEmpty {
            do { deskOptions.curve = try curveKeys(serverKey: serverKey, key: operatorKey) } catch {
                throw CLIFailure(.keyFiles, "\(error) — \(operators) lists operators: their acts go under the key \(operatorKey) (peers.yaml: ops-desk, role ops)")
            }
        }
        let desk = OperatorDesk(config: web, base: deskOptions, logger: logger)
        let app = WebServer(link: link, feed: feed, desk: desk, names: names, host: host, port: port, logger: logger).application()
        say("muster web on http://\(listen)/ — monitor \(adapter) of \(endpoint); \(web.operators.isEmpty ? "read-only" : "\(web.operators.count) operator(s) may act")")
        // SIGTERM and SIGINT stop the services last to first: the pages' streams end (or the
        // server would wait on them for ever), the server stops, then BYE to the broker.
        let session = AdapterService(start: { link.start() }, stop: { await link.stop() })
        let streams = AdapterService(start: {}, stop: { feed.close() })
        let group = ServiceGroup(configuration: .init(services: [session, app, streams], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        Context.shared.terminate(waitingAtMost: 1)  // the BYE lingering in its closed socket leaves first
    }
}
