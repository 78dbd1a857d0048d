import Foundation
import Synchronization

/// Who is logged in, by a random token (an HttpOnly cookie): the seat console's seats, the
/// screen's operators. Kept in memory: a restart means logging in again.
public final class LoginSessions: Sendable {
    private let hours: Double
    private let tokens = Mutex<[String: (login: String, expires: Date)]>([:])

    public init(hours: Double) { self.hours = hours }

    public func open(_ login: String, now: Date = Date()) -> String {
        var rng = SystemRandomNumberGenerator()  // getrandom(2): a CSPRNG
        let token = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &rng)) }.joined()
        tokens.withLock { t in
            t = t.filter { $0.value.expires > now }
            t[token] = (login, now.addingTimeInterval(hours * 3600))
        }
        return token
    }

    public func login(of token: String, now: Date = Date()) -> String? {
        tokens.withLock { t in
            guard let s = t[token] else { return nil }
            guard s.expires > now else { t[token] = nil; return nil }
            return s.login
        }
    }

    public func close(_ token: String) { _ = tokens.withLock { $0.removeValue(forKey: token) } }

    public var maxAge: Int { Int(hours * 3600) }

    /// The token of a request's cookie `name`, if it carries one.
    public static func token(cookie name: String, in headers: [String]) -> String? {
        for header in headers {
            for part in header.split(separator: ";") {
                let kv = part.trimmingCharacters(in: .whitespaces)
                if kv.hasPrefix("\(name)=") { return String(kv.dropFirst(name.count + 1)) }
            }
        }
        return nil
    }

    /// The cookie that keeps `token`, and the one that forgets it.
    public func setCookie(_ name: String, _ token: String) -> String { "\(name)=\(token); Path=/; HttpOnly; SameSite=Strict; Max-Age=\(maxAge)" }
    public static func clearCookie(_ name: String) -> String { "\(name)=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0" }

    /// An application/x-www-form-urlencoded body.
    public static func form(_ body: [UInt8]) -> [String: String] {
        var out: [String: String] = [:]
        for pair in String(decoding: body, as: UTF8.self).split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String { s.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(s) }
            out[decode(kv[0])] = kv.count > 1 ? decode(kv[1]) : ""
        }
        return out
    }
}
