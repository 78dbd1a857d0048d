import AsyncHTTPClient
import Crypto
import Foundation

/// Where the plugin reads the company's outages (its own system; a stand-in in tests).
protocol OutageSource: Sendable {
    /// The outages the company reports now, each parsed or with why it is not one.
    func outages() async throws -> [Result<Outage, Outage.Invalid>]
}

/// The company's outage feed over HTTP: `GET outages_url`, signed as the webhook's poll is
/// (X-Muster-Timestamp, X-Muster-Signature over `timestamp + "."`, empty body), answering
/// `{"outages": [{id, grids, area?, cause, expected_restore, started_at?, ended, outcome?, note?}]}`
/// — a snapshot of the outages it still lists, not a log: each poll states them all again.
struct OutageFeed: OutageSource {
    let url: URL
    let secret: [UInt8]
    let timeout: Double

    struct Unreachable: Error, CustomStringConvertible {
        var description: String
    }

    func outages() async throws -> [Result<Outage, Outage.Invalid>] {
        let timestamp = String(Int64(Date().timeIntervalSince1970))
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = .GET
        request.headers.add(name: "X-Muster-Timestamp", value: timestamp)
        request.headers.add(name: "X-Muster-Signature", value: "sha256=" + Self.signature(secret: secret, timestamp: timestamp))
        let response = try await HTTPClient.shared.execute(request, timeout: .milliseconds(Int64(timeout * 1000)))
        let body = Array((try await response.body.collect(upTo: 4 << 20)).readableBytesView)
        guard response.status.code == 200 else { throw Unreachable(description: "HTTP \(response.status.code)") }
        guard let doc = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any], let list = doc["outages"] as? [Any] else {
            throw Unreachable(description: "the answer is not {\"outages\": [...]}")
        }
        return list.map(Outage.parse)
    }

    /// `hex(HMAC-SHA256(secret, timestamp + "."))`: the webhook's scheme over an empty body.
    static func signature(secret: [UInt8], timestamp: String) -> String {
        var mac = HMAC<SHA256>(key: SymmetricKey(data: secret))
        mac.update(data: Array(timestamp.utf8) + [UInt8(ascii: ".")])
        return mac.finalize().map { String(format: "%02x", $0) }.joined()
    }
}
