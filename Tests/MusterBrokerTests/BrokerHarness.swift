import Foundation
import MusterConfig
import MusterBroker
import MusterTesting

/// The shipped sample config under a `TestBroker` (MusterTesting), as this suite's tests use it.
typealias BrokerHarness = TestBroker

extension TestBroker {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    convenience init(heartbeat: Double = 5, resend: Double = 10, path: String? = nil, maxBodies: Int = 50_000, maxOpenCases: Int = 10_000,
                     clock: (any BrokerClock)? = nil, configure: (inout BrokerConfig) -> Void = { _ in }) throws {
        try self.init(config: Self.repo.appendingPathComponent("config/muster.yaml").path, heartbeat: heartbeat, resend: resend,
                      path: path, maxBodies: maxBodies, maxOpenCases: maxOpenCases, clock: clock ?? SystemClock(), configure: configure)
    }
}
