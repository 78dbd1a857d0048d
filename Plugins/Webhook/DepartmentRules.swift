import Foundation
import MusterAdapterKit
import MusterConfig
import MusterWire

/// What a department's own plugin (城管, 公安, 住建, 热力, 供水 …) adds to the webhook's HTTP
/// transport: its work in its own terms. The transport — signed work orders, retries, the way
/// back, the status map, health — stays the webhook's; a department plugin is the webhook plus
/// these rules, and its settings are the webhook's plus a section of its own.
public protocol DepartmentRules: Sendable {
    /// Decides a DISPATCH before it is sent (e.g. out of season: refused with a reason); nil: send it.
    func screen(_ dispatch: [String: Any]) async -> Delivery?
    /// The department took the DISPATCH under its own id `ref`: acts that follow at once (公安's
    /// 110 signs for it with its 警情号). Queued before the push is acknowledged; a failure here
    /// leaves the push unacknowledged, to be delivered again (same Idempotency-Key, same act ids).
    func delivered(_ dispatch: [String: Any], ref: String?, _ acts: ActSink) async throws
    /// Members added to a DISPATCH's work order (数字城管 codes and limits, a site permit …), from
    /// the DISPATCH as the broker sent it. Keys already in the work order are not replaced.
    func workOrderFields(_ dispatch: [String: Any]) async -> [String: Any]
    /// An update about to become an act of `meaning` on `subject`: throw a refusal to keep it
    /// from the broker — the department's desk gets it as the answer (422, with the field and
    /// the reason), and nothing of the request is queued.
    /// `dispatch` is the DISPATCH as the broker sent it, when the adapter still has it.
    func check(_ update: [String: Any], meaning: StatusMap.Meaning, subject: String, dispatch: [String: Any]?) throws(StatusMap.Refusal)
    /// The update as the status map should read it, after `check` took it: e.g. the measured
    /// room temperature written into the note and result, so the case's record keeps it.
    func amend(_ update: [String: Any], meaning: StatusMap.Meaning, dispatch: [String: Any]?) -> [String: Any]
    /// Feeds of its own that run for the adapter's life (outages announced as incidents …).
    func run(_ acts: ActSink) async throws
}

extension DepartmentRules {
    public func workOrderFields(_ dispatch: [String: Any]) async -> [String: Any] { [:] }
    public func screen(_ dispatch: [String: Any]) async -> Delivery? { nil }
    public func delivered(_ dispatch: [String: Any], ref: String?, _ acts: ActSink) async throws {}
    public func check(_ update: [String: Any], meaning: StatusMap.Meaning, subject: String, dispatch: [String: Any]?) throws(StatusMap.Refusal) {}
    public func amend(_ update: [String: Any], meaning: StatusMap.Meaning, dispatch: [String: Any]?) -> [String: Any] { update }
    public func run(_ acts: ActSink) async throws {}
}

/// The plain webhook: no rules of its own.
struct NoRules: DepartmentRules {}

extension WebhookDepartment {
    /// A department plugin's descriptor: the webhook's settings, plus the department's own
    /// section `key` (e.g. `chengguan:`) that `rules` decodes — both checked with file, line and key.
    public static func descriptor(name: String, summary: String, key: String, settings own: [PluginDescriptor.Setting],
                                  rules: @escaping @Sendable (PluginSettings, PluginDescriptor.Context) throws(ConfigErrors) -> any DepartmentRules)
        -> PluginDescriptor {
        PluginDescriptor(
            name: name, summary: summary,
            settings: descriptor.settings + own.map { PluginDescriptor.Setting("\(key).\($0.key)", $0.meaning) },
            make: { (settings: PluginSettings, context: PluginDescriptor.Context) throws(ConfigErrors) -> any DepartmentPlugin in
                var errors: [ConfigError] = []
                var made: (any DepartmentRules)?
                do throws(ConfigErrors) { made = try rules(settings.section(key), context) } catch { errors += error.errors }
                var transport: WebhookDepartment?
                do throws(ConfigErrors) { transport = try make(settings.without(key), context) } catch { errors += error.errors }
                guard errors.isEmpty, let made, let transport else { throw ConfigErrors(errors: errors) }
                return transport.with(rules: made)
            })
    }
}
