import CZeroMQ

/// A CurveZMQ key pair (RFC 26), as the 40-character Z85 text libzmq reads and writes.
public struct CurveKeyPair: Sendable, Equatable {
    public var publicKey: String
    public var secretKey: String

    public init(publicKey: String, secretKey: String) { self.publicKey = publicKey; self.secretKey = secretKey }

    public static func generate() throws -> CurveKeyPair {
        var pub = [CChar](repeating: 0, count: 41), sec = [CChar](repeating: 0, count: 41)
        guard zmq_curve_keypair(&pub, &sec) == 0 else { throw ZMQError.last() }
        return CurveKeyPair(publicKey: String(decoding: pub.prefix(40).map { UInt8(bitPattern: $0) }, as: UTF8.self),
                            secretKey: String(decoding: sec.prefix(40).map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }

    /// The Z85 text of a 32-byte key (ZAP hands keys over as raw bytes).
    public static func z85(_ raw: [UInt8]) -> String? {
        guard raw.count == 32 else { return nil }
        var out = [CChar](repeating: 0, count: 41)
        guard zmq_z85_encode(&out, raw, 32) != nil else { return nil }
        return String(decoding: out.prefix(40).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Whether a text is a well-formed Z85 key.
    public static func isValid(_ z85: String) -> Bool {
        guard z85.utf8.count == 40 else { return false }
        var raw = [UInt8](repeating: 0, count: 32)
        return zmq_z85_decode(&raw, z85) != nil
    }
}

extension Socket {
    /// This socket is the CURVE server (the broker): peers must know its public key.
    public func setCurveServer(secretKey: String, zapDomain: String = "muster") throws {
        try set(ZMQ_CURVE_SERVER, Int32(1))
        try set(ZMQ_CURVE_SECRETKEY, bytes: Array(secretKey.utf8))
        try set(ZMQ_ZAP_DOMAIN, bytes: Array(zapDomain.utf8))
    }

    /// This socket is a CURVE client with its own key pair, talking to `serverKey`.
    public func setCurveClient(serverKey: String, keys: CurveKeyPair) throws {
        try set(ZMQ_CURVE_SERVERKEY, bytes: Array(serverKey.utf8))
        try set(ZMQ_CURVE_PUBLICKEY, bytes: Array(keys.publicKey.utf8))
        try set(ZMQ_CURVE_SECRETKEY, bytes: Array(keys.secretKey.utf8))
    }
}
