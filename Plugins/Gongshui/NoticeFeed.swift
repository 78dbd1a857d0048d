import Foundation
import WebhookDepartment

/// Where the plugin reads the company's shut-off notices (its own system; a stand-in in tests).
protocol NoticeSource: Sendable {
    /// The notices the company lists now, each parsed or with why it is not one.
    func notices() async throws -> [Result<ShutOffNotice, ShutOffNotice.Invalid>]
}

/// The company's notice feed over HTTP: `GET notices_url`, signed as the webhook's poll is
/// (X-Muster-Timestamp, X-Muster-Signature over `timestamp + "."`, empty body), answering
/// `{"notices": [{id, kind, grids, area?, starts_at, expected_end, reason, published_at, ended}]}` —
/// a snapshot of the notices it still lists, not a log: each read states them all again.
struct NoticeFeed: NoticeSource {
    let url: URL
    let secret: [UInt8]
    let timeout: Double

    struct Unreachable: Error, CustomStringConvertible {
        var description: String
    }

    func notices() async throws -> [Result<ShutOffNotice, ShutOffNotice.Invalid>] {
        do {
            return try await SignedList.read(url, key: "notices", secret: secret, timeout: timeout).list.map(ShutOffNotice.parse)
        } catch {
            throw Unreachable(description: error.description)
        }
    }
}
