import Foundation
import MusterWire

/// How an agency adapter says its department's own system is (HEALTH): logged when it changes,
/// told to the centre's operators when it goes down or comes back.
public struct AdapterHealth: Codable, Sendable, Equatable {
    public var adapter: String
    public var agency: String?
    public var state: HealthReport.State
    public var detail: String?
    public var failures: Int?

    public init(adapter: String, agency: String?, state: HealthReport.State, detail: String?, failures: Int?) {
        self.adapter = adapter; self.agency = agency; self.state = state; self.detail = detail; self.failures = failures
    }

    /// The NOTICE's `kind` for the centre, when this change is one it must hear of.
    public func noticeKind(after previous: HealthReport.State) -> String? {
        if state == .down && previous != .down { return "downstream_down" }
        if state != .down && previous == .down { return "downstream_restored" }
        return nil
    }
}
