import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Looks at a TCP endpoint before a ZeroMQ socket connects to it: is anything listening, and if
/// so, which security mechanism does its ZMTP 3 greeting announce (RFC 23: `NULL` for a plain
/// broker, `CURVE` for a secure one)? libzmq itself only retries in silence when nothing
/// listens, and a mechanism mismatch often shows up on the client only as a dropped connection.
///
/// The probe sends the first 11 bytes of a greeting, reads the peer's 64 and hangs up before
/// any handshake command: the peer never sees a key, so nothing reaches its ZAP handler.
public enum ZMTPProbe {
    public enum Result: Equatable, Sendable {
        /// A ZMTP 3 peer announcing this mechanism (`NULL`, `PLAIN`, `CURVE`).
        case zmtp(mechanism: String)
        /// Something accepted the connection but did not answer with a ZMTP 3 greeting.
        case notZMTP
        /// Connection refused: nothing listens on that port.
        case refused
        /// The host could not be resolved or reached in time (message says why).
        case unreachable(String)
    }

    /// `tcp://HOST:PORT` (also `tcp://[v6]:PORT` and libzmq's `tcp://SOURCE;HOST:PORT`); nil for
    /// other transports.
    public static func tcpAddress(_ endpoint: String) -> (host: String, port: UInt16)? {
        guard endpoint.hasPrefix("tcp://") else { return nil }
        var rest = String(endpoint.dropFirst(6))
        if let semi = rest.lastIndex(of: ";") { rest = String(rest[rest.index(after: semi)...]) }
        guard let colon = rest.lastIndex(of: ":"), let port = UInt16(rest[rest.index(after: colon)...]) else { return nil }
        var host = String(rest[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return host.isEmpty ? nil : (host, port)
    }

    public static func probe(host: String, port: UInt16, timeout: Double) -> Result {
        let deadline = Date().addingTimeInterval(timeout)
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else {
            return .unreachable("cannot resolve \(host): \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(first) }
        var lastProblem = "no address for \(host)"
        var sawRefused = false
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let ai = cursor {
            cursor = ai.pointee.ai_next
            let fd = socket(ai.pointee.ai_family, ai.pointee.ai_socktype, ai.pointee.ai_protocol)
            guard fd >= 0 else { lastProblem = String(cString: strerror(errno)); continue }
            defer { close(fd) }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            if connect(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen) != 0 {
                guard errno == EINPROGRESS else {
                    if errno == ECONNREFUSED { sawRefused = true } else { lastProblem = String(cString: strerror(errno)) }
                    continue
                }
                guard wait(fd, for: Int16(POLLOUT), until: deadline) else { lastProblem = "no answer within \(seconds(timeout))"; continue }
                var err: Int32 = 0
                var len = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)
                if err != 0 {
                    if err == ECONNREFUSED { sawRefused = true } else { lastProblem = String(cString: strerror(err)) }
                    continue
                }
            }
            return greeting(fd, until: deadline)
        }
        return sawRefused ? .refused : .unreachable(lastProblem)
    }

    /// Sends a ZMTP 3 signature and major version, reads the peer's whole greeting.
    private static func greeting(_ fd: Int32, until deadline: Date) -> Result {
        let hello: [UInt8] = [0xFF, 0, 0, 0, 0, 0, 0, 0, 1, 0x7F, 3]
        guard hello.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == hello.count else { return .notZMTP }
        var got: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 64)
        while got.count < 64 {
            guard wait(fd, for: Int16(POLLIN), until: deadline) else { return .notZMTP }
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, 64 - got.count, 0) }
            guard n > 0 else { return .notZMTP }
            got += buf.prefix(n)
            if got[0] != 0xFF || (got.count >= 10 && got[9] & 1 == 0) || (got.count >= 11 && got[10] < 3) { return .notZMTP }
        }
        let mechanism = String(decoding: got[12..<32].prefix { $0 != 0 }, as: UTF8.self)
        return .zmtp(mechanism: mechanism)
    }

    private static func wait(_ fd: Int32, for events: Int16, until deadline: Date) -> Bool {
        while true {
            let left = Int32(max(0, deadline.timeIntervalSinceNow * 1000))
            var p = pollfd(fd: fd, events: events, revents: 0)
            let rc = poll(&p, 1, left)
            if rc > 0 { return true }
            if rc < 0 && errno == EINTR { continue }
            return false
        }
    }

    private static func seconds(_ t: Double) -> String { t == t.rounded() ? "\(Int(t)) s" : String(format: "%.1f s", t) }
}
