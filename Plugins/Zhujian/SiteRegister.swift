import Foundation
import WebhookDepartment

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
        do {
            return try await SignedList.read(components.url!, key: "sites", secret: secret, timeout: timeout).list.compactMap(Self.site)
        } catch {
            throw Unreachable(description: error.description)
        }
    }

    /// One site of the answer; windows that are not windows are left out (the rest still count).
    static func site(_ doc: Any) -> Site? {
        guard let s = doc as? [String: Any], let permit = s["permit"] as? String, !permit.isEmpty else { return nil }
        let windows = (s["night_work"] as? [Any] ?? []).compactMap { try? NightWorkWindow.parse($0).get() }
        return Site(permit: permit, company: s["company"] as? String ?? "", address: s["address"] as? String ?? "",
                    nightWork: windows)
    }
}
