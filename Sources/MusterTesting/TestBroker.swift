import Foundation
import Logging
import MusterBroker
import MusterConfig
import MusterStore

/// A real broker for tests — of Muster itself and of plugins: a real SQLite file in a temporary
/// folder, a real ROUTER socket on a free port, its own thread, and a clock the test sets. Peers
/// connect to `endpoint` (plain TCP: tests run it insecure).
public final class TestBroker: @unchecked Sendable {
    public let path: String
    public private(set) var broker: Broker
    public private(set) var store: Store
    public let config: BrokerConfig
    public let clock: any BrokerClock
    public var endpoint: String { broker.endpoint }
    let maxBodies: Int
    let maxOpenCases: Int
    /// The temporary folder made for the database, removed with the broker.
    private let ownFolder: String?

    /// - Parameters:
    ///   - config: a muster.yaml (with its routing, grids, sla and calendar beside it).
    ///   - heartbeat, resend: seconds (override the config).
    ///   - path: the database; default a new temporary file.
    ///   - maxOpenCases: open cases the broker holds in memory at most (the rest are read back).
    ///   - clock: the broker's clock; default the system clock. Pass a `ManualClock` to move time.
    ///   - configure: last changes to the loaded config (e.g. a quick SLA for a ladder test).
    public init(config configPath: String, heartbeat: Double = 5, resend: Double = 10, path: String? = nil,
                maxBodies: Int = 50_000, maxOpenCases: Int = 10_000, clock: any BrokerClock = SystemClock(),
                configure: (inout BrokerConfig) -> Void = { _ in }) throws {
        self.maxBodies = maxBodies
        self.maxOpenCases = maxOpenCases
        self.clock = clock
        var cfg = try BrokerConfig.load(configPath, insecure: true)
        configure(&cfg)
        cfg.heartbeatMs = Int64(heartbeat * 1000)
        cfg.resendAfterMs = Int64(resend * 1000)
        config = cfg
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("muster-test-\(UUID().uuidString)").path
        ownFolder = path == nil ? folder : nil
        self.path = path ?? (folder as NSString).appendingPathComponent("b.db")
        store = try Store(path: self.path)
        try store.checkpointInBackground()
        broker = try Self.makeBroker(cfg, store, endpoint: "tcp://127.0.0.1:*", maxBodies: maxBodies, maxOpenCases: maxOpenCases, clock: clock)
        _ = broker.start()
    }

    private static func makeBroker(_ cfg: BrokerConfig, _ store: Store, endpoint: String, maxBodies: Int, maxOpenCases: Int,
                                   clock: any BrokerClock) throws -> Broker {
        var logger = Logger(label: "test.broker")
        logger.logLevel = .warning
        return try Broker(config: cfg, store: store, endpoint: endpoint, logger: logger, maxPushBodiesInMemory: maxBodies,
                          maxOpenCasesInMemory: maxOpenCases, clock: clock)
    }

    /// Stops the broker and starts a new one on the same file and port (a clean restart).
    public func restart() throws {
        stopOnly()
        try startAgain()
    }

    public func stop() { broker.stopAndWait() }

    /// Stops without starting again (the test moves the clock while the broker is down).
    public func stopOnly() { broker.stopAndWait() }

    /// Starts a new broker on the same file, port and clock after `stopOnly`.
    public func startAgain() throws {
        let endpoint = broker.endpoint
        store = try Store(path: path)
        try store.checkpointInBackground()
        broker = try Self.makeBroker(config, store, endpoint: endpoint, maxBodies: maxBodies, maxOpenCases: maxOpenCases, clock: clock)
        _ = broker.start()
    }

    deinit {
        broker.stopAndWait()
        if let ownFolder { try? FileManager.default.removeItem(atPath: ownFolder) }
    }
}
