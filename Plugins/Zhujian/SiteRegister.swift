import AsyncHTTPClient
import Crypto
import Foundation

/// A construction site as the register has it: its 施工许可证号, builder, address and permitted
/// night-work windows.
struct Site: Sendable, Equatable {
    var permit: String
    var company: String
    var address: String
    var nightWork: [NightWorkWindow]
    /// The first window `moment` falls in.
    func window(at moment: Date, in zone: TimeZone) -> NightWorkWindow? { nightWork.first { $0.contains(moment, in: zone) } }

    /// As the work order carries it.
    var json: [String: Any] {
        ["permit": permit, "company": company, "address": address,
         "night_work": nightWork.map { ["from": $0.from.text, "to": $0.to.text, "hours": $0.hours, "reason": $0.reason] }]
    }
}

/// Where the plugin looks a site up (the department's register; a stand-in in tests).
protocol SiteLookup: Sendable {
    /// The sites at an address (in a grid); throws when the register cannot be asked.
    func sites(address: String, grid: String) async throws -> [Site]
}

/// The department's site register over HTTP: `GET sites_url?address=…&grid=…`, signed as the
/// webhook's poll is (X-Muster-Timestamp, X-Muster-Signature over `timestamp + "."`, empty body),
/// answering `{"sites": [{"permit", "company", "address", "night_work": [{from, to, hours, reason}]}]}`.
struct SiteRegister: SiteLookup {
    let url: URL
    let secret: [UInt8]
    let timeout: Double

    struct Unreachable: Error, CustomStringConvertible {
        var description: String
    }

    func sites(address: String, grid: String) async throws -> [Site] {
        var components = URLComponents(url: url, resolvingAgainstBaseURL: false)!
        components.queryItems = (components.queryItems ?? []) + [URLQueryItem(name: "address", value: address), URLQueryItem(name: "grid", value: grid)]
        let timestamp = String(Int64(Date().timeIntervalSince1970))
        var request = HTTPClientRequest(url: components.url!.absoluteString)
        request.method = .GET
        request.headers.add(name: "X-Muster-Timestamp", value: timestamp)
        request.headers.add(name: "X-Muster-Signature", value: "sha256=" + Self.signature(secret: secret, timestamp: timestamp))
        let response: HTTPClientResponse
        let body: [UInt8]
        do {
            response = try await HTTPClient.shared.execute(request, timeout: .milliseconds(Int64(timeout * 1000)))
            body = Array((try await response.body.collect(upTo: 4 << 20)).readableBytesView)
        } catch {
            throw Unreachable(description: "\(error)")
        }
        guard response.status.code == 200 else { throw Unreachable(description: "HTTP \(response.status.code)") }
        guard let doc = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any], let list = doc["sites"] as? [Any] else {
            throw Unreachable(description: "the answer is not {\"sites\": [...]}")
        }
        return list.compactMap(Self.site)
    }

    /// One site of the answer; windows that are not windows are left out (the rest still count).
    static func site(_ doc: Any) -> Site? {
        guard let s = doc as? [String: Any], let permit = s["permit"] as? String, !permit.isEmpty else { return nil }
        let windows = (s["night_work"] as? [Any] ?? []).compactMap { try? NightWorkWindow.parse($0).get() }
        return Site(permit: permit, company: s["company"] as? String ?? "", address: s["address"] as? String ?? "",
                    nightWork: windows)
    }

    /// `hex(HMAC-SHA256(secret, timestamp + "."))`: the webhook's scheme over an empty body.
    static func signature(secret: [UInt8], timestamp: String) -> String {
        var mac = HMAC<SHA256>(key: SymmetricKey(data: secret))
        mac.update(data: Array(timestamp.utf8) + [UInt8(ascii: ".")])
        return mac.finalize().map { String(format: "%02x", $0) }.joined()
    }
}
