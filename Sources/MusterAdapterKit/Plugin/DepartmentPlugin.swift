import Foundation
import MusterWire

/// What a department's plugin writes (城管's 数字城管, a webhook, the 110 system …): hand a push
/// over to the downstream, turn the downstream's updates into acts, say how it is. Everything
/// else — the session, heartbeats, reconnects, RECEIVED only once a push is safe downstream,
/// retries with the same request id, the durable queue of acts — is the kit's (`PluginAdapter`).
/// In the manner of mySociety's open311-adapter: a raw client and a translation behind one small
/// interface.
public protocol DepartmentPlugin: Sendable {
    /// The pushes it takes (DISPATCH, SUMMON, NOTICE); others are acknowledged without it.
    var handles: Set<Command> { get }
    /// Hands one push to the downstream. Called again for the same push until it answers
    /// `delivered`, `deferred` or `refused`; only then is the push acknowledged (RECEIVED).
    func deliver(_ push: Push) async -> Delivery
    /// Runs for the adapter's life, sending the downstream's updates as acts (pushed to an
    /// endpoint, polled, read from files). An act is durable once `send` returns.
    func updates(_ acts: ActSink) async throws
    /// How the downstream is, for the adapter's health.
    func health() async -> Health
    /// Event types the plugin follows (SUBSCRIBE), from where it left off: each comes to
    /// `deliver` as an `EVENT` push (add `.event` to `handles`). nil: none.
    var events: [String]? { get }
    /// The broker's final answer to one of the plugin's acts (also to acts sent again after a
    /// restart): called before callers waiting on `ActSink.status` hear of it.
    func answered(_ id: String, _ answer: ActAnswer) async
}

extension DepartmentPlugin {
    public var handles: Set<Command> { [.dispatch, .summon, .notice] }
    public var events: [String]? { nil }
    public func answered(_ id: String, _ answer: ActAnswer) async {}
    public func updates(_ acts: ActSink) async throws {}
    public func health() async -> Health { .ok }
}

/// A push as the plugin sees it: its command, its delivery id (the same on every redelivery, so
/// the downstream can drop repeats by it) and its body as the broker sent it.
public struct Push: Sendable {
    public var command: Command
    public var delivery: String
    public var body: [UInt8]
    /// The dispatch it is (DISPATCH), or nil.
    public var dispatchID: String?

    public init(command: Command, delivery: String, body: [UInt8], dispatchID: String? = nil) {
        self.command = command; self.delivery = delivery; self.body = body; self.dispatchID = dispatchID
    }
}

/// The downstream's answer to a push.
public enum Delivery: Sendable, Equatable {
    /// Taken, under the downstream's own id (its work-order number, 警情号 …).
    case delivered(externalID: String?)
    /// Taken into the downstream's own queue, to be decided there later (HTTP 202).
    case deferred
    /// Not now (the downstream is down, busy, asked to wait): ask again after `after` seconds
    /// (nil: the kit's back-off). The push stays unacknowledged meanwhile.
    case retryLater(after: Double?)
    /// Not this department's: the kit returns the dispatch (退单) with the reason, then
    /// acknowledges the push. For a SUMMON or a NOTICE it is only acknowledged.
    case refused(ReturnReason, note: String)
}

/// How a downstream is.
public enum Health: Sendable, Equatable {
    case ok
    /// Up but not well (slow, failing some requests), with why.
    case degraded(String)
    /// Not reachable, with why and for how many attempts.
    case down(String, failures: Int)
}

/// A department's act on the bus, made from one of its downstream's updates. `id` is the
/// request id: build it from the downstream's own key for the update (its status-change id), so
/// that an update seen twice is one act — the queue drops the repeat, and the broker answers a
/// repeated id with its first reply.
public struct Act: Sendable, Equatable {
    public var id: String
    public var command: Command
    /// The request body without `id` (JSON object bytes).
    public var fields: [UInt8]

    public init(id: String, command: Command, fields: [UInt8]) { self.id = id; self.command = command; self.fields = fields }

    private static func make(_ id: String, _ command: Command, _ fill: (inout JSONWriter) -> Void) -> Act {
        var w = JSONWriter()
        fill(&w)
        return Act(id: id, command: command, fields: w.finish())
    }

    /// 签收
    public static func ack(id: String, dispatchID: String, handler: String? = nil, note: String? = nil) -> Act {
        make(id, .ack) { $0.field("dispatch_id", dispatchID); $0.field("handler", handler); $0.field("note", note) }
    }
    /// 处置反馈; `milestone` reaches that stage of a staged limit (阶段完成, docs/PROTOCOL.md).
    public static func progress(id: String, dispatchID: String, note: String, attachments: [[String: String]] = [],
                                milestone: String? = nil) -> Act {
        make(id, .progress) { $0.field("dispatch_id", dispatchID); $0.field("note", note); attach(&$0, attachments); $0.field("milestone", milestone) }
    }
    /// 办结
    public static func resolve(id: String, dispatchID: String, result: String, note: String? = nil, attachments: [[String: String]] = []) -> Act {
        make(id, .resolve) { $0.field("dispatch_id", dispatchID); $0.field("result", result); $0.field("note", note); attach(&$0, attachments) }
    }

    /// Photos and files (`{url, sha256?}`), as PROGRESS and RESOLVE carry them.
    private static func attach(_ w: inout JSONWriter, _ attachments: [[String: String]]) {
        guard !attachments.isEmpty else { return }
        var items: [[UInt8]] = []
        for a in attachments {
            var o = JSONWriter()
            o.field("url", a["url"] ?? "")
            o.field("sha256", a["sha256"])
            items.append(o.finish())
        }
        w.array("attachments", items)
    }
    /// 退单
    public static func giveBack(id: String, dispatchID: String, reason: ReturnReason, note: String? = nil) -> Act {
        make(id, .return) { $0.field("dispatch_id", dispatchID); $0.field("reason", reason.rawValue); $0.field("note", note) }
    }
    /// 延期
    public static func extend(id: String, dispatchID: String, by: String, reason: String) -> Act {
        make(id, .extend) { $0.field("dispatch_id", dispatchID); $0.field("by", by); $0.field("reason", reason) }
    }
    /// 挂账
    public static func backlog(id: String, dispatchID: String, explanation: String) -> Act {
        make(id, .backlog) { $0.field("dispatch_id", dispatchID); $0.field("explanation", explanation) }
    }
    /// 报到
    public static func report(id: String, whistleID: String, status: ReportStatus, note: String? = nil) -> Act {
        make(id, .report) { $0.field("whistle_id", whistleID); $0.field("status", status.rawValue); $0.field("note", note) }
    }

    /// The same act, saying where it came from in the department's system (its raw status, its
    /// own id for the work, its key for the update): the broker keeps it beside the act.
    public func from(_ downstream: DownstreamRef) -> Act {
        var w = JSONWriter()
        w.field("status", downstream.status)
        w.field("ref", downstream.ref)
        w.field("update", downstream.update)
        var out = fields
        guard out.count >= 2 else { return self }
        out.removeLast()  // "}"
        if out.count > 1 { out.append(UInt8(ascii: ",")) }
        out.append(contentsOf: Array("\"downstream\":".utf8))
        out.append(contentsOf: w.finish())
        out.append(UInt8(ascii: "}"))
        return Act(id: id, command: command, fields: out)
    }

    /// 已知事件: declare an incident (an outage, a planned shut-off) for categories in grids.
    public static func incident(id: String, ref: String, title: String, categories: [String], grids: [String], message: String,
                                expectedEnd: Date, startsAt: Date? = nil, cause: String? = nil,
                                notifyAfter: String? = nil, notice: String? = nil) -> Act {
        make(id, .incident) {
            $0.field("ref", ref); $0.field("title", title); $0.field("categories", categories); $0.field("grids", grids)
            $0.field("message", message); $0.field("expected_end", rfc3339(expectedEnd))
            $0.field("starts_at", startsAt.map(rfc3339)); $0.field("cause", cause)
            $0.field("notify_after", notifyAfter); $0.field("notice", notice)
        }
    }
    /// RFC 3339 in the city's offset (+08:00), as the protocol writes times.
    static func rfc3339(_ d: Date) -> String {
        let f = ISO8601DateFormatter()
        f.timeZone = TimeZone(identifier: "Asia/Shanghai")
        return f.string(from: d)
    }

    /// The incident `ref` is over.
    public static func endIncident(id: String, ref: String, outcome: IncidentOutcome, note: String? = nil) -> Act {
        make(id, .incidentEnd) { $0.field("ref", ref); $0.field("outcome", outcome.rawValue); $0.field("note", note) }
    }

    /// The whole request body, `id` first.
    public var body: [UInt8] {
        var w = JSONWriter(capacity: fields.count + id.utf8.count + 10)
        w.field("id", id)
        var out = w.finish()
        guard fields.count > 2 else { return out }  // "{}"
        out.removeLast()  // "}"
        out.append(UInt8(ascii: ","))
        out.append(contentsOf: fields.dropFirst())
        return out
    }
}

/// Where a plugin sends its acts: each is durable (in the adapter's queue) once `send` returns,
/// and goes to the broker, again after a restart if need be, until the broker answers it.
public protocol ActSink: Sendable {
    func send(_ act: Act) async throws
    /// Several acts, durable together with the cursor of the feed they were read from (all or
    /// none). Returns how many were new; the rest were repeats, dropped.
    @discardableResult
    func send(_ acts: [Act], cursor: (name: String, value: String)?) async throws -> Int
    /// Where the feed `name` reads next (nil before its first read).
    func cursor(_ name: String) async throws -> String?
    /// The dispatch or summon the downstream took under its own id `ref` (from `delivered`).
    func subject(ofRef ref: String) async throws -> String?
    /// The downstream's own id for a dispatch or summon, if it gave one.
    func ref(ofSubject subject: String) async throws -> String?
    /// The push (DISPATCH, SUMMON) of a dispatch or summon the downstream took, as the broker sent it.
    func push(ofSubject subject: String) async throws -> [UInt8]?
    /// Where act `id` stands: answered (waiting up to `within` seconds for the broker's answer),
    /// still waiting (it stays queued and goes again until answered), or never queued.
    func status(of id: String, within: Double) async throws -> ActStatus
    /// A QUERY to the broker (docs/PROTOCOL.md: `what` and its filters, written into the body),
    /// answered RESULT or ERROR. Not queued: a read, asked again by whoever wants it.
    func query(_ fill: @Sendable (inout JSONWriter) -> Void) async throws -> ActAnswer
}

extension ActSink {
    /// A sink that keeps no answers (a test's recorder) knows of none.
    public func status(of id: String, within: Double) async throws -> ActStatus { .unknown }
    public func query(_ fill: @Sendable (inout JSONWriter) -> Void) async throws -> ActAnswer {
        ActAnswer(command: .error, body: Array(#"{"code":"unavailable","message":"this sink reaches no broker"}"#.utf8))
    }
}

/// Where an act stands (`ActSink.status`).
public enum ActStatus: Sendable, Equatable {
    case unknown
    case waiting
    case answered(ActAnswer)
}

/// The broker's final answer to an act: `OK`, `ACCEPTED` or `ERROR`, and its body.
public struct ActAnswer: Sendable, Equatable {
    public var command: Command
    public var body: [UInt8]
    public init(command: Command, body: [UInt8]) { self.command = command; self.body = body }
    public var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:] }
}
