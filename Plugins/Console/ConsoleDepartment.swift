import Foundation
import Logging
import MusterAdapterKit
import MusterConfig
import MusterWire

/// `plugin: console` — the seat console (座席端) for a department with no system of its own:
/// its downstream is its own inbox, a web page the adapter serves. A DISPATCH, SUMMON or NOTICE
/// is acknowledged once it is safe in the inbox; a seat signs for it, reports progress, finishes,
/// returns it, asks for more time or reports to a whistle on the page, and each of those is an
/// act through the kit's durable queue (Plugins/Console/README.md).
public struct ConsoleDepartment: DepartmentPlugin {
    let desk: Desk
    let logger: Logger

    public static let descriptor = PluginDescriptor(
        name: "console",
        summary: "The seat console (座席端): a web page the adapter serves, where the department's seats sign for, handle and finish their work.",
        settings: [
            .init("listen", "HOST:PORT the pages are served on (127.0.0.1:8801)"),
            .init("seats", "[{login, name, password}]: each seat's login, its name (the handler on the record) and a pbkdf2_sha256$ROUNDS$SALT$HASH password hash"),
            .init("finish_fields", "[{key, label, required, kind: text|textarea|url}]: what 办结 must say (default: result 处理结果, required)"),
            .init("session_hours", "how long a login lasts (default 12)"),
            .init("inbox", "the inbox's SQLite file, beside the config (default ../../data/console/ADAPTER.db)"),
            .init("category_names", "{code: 中文名} for the pages (default: the codes)"),
        ],
        make: { (settings: PluginSettings, context: PluginDescriptor.Context) throws(ConfigErrors) -> any DepartmentPlugin in
            let s = try ConsoleSettings.load(settings, adapter: context.adapter)
            return ConsoleDepartment(desk: Desk(settings: s, department: context.name), logger: context.logger)
        })

    /// Into the inbox (durably) before the push is acknowledged; the pages hear of it at once.
    public func deliver(_ push: Push) async -> Delivery {
        do {
            let (item, fresh) = try desk.inbox().store(push.command, body: push.body)
            if fresh {
                desk.live.publish(seq: item.seq, change: "new")
                logger.info("seat console: new item", metadata: ["ref": "\(item.ref)", "subject": "\(item.subject)"])
            }
            return .delivered(externalID: item.ref)
        } catch {
            logger.error("seat console: the inbox cannot be written", metadata: ["error": "\(error)"])
            return .retryLater(after: nil)
        }
    }

    /// The pages, for the adapter's life: each seat's action an act.
    public func updates(_ acts: ActSink) async throws {
        _ = try desk.inbox()
        try await ConsoleServer(desk: desk, acts: acts, logger: logger).run()
    }

    public func health() async -> Health {
        do { _ = try desk.inbox(); return .ok } catch { return .down("the inbox cannot be opened: \(error)", failures: 1) }
    }
}
