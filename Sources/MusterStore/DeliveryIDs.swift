import Crypto
import Foundation

/// The `delivery` ids on the wire: the outbox row's number and a tag, `"42-9f3c…"`. The tag is
/// an HMAC of the number under this database's own key, so a peer cannot name a delivery it was
/// never sent (RECEIVED for a guessed id is ignored even before the recipient check). Deliveries
/// made before the key existed (an upgraded database) keep their plain numbers.
public struct DeliveryIDs: Sendable {
    /// Raw bytes: `SymmetricKey` is not `Sendable`; one is made per use, which is cheap.
    let key: [UInt8]
    /// The highest delivery number made before the key: these were sent as plain numbers.
    public let plainThrough: Int64

    public init(key: [UInt8], plainThrough: Int64) {
        self.key = key; self.plainThrough = plainThrough
    }

    /// The id a push with this outbox number carries.
    public func wire(_ delivery: Int64) -> String {
        delivery <= plainThrough ? String(delivery) : "\(delivery)-\(tag(delivery))"
    }

    /// The outbox number of an id this database made; nil for anything else.
    public func number(_ wire: String) -> Int64? {
        guard let dash = wire.firstIndex(of: "-") else {
            guard let n = Int64(wire), n > 0, n <= plainThrough else { return nil }
            return n
        }
        guard let n = Int64(wire[..<dash]), n > plainThrough,
              Self.same(Array(wire[wire.index(after: dash)...].utf8), Array(tag(n).utf8)) else { return nil }
        return n
    }

    /// Compares in time that does not depend on where they differ (a tag is a secret's output).
    static func same(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for i in a.indices { diff |= a[i] ^ b[i] }
        return diff == 0
    }

    private func tag(_ delivery: Int64) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(String(delivery).utf8), using: SymmetricKey(data: key))
        return mac.prefix(8).map { String(format: "%02x", $0) }.joined()
    }

    static func newKey() -> [UInt8] {
        var g = SystemRandomNumberGenerator()
        return (0..<32).map { _ in UInt8.random(in: 0...255, using: &g) }
    }
}
