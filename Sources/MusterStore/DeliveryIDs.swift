import Crypto
import Foundation

/// The `delivery` ids on the wire: the outbox row's number and a tag, `"42-9f3c…"`. The tag is
/// an HMAC of the number under this database's own key, so a peer cannot name a delivery it was
/// never sent (RECEIVED for a guessed id is ignored even before the recipient check). Deliveries
/// made before the key existed (an upgraded database) keep their plain numbers.
public struct DeliveryIDs: Sendable {
    /// The HMAC already keyed: every push and every RECEIVED makes a tag, and keying it each
    /// time (a SymmetricKey and two pad blocks) was a tenth of the broker's CPU under load.
    let keyed: KeyedMAC
    /// The highest delivery number made before the key: these were sent as plain numbers.
    public let plainThrough: Int64

    public init(key: [UInt8], plainThrough: Int64) {
        keyed = KeyedMAC(HMAC<SHA256>(key: SymmetricKey(data: key)))
        self.plainThrough = plainThrough
    }

    /// The id a push with this outbox number carries.
    public func wire(_ delivery: Int64) -> String {
        delivery <= plainThrough ? String(delivery) : "\(delivery)-\(tag(delivery))"
    }

    /// The outbox number of an id this database made; nil for anything else. `known`: the id
    /// already made for a number, if the caller kept it (the broker keeps those it sent), so
    /// that the check is a comparison instead of an HMAC.
    public func number(_ wire: String, known: (Int64) -> String? = { _ in nil }) -> Int64? {
        guard let dash = wire.firstIndex(of: "-") else {
            guard let n = Int64(wire), n > 0, n <= plainThrough else { return nil }
            return n
        }
        guard let n = Int64(wire[..<dash]), n > plainThrough else { return nil }
        if let made = known(n) { return Self.same(Array(wire.utf8), Array(made.utf8)) ? n : nil }
        return Self.same(Array(wire[wire.index(after: dash)...].utf8), Array(tag(n).utf8)) ? n : nil
    }

    /// Compares in time that does not depend on where they differ (a tag is a secret's output).
    static func same(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for i in a.indices { diff |= a[i] ^ b[i] }
        return diff == 0
    }

    /// The first 8 bytes of HMAC-SHA256(key, decimal number), in lower-case hex.
    private func tag(_ delivery: Int64) -> String {
        var mac = keyed.mac  // a copy: the keyed state is copied on write
        mac.update(data: Array(String(delivery).utf8))
        let code = mac.finalize()
        return code.withUnsafeBytes { bytes in
            String(unsafeUninitializedCapacity: 16) { out in
                for i in 0..<8 {
                    out[2 * i] = Self.hexDigits[Int(bytes[i] >> 4)]
                    out[2 * i + 1] = Self.hexDigits[Int(bytes[i] & 0xF)]
                }
                return 16
            }
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    static func newKey() -> [UInt8] {
        var g = SystemRandomNumberGenerator()
        return (0..<32).map { _ in UInt8.random(in: 0...255, using: &g) }
    }
}

/// `HMAC` is a value whose state is copied on write but not marked `Sendable`; this one is only
/// ever copied, never changed in place.
struct KeyedMAC: @unchecked Sendable {
    let mac: HMAC<SHA256>
    init(_ mac: HMAC<SHA256>) { self.mac = mac }
}
