import Foundation
import Logging
import Synchronization
import MusterAdapterKit
import MusterWire

/// The CLI is a peer like any other: it connects, says HELLO, sends one request, prints.
struct Peer {
    let client: MusterClient
    let timeout: Double
    let endpoint: String

    init(_ options: PeerOptions, roles: [Role]) throws {
        var logger = Logger(label: "muster.cli")
        logger.logLevel = .error
        var o = MusterClient.Options(endpoint: options.endpoint, adapter: "cli-\(ProcessInfo.processInfo.hostName)-\(getpid())", roles: roles)
        o.curve = try options.curve()
        client = MusterClient(o, logger: logger) { _, _ in }
        client.start()
        timeout = options.timeout
        endpoint = options.endpoint
    }

    func request(_ command: Command, _ fill: @escaping @Sendable (inout JSONWriter) -> Void) async throws -> MusterClient.Reply {
        let client = self.client, timeout = self.timeout
        // Whichever comes first, the reply or the timeout, answers; the other is ignored.
        let answered = Atomic<Bool>(false)
        let reply: MusterClient.Reply? = await withCheckedContinuation { cont in
            client.request(command, fill) { r in
                if answered.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged { cont.resume(returning: r) }
            }
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout) {
                if answered.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged { cont.resume(returning: nil) }
            }
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
