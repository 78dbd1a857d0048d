import Foundation
import MusterWire
import ZeroMQ

/// A raw MUSTER/1 peer over a real DEALER socket, for driving the real broker in tests.
/// Waiting is on the socket (poll with a deadline), never a sleep. One thread at a time.
public final class TestPeer {
    public let socket: Socket
    /// Pushes that arrived while waiting for something else, oldest first.
    public var pushes: [(Command, [String: Any], [UInt8])] = []
    /// Replies that arrived while waiting for another's, by the id they answer.
    private var replies: [String: (Command, [String: Any], [UInt8])] = [:]
    private var counter = 0
    public let name: String

    public init(_ endpoint: String, name: String = "peer", curve: (serverKey: String, keys: CurveKeyPair)? = nil) throws {
        self.name = name
        socket = try Socket(.dealer)
        if let curve { try socket.setCurveClient(serverKey: curve.serverKey, keys: curve.keys) }
        try socket.connect(endpoint)
    }

    public func sendRaw(_ frames: [[UInt8]]) throws { try socket.send(frames) }

    public func send(_ command: Command, _ body: [String: Any]) throws {
        try socket.send(Envelope(command, body: Array(try JSONSerialization.data(withJSONObject: body))).frames)
    }

    /// The next message, or nil after `timeout` seconds.
    public func next(timeout: Double = 5) throws -> (Command, [String: Any], [UInt8])? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if socket.waitReadable(timeoutMs: max(1, Int(deadline.timeIntervalSinceNow * 1000))), let frames = try socket.receive(dontWait: true) {
                guard frames.count == 3, let c = Command(rawValue: String(decoding: frames[1], as: UTF8.self)) else { continue }
                let obj = (try? JSONSerialization.jsonObject(with: Data(frames[2]))) as? [String: Any] ?? [:]
                return (c, obj, frames[2])
            }
        }
        return nil
    }

    /// Sends a request and waits for the reply with its `re`, keeping pushes that come first.
    @discardableResult
    public func request(_ command: Command, _ body: [String: Any], id: String? = nil, timeout: Double = 5) throws -> (Command, [String: Any], [UInt8]) {
        counter += 1
        let rid = id ?? "\(name)-\(counter)"
        var b = body
        b["id"] = rid
        replies[rid] = nil  // an earlier reply to this id is not this request's
        try send(command, b)
        return try reply(to: rid, timeout: timeout)
    }

    /// The reply with `re` = `rid`, in whatever order the replies to several requests arrive.
    public func reply(to rid: String, timeout: Double = 5) throws -> (Command, [String: Any], [UInt8]) {
        if let m = replies.removeValue(forKey: rid) { return m }
        let deadline = Date().addingTimeInterval(timeout)
        while let m = try next(timeout: max(0.001, deadline.timeIntervalSinceNow)) {
            let re = m.1["re"] as? String
            if re == rid { return m }
            if [.dispatch, .event, .notice, .summon].contains(m.0) { pushes.append(m) } else if let re { replies[re] = m }
        }
        throw TestError("no reply to \(rid) within \(timeout)s")
    }

    public func hello(adapter: String, roles: [String], agency: String? = nil, window: Int? = nil) throws -> [String: Any] {
        var body: [String: Any] = ["adapter": adapter, "roles": roles]
        if let agency { body["agency"] = agency }
        if let window { body["window"] = window }
        let (c, obj, _) = try request(.hello, body)
        guard c == .welcome else { throw TestError("HELLO answered \(c): \(obj)") }
        return obj
    }

    /// The next push of a kind (already collected, or arriving within `timeout`).
    public func push(_ command: Command = .dispatch, timeout: Double = 5) throws -> [String: Any]? {
        if let i = pushes.firstIndex(where: { $0.0 == command }) { return pushes.remove(at: i).1 }
        let deadline = Date().addingTimeInterval(timeout)
        while let m = try next(timeout: max(0.001, deadline.timeIntervalSinceNow)) {
            if m.0 == command { return m.1 }
            if [.dispatch, .event, .notice, .summon].contains(m.0) { pushes.append(m) }
        }
        return nil
    }

    public func received(_ deliveries: [String]) throws { try send(.received, ["deliveries": deliveries]) }

    public func close() { socket.close() }
}

public struct TestError: Error, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}
