import Foundation
import Logging
import MusterAdapterKit
import MusterWire

/// The CLI is a peer like any other: it connects, says HELLO, sends one request, prints.
struct Peer {
    let client: MusterClient
    let timeout: Double
    let endpoint: String

    init(_ options: PeerOptions, roles: [Role]) {
        var logger = Logger(label: "muster.cli")
        logger.logLevel = .error
        let o = MusterClient.Options(endpoint: options.endpoint, adapter: "cli-\(ProcessInfo.processInfo.hostName)-\(getpid())", roles: roles)
        client = MusterClient(o, logger: logger) { _, _ in }
        client.start()
        timeout = options.timeout
        endpoint = options.endpoint
    }

    func request(_ command: Command, _ fill: @escaping @Sendable (inout JSONWriter) -> Void) async throws -> MusterClient.Reply {
        let client = self.client, timeout = self.timeout
        let reply = await withTaskGroup(of: MusterClient.Reply?.self) { group in
            group.addTask { await client.request(command, fill) }
            group.addTask { try? await Task.sleep(nanoseconds: UInt64(timeout * 1e9)); return nil }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        client.stop()
        guard let reply else { throw CLIError("no answer from the broker at \(endpoint) within \(Int(timeout)) s — is it running?") }
        if let e = reply.error {
            var text = "\(e.code.rawValue): \(e.message)"
            if let f = e.detail?.field { text += " (field \(f))" }
            if let s = e.detail?.state { text += " (state \(s))" }
            throw CLIError(text)
        }
        return reply
    }
}

/// Pretty JSON for `--json`.
func prettyJSON(_ bytes: [UInt8]) -> String {
    guard let obj = try? JSONSerialization.jsonObject(with: Data(bytes)),
          let data = try? JSONSerialization.data(withJSONObject: obj, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]) else {
        return String(decoding: bytes, as: UTF8.self)
    }
    return String(decoding: data, as: UTF8.self)
}
