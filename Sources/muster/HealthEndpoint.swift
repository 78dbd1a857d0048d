import Foundation
import Hummingbird
import Logging
import NIOCore

/// The health port of a process (`muster broker --metrics`, `muster adapter --health`):
/// `/healthz` alive, `/readyz` ready or why not (503), and `/metrics` in Prometheus's text
/// format when the process keeps metrics. A listener of its own on a task of its own: nothing
/// on the commit path waits for it, and a scrape reads only thread-safe snapshots.
struct HealthEndpoint: Sendable {
    let host: String
    let port: Int
    /// Ready, and what to say about it (rendered as JSON).
    let readiness: @Sendable () -> (ready: Bool, detail: [String: any Sendable])
    /// The Prometheus text, or nil: no /metrics.
    let metrics: (@Sendable () -> [UInt8])?
    let logger: Logger

    /// HOST:PORT → (host, port), or a usage error naming the flag.
    static func address(_ text: String, flag: String) throws -> (String, Int) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count >= 2, let port = Int(parts.last!), (0...65535).contains(port), !parts.dropLast().joined(separator: ":").isEmpty else {
            throw CLIFailure(.usage, "\(flag) is HOST:PORT (127.0.0.1:9400), not \(text)")
        }
        return (parts.dropLast().joined(separator: ":"), port)
    }

    /// Serves until the process ends, on a detached task (the caller's thread may be the broker's).
    func start() {
        let router = Router()
        let (readiness, metrics) = (readiness, metrics)
        router.get("/healthz") { _, _ in Self.json(200, ["state": "alive"]) }
        router.get("/readyz") { _, _ in
            let r = readiness()
            var doc = r.detail
            doc["state"] = r.ready ? "ready" : "unready"
            return Self.json(r.ready ? 200 : 503, doc)
        }
        if let metrics {
            router.get("/metrics") { _, _ in
                Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                         body: .init(byteBuffer: ByteBuffer(bytes: metrics())))
            }
        }
        let (host, port, logger) = (host, port, logger)
        let app = Application(router: router, configuration: .init(address: .hostname(host, port: port)),
                              onServerRunning: { _ in logger.info("health port open", metadata: ["address": "http://\(host):\(port)/"]) },
                              logger: Logger(label: "muster.health"))
        Task.detached {
            do { try await app.run() } catch { logger.error("the health port stopped", metadata: ["error": "\(error)"]) }
        }
    }

    static func json(_ status: Int, _ doc: [String: any Sendable]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: doc, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Response(status: .init(code: status), headers: [.contentType: "application/json; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
