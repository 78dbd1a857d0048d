import Foundation
import MusterAdapterKit
import MusterWire
import Synchronization
import WebhookDepartment

/// 住建's work on the bus: a complaint about a construction site (夜间施工, 扬尘, 渣土 …) is matched
/// to the department's site register; one inside a permitted night-work window is answered with
/// the permit (解释答复) instead of enforced — the work order still goes to the department, which
/// keeps the record, and the plugin signs and finishes it with the permit as the answer. Anything
/// else is enforced (查处); hazards (road collapse, building safety) keep the broker's clocks.
public struct ZhujianRules: DepartmentRules {
    let settings: ZhujianSettings
    let register: any SiteLookup
    let now: @Sendable () -> Date
    /// Each dispatch's finding, from `screen` to the work order and `delivered` of the same delivery.
    let findings = Findings()

    final class Findings: Sendable {
        let byDispatch = Mutex<[String: SiteFinding]>([:])
    }

    init(_ settings: ZhujianSettings, register: (any SiteLookup)? = nil, now: @escaping @Sendable () -> Date = Date.init) {
        self.settings = settings
        self.register = register ?? SiteRegister(url: settings.sitesURL, secret: settings.secret, timeout: settings.timeout)
        self.now = now
    }

    /// Looks the site up once per delivery (before the work order is written); never refuses.
    public func screen(_ dispatch: [String: Any]) async -> Delivery? {
        guard let id = dispatch["dispatch_id"] as? String, let finding = await find(dispatch) else { return nil }
        findings.byDispatch.withLock { all in
            if all.count > 10_000 { all.removeAll() }  // findings of deliveries that never completed
            all[id] = finding
        }
        return nil
    }

    public func workOrderFields(_ dispatch: [String: Any]) async -> [String: Any] {
        let id = dispatch["dispatch_id"] as? String ?? ""
        let known = findings.byDispatch.withLock { $0[id] }
        guard let finding = await known.asyncOr({ await find(dispatch) }) else { return [:] }
        return finding.fields(zone: settings.zone)
    }

    /// The department took a work order to explain: signed and finished at once with the permit,
    /// under act ids of the dispatch (a redelivery is the same two acts).
    public func delivered(_ dispatch: [String: Any], ref: String?, _ acts: ActSink) async throws {
        guard let id = dispatch["dispatch_id"] as? String else { return }
        let finding = findings.byDispatch.withLock { $0[id] }
        // Both in one transaction: a crash between them cannot leave it signed for but unanswered.
        try await acts.send(Self.explanationActs(dispatchID: id, finding: finding, ref: ref), cursor: nil)
        findings.byDispatch.withLock { _ = $0.removeValue(forKey: id) }
    }

    /// ACK then RESOLVE with the permit, for a permitted window; none otherwise.
    static func explanationActs(dispatchID id: String, finding: SiteFinding?, ref: String?) -> [Act] {
        guard let finding, let answer = finding.explanation, case .permitted(let site, _, _) = finding else { return [] }
        return [
            Act.ack(id: "zj-explain-ack-\(id)", dispatchID: id, handler: "住建工地登记核查", note: "夜间施工许可核查：许可证号 \(site.permit)")
                .from(DownstreamRef(status: "explain", ref: ref, update: "zj-explain-ack-\(id)")),
            Act.resolve(id: "zj-explain-\(id)", dispatchID: id, result: answer, note: "投诉时段在许可夜间施工时段内，不予查处")
                .from(DownstreamRef(status: "explain", ref: ref, update: "zj-explain-\(id)")),
        ]
    }

    /// The finding for a site complaint; nil for any other category.
    func find(_ dispatch: [String: Any]) async -> SiteFinding? {
        let c = dispatch["case"] as? [String: Any] ?? [:]
        guard let category = c["category"] as? String, settings.siteCategories.contains(category) else { return nil }
        let at = (c["reported_at"] as? String).flatMap(Self.moment) ?? now()
        let location = c["location"] as? [String: Any]
        let sites: [Site]
        do {
            sites = try await register.sites(address: location?["address"] as? String ?? "", grid: c["grid"] as? String ?? location?["grid"] as? String ?? "")
        } catch {
            return .registerUnreachable("\(error)", at: at)
        }
        if settings.nightWorkCategories.contains(category) {
            for site in sites { if let w = site.window(at: at, in: settings.zone) { return .permitted(site, w, at: at) } }
        }
        return .enforce(sites.first, at: at)
    }

    /// RFC 3339 with or without fractional seconds.
    static func moment(_ text: String) -> Date? {
        let f = ISO8601DateFormatter()
        if let d = f.date(from: text) { return d }
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.date(from: text)
    }
}

extension Optional where Wrapped: Sendable {
    /// The value, or `fallback`'s.
    func asyncOr(_ fallback: () async -> Wrapped?) async -> Wrapped? {
        if let self { return self }
        return await fallback()
    }
}
