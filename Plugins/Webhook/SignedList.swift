import AsyncHTTPClient
import Crypto
import Foundation

/// A department system's list read over the webhook's signed GET — a poll of updates, a feed of
/// outages or notices, a site register: `GET url` with `X-Muster-Timestamp` and
/// `X-Muster-Signature` over `timestamp + "."` (a POST's scheme with an empty body), answering
/// `{"<key>": [...], ...}`. One place for what every department plugin reads this way.
public enum SignedList {
    public struct Failed: Error, CustomStringConvertible {
        public var description: String
    }

    /// The answer's object, once it is a 200 with `key` a list; otherwise `Failed` with why.
    public static func read(_ url: URL, key: String, secret: [UInt8], timeout: Double) async throws(Failed) -> (list: [Any], doc: [String: Any]) {
        try await read(url, key: key, secret: SymmetricKey(data: secret), timeout: timeout)
    }

    public static func read(_ url: URL, key: String, secret: SymmetricKey, timeout: Double) async throws(Failed) -> (list: [Any], doc: [String: Any]) {
        let timestamp = String(Int64(Date().timeIntervalSince1970))
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = .GET
        request.headers.add(name: "X-Muster-Timestamp", value: timestamp)
        request.headers.add(name: "X-Muster-Signature",
                            value: "sha256=" + WebhookDepartment.signature(secret: secret, timestamp: timestamp, body: []))
        let status: UInt, body: [UInt8]
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .milliseconds(Int64(timeout * 1000)))
            status = response.status.code
            body = Array((try await response.body.collect(upTo: 16 << 20)).readableBytesView)
        } catch {
            throw Failed(description: "\(error)")
        }
        guard status == 200 else { throw Failed(description: "HTTP \(status)") }
        guard let doc = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any], let list = doc[key] as? [Any] else {
            throw Failed(description: "the answer is not {\"\(key)\": [...]}")
        }
        return (list, doc)
    }
}
