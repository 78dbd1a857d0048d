import Crypto
import _CryptoExtras
import Foundation

/// A seat's password as config keeps it: never the password, a PBKDF2-HMAC-SHA256 hash in
/// Django's notation, `pbkdf2_sha256$ROUNDS$SALT$BASE64(HASH)` — a slow, salted hash (OWASP's
/// password storage advice; swift-crypto's `KDF.Insecure.PBKDF2` refuses fewer than 210,000
/// rounds), which a one-line Python `hashlib.pbkdf2_hmac` can make (Plugins/Console/README.md).
struct PasswordHash: Sendable, Equatable {
    var rounds: Int
    var salt: String
    var hash: [UInt8]

    static let minimumRounds = 210_000

    struct Invalid: Error { var message: String }

    static func parse(_ text: String) -> Result<PasswordHash, Invalid> {
        let parts = text.split(separator: "$", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 4, parts[0] == "pbkdf2_sha256" else {
            return .failure(Invalid(message: "not a pbkdf2_sha256$ROUNDS$SALT$HASH hash (never a plain password; README.md says how to make one)"))
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
    func matches(_ password: String) -> Bool {
        guard let key = try? KDF.Insecure.PBKDF2.deriveKey(from: Array(password.utf8), salt: Array(salt.utf8), using: .sha256,
                                                             outputByteCount: 32, rounds: rounds) else { return false }
        let derived = key.withUnsafeBytes { Array($0) }
        return derived.count == hash.count && zip(derived, hash).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// A hash of `password` (for tests and the README's example).
    static func make(_ password: String, salt: String, rounds: Int = minimumRounds) -> String {
        let key = try! KDF.Insecure.PBKDF2.deriveKey(from: Array(password.utf8), salt: Array(salt.utf8), using: .sha256,
                                                       outputByteCount: 32, rounds: rounds)
        return "pbkdf2_sha256$\(rounds)$\(salt)$" + key.withUnsafeBytes { Data($0).base64EncodedString() }
    }
}
