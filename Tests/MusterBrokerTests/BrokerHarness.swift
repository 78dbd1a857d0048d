import Foundation
import Logging
@testable import MusterBroker
import MusterConfig
import MusterStore

/// A real broker on a real SQLite file and a real ROUTER socket, on its own thread.
final class BrokerHarness {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let path: String
    private(set) var broker: Broker
    private(set) var store: Store
    let config: BrokerConfig
    var endpoint: String { broker.endpoint }

    let maxBodies: Int

    init(heartbeat: Double = 5, resend: Double = 10, path: String? = nil, maxBodies: Int = 50_000,
         configure: (inout BrokerConfig) -> Void = { _ in }) throws {
        self.maxBodies = maxBodies
        var cfg = try BrokerConfig.load(Self.repo.appendingPathComponent("config/muster.yaml").path, insecure: true)
        configure(&cfg)
        cfg.heartbeatMs = Int64(heartbeat * 1000)
        cfg.resendAfterMs = Int64(resend * 1000)
        config = cfg
        self.path = path ?? FileManager.default.temporaryDirectory.appendingPathComponent("muster-broker-\(UUID().uuidString)/b.db").path
        store = try Store(path: self.path)
        var logger = Logger(label: "test.broker")
        logger.logLevel = .warning
        broker = try Broker(config: cfg, store: store, endpoint: "tcp://127.0.0.1:*", logger: logger, maxPushBodiesInMemory: maxBodies)
        _ = broker.start()
    }

    /// Stops the broker and starts a new one on the same file and port (a clean restart).
    func restart() throws {
        let endpoint = broker.endpoint
        broker.stopAndWait()
        store = try Store(path: path)
        var logger = Logger(label: "test.broker")
        logger.logLevel = .warning
        broker = try Broker(config: config, store: store, endpoint: endpoint, logger: logger, maxPushBodiesInMemory: maxBodies)
        _ = broker.start()
    }

    func stop() { broker.stopAndWait() }

    /// Stops without starting again (the test lets time pass while the broker is down).
    func stopOnly() { broker.stopAndWait() }

    /// Starts a new broker on the same file and port after `stopOnly`.
    func startAgain() throws {
        store = try Store(path: path)
        var logger = Logger(label: "test.broker")
        logger.logLevel = .warning
        broker = try Broker(config: config, store: store, endpoint: lastEndpoint, logger: logger, maxPushBodiesInMemory: maxBodies)
        _ = broker.start()
    }

    private var lastEndpoint: String { broker.endpoint }

    deinit { broker.stop() }
}
