import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import MusterWire

/// The plainest real downstream: each push (DISPATCH, NOTICE, …) is POSTed, exactly as the
/// broker sent it, to the department's work-order system. The hand-off is its 2xx answer; until
/// then the push stays unreceived (a transport error or a non-2xx answer throws, and the kit
/// tries again after a back-off; a process killed meanwhile gets it redelivered). Signing for
/// and finishing come later, from the department's side.
public struct ForwardingDownstream: Sendable {
    public struct Refused: Error, CustomStringConvertible {
        public let status: Int
        public let url: URL
        public var description: String { "\(url) answered HTTP \(status)" }
    }

    public var url: URL
    public var timeout: Double

    public init(url: URL, timeout: Double = 30) { self.url = url; self.timeout = timeout }

    /// Use as a `MusterClient.PushHandler`.
    public func forward(_ command: Command, _ body: [UInt8]) async throws {
        var request = URLRequest(url: url, timeoutInterval: timeout)
        request.httpMethod = "POST"
        request.setValue("application/json; charset=utf-8", forHTTPHeaderField: "Content-Type")
        request.setValue(command.rawValue, forHTTPHeaderField: "X-Muster-Command")
        // The delivery id is the same on every redelivery: the downstream drops repeats by it.
        if let d = try? JSONDecoder().decode(DeliveryOnly.self, from: Data(body)) {
            request.setValue(d.delivery, forHTTPHeaderField: "Idempotency-Key")
        }
        request.httpBody = Data(body)
        let (_, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200..<300).contains(status) else { throw Refused(status: status, url: url) }
    }
}
