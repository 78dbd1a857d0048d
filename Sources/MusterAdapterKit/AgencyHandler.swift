import Foundation
import MusterWire

/// What a department's code implements: take a dispatch over, then sign for, report progress,
/// finish or return it through the `AgencyDesk`. Called once per dispatch (repeats dropped).
///
/// The broker is told RECEIVED only after `received` returns: return once the dispatch is safe
/// on the department's side (stored, forwarded, answered). Throw if it is not — the call is
/// repeated after a back-off, and if this process dies first the broker redelivers the dispatch.
public protocol AgencyHandler: Sendable {
    func received(_ dispatch: DispatchMessage, desk: AgencyDesk) async throws
    /// 吹哨: the department is summoned to a place; it reports (`desk.report`) on its way and
    /// on site. The same rule for RECEIVED: return once the summons is safe on its side.
    func summoned(_ summon: SummonMessage, desk: AgencyDesk) async throws
}

extension AgencyHandler {
    /// A department without a whistle desk takes the summons and does nothing (its ladder shows it).
    public func summoned(_ summon: SummonMessage, desk: AgencyDesk) async throws {}
}

/// The acts a department may take on a dispatch. Each call retries with the same request id
/// until the broker answers, so a reconnect never loses or doubles an act.
public struct AgencyDesk: Sendable {
    let client: MusterClient

    public init(client: MusterClient) { self.client = client }

    /// 签收
    @discardableResult
    public func ack(_ dispatchID: String, handler: String? = nil, note: String? = nil) async -> MusterClient.Reply {
        await client.request(.ack) { w in
            w.field("dispatch_id", dispatchID); w.field("handler", handler); w.field("note", note)
        }
    }

    @discardableResult
    public func progress(_ dispatchID: String, note: String) async -> MusterClient.Reply {
        await client.request(.progress) { w in w.field("dispatch_id", dispatchID); w.field("note", note) }
    }

    /// 办结
    @discardableResult
    public func resolve(_ dispatchID: String, result: String, note: String? = nil) async -> MusterClient.Reply {
        await client.request(.resolve) { w in
            w.field("dispatch_id", dispatchID); w.field("result", result); w.field("note", note)
        }
    }

    /// 报到: on the way to, or on, the site of a whistle.
    @discardableResult
    public func report(_ whistleID: String, _ status: ReportStatus, note: String? = nil, lat: Double? = nil, lon: Double? = nil) async -> MusterClient.Reply {
        await client.request(.report) { w in
            w.field("whistle_id", whistleID); w.field("status", status.rawValue); w.field("note", note)
            if let lat, let lon { w.field("lat", lat); w.field("lon", lon) }
        }
    }

    /// 退单
    @discardableResult
    public func giveBack(_ dispatchID: String, reason: ReturnReason, note: String? = nil) async -> MusterClient.Reply {
        await client.request(.return) { w in
            w.field("dispatch_id", dispatchID); w.field("reason", reason.rawValue); w.field("note", note)
        }
    }
}

/// Connects an `AgencyHandler` to the bus as one instance of its agency.
public final class AgencyAdapter: Sendable {
    public let client: MusterClient

    public init(_ options: MusterClient.Options, handler: any AgencyHandler, logger: Logger) {
        let box = ClientBox()
        client = MusterClient(options, logger: logger) { command, body in
            guard let client = box.client else { return }
            // An undecodable DISPATCH or SUMMON throws too: it stays unreceived (and in the broker's
            // outbox, where an operator sees it) rather than being acknowledged unhandled.
            switch command {
            case .dispatch:
                try await handler.received(JSONDecoder().decode(DispatchMessage.self, from: Data(body)), desk: AgencyDesk(client: client))
            case .summon:
                try await handler.summoned(JSONDecoder().decode(SummonMessage.self, from: Data(body)), desk: AgencyDesk(client: client))
            default:
                return
            }
        }
        box.client = client
    }

    public func start() { client.start() }
    public func stop() { client.stop() }
}

import Logging
import Synchronization

/// Lets the push handler reach the client it belongs to (set once, right after creation).
final class ClientBox: @unchecked Sendable {
    private let lock = Mutex<MusterClient?>(nil)
    var client: MusterClient? {
        get { lock.withLock { $0 } }
        set { lock.withLock { $0 = newValue } }
    }
}
