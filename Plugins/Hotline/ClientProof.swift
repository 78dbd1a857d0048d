import Crypto
import Foundation
import WebhookDepartment

/// Who is calling: `X-Muster-Client` names the client; an HMAC client signs as the department
/// plugins' systems do (`X-Muster-Timestamp`, `X-Muster-Signature: sha256=HEX` over
/// `timestamp.body`, within 5 minutes), a key client sends `Authorization: Bearer KEY`.
struct ClientProof {
    let clients: [HotlineSettings.Client]

    /// The client's name, or nil if the request proves nothing.
    func check(client: String, timestamp: String, signature: String, authorization: String, body: [UInt8], now: Date = Date()) -> String? {
        guard let c = clients.first(where: { $0.name == client }) else { return nil }
        switch c.proof {
        case .hmac(let secret):
            guard let t = Int64(timestamp), abs(Int64(now.timeIntervalSince1970) - t) <= 300 else { return nil }
            let want = "sha256=" + WebhookDepartment.signature(secret: SymmetricKey(data: secret), timestamp: timestamp, body: body)
            return Self.same(want, signature) ? c.name : nil
        case .apiKey(let key):
            return Self.same("Bearer " + key, authorization) ? c.name : nil
        }
    }

    /// Compared in constant time: a wrong guess says nothing about how wrong.
    static func same(_ a: String, _ b: String) -> Bool {
        a.utf8.count == b.utf8.count && zip(a.utf8, b.utf8).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
