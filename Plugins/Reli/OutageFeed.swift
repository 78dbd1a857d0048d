import Foundation
import WebhookDepartment

/// Where the plugin reads the company's outages (its own system; a stand-in in tests).
protocol OutageSource: Sendable {
    /// The outages the company reports now, each parsed or with why it is not one.
    func outages() async throws -> [Result<Outage, Outage.Invalid>]
}

/// The company's outage feed over HTTP: `GET outages_url`, signed as the webhook's poll is
/// (X-Muster-Timestamp, X-Muster-Signature over `timestamp + "."`, empty body), answering
/// `{"outages": [{id, grids, area?, cause, expected_restore, started_at?, ended, outcome?, note?}]}`
/// — a snapshot of the outages it still lists, not a log: each poll states them all again.
struct OutageFeed: OutageSource {
    let url: URL
    let secret: [UInt8]
    let timeout: Double

    struct Unreachable: Error, CustomStringConvertible {
        var description: String
    }

    func outages() async throws -> [Result<Outage, Outage.Invalid>] {
        do {
            return try await SignedList.read(url, key: "outages", secret: secret, timeout: timeout).list.map(Outage.parse)
        } catch {
            throw Unreachable(description: error.description)
        }
    }
}
