import Crypto
import _CryptoExtras
import Foundation

/// A password as config keeps it (the seat console's seats, the screen's operators): never the password, a PBKDF2-HMAC-SHA256 hash in
/// Django's notation, `pbkdf2_sha256$ROUNDS$SALT$BASE64(HASH)` — a slow, salted hash (OWASP's
/// password storage advice; swift-crypto's `KDF.Insecure.PBKDF2` refuses fewer than 210,000
/// rounds), which a one-line Python `hashlib.pbkdf2_hmac` can make (Plugins/Console/README.md).
public struct PasswordHash: Sendable, Equatable {
    public var rounds: Int
    public var salt: String
    public var hash: [UInt8]

    public init(rounds: Int, salt: String, hash: [UInt8]) { self.rounds = rounds; self.salt = salt; self.hash = hash }

    public static let minimumRounds = 210_000

    public struct Invalid: Error { public var message: String }

    public static func parse(_ text: String) -> Result<PasswordHash, Invalid> {
        let parts = text.split(separator: "$", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 4, parts[0] == "pbkdf2_sha256" else {
            return .failure(Invalid(message: "not a pbkdf2_sha256$ROUNDS$SALT$HASH hash (never a plain password; Plugins/Console/README.md says how to make one)"))
        }
        guard let rounds = Int(parts[1]), rounds >= minimumRounds else {
            return .failure(Invalid(message: "\(parts[1]) rounds: at least \(minimumRounds)"))
        }
        guard parts[2].utf8.count >= 8 else { return .failure(Invalid(message: "the salt must have at least 8 characters")) }
        guard let hash = Data(base64Encoded: parts[3]), hash.count == 32 else {
            return .failure(Invalid(message: "the hash is not 32 bytes of base64"))
        }
        return .success(PasswordHash(rounds: rounds, salt: parts[2], hash: Array(hash)))
    }

    /// Whether `password` is the one; compared in constant time.
    public func matches(_ password: String) -> Bool {
        guard let key = try? KDF.Insecure.PBKDF2.deriveKey(from: Array(password.utf8), salt: Array(salt.utf8), using: .sha256,
                                                             outputByteCount: 32, rounds: rounds) else { return false }
        let derived = key.withUnsafeBytes { Array($0) }
        return derived.count == hash.count && zip(derived, hash).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// A hash of `password` (for tests and the README's example).
    public static func make(_ password: String, salt: String, rounds: Int = minimumRounds) -> String {
        let key = try! KDF.Insecure.PBKDF2.deriveKey(from: Array(password.utf8), salt: Array(salt.utf8), using: .sha256,
                                                       outputByteCount: 32, rounds: rounds)
        return "pbkdf2_sha256$\(rounds)$\(salt)$" + key.withUnsafeBytes { Data($0).base64EncodedString() }
    }

    /// Hashed in place of an unknown login's: a refusal takes the same time either way.
    public static let decoy = PasswordHash(rounds: minimumRounds, salt: "decoy-salt", hash: Array(repeating: 0, count: 32))
}
