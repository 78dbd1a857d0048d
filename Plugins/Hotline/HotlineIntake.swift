import Crypto
import Foundation
import Logging
import MusterAdapterKit
import MusterConfig
import MusterWire

/// `plugin: hotline12345` — the 12345 hotline's way in (README.md). The platform POSTs each work
/// order (工单); it becomes a SUBMIT through the kit's durable act queue, so once the adapter has
/// answered, the order is on disk and reaches the broker even across a kill -9. The answer is the
/// case id once the broker ACCEPTED it, or 202 (queued) when that takes longer than `wait`. The
/// work-order number is the request's key: the same order POSTed again is the same case.
public struct HotlineIntake: DepartmentPlugin {
    let settings: HotlineSettings
    let logger: Logger

    public static let descriptor = PluginDescriptor(
        name: "hotline12345",
        summary: "The 12345 hotline's intake: its platform POSTs work orders (工单) over signed HTTP; each is a SUBMIT, answered with the case id.",
        settings: [
            .init("listen", "HOST:PORT the intake API is served on (127.0.0.1:8720)"),
            .init("clients", "[{name, secret_file | api_key_file}]: who may call it — HMAC-signed requests, or a bearer key"),
            .init("wait", "how long a POST waits for the broker's ACCEPTED before answering 202 queued (default 5s)"),
            .init("source", "the cases' source (default hotline_12345)"),
        ],
        make: { (settings: PluginSettings, context: PluginDescriptor.Context) throws(ConfigErrors) -> any DepartmentPlugin in
            HotlineIntake(settings: try HotlineSettings.load(settings), logger: context.logger)
        })

    /// An intake peer is sent no work.
    public var handles: Set<Command> { [] }
    public func deliver(_ push: Push) async -> Delivery { .delivered(externalID: nil) }

    public func updates(_ acts: ActSink) async throws {
        try await HotlineServer(intake: self, acts: acts, logger: logger).run()
    }

    /// The act id of a work order: from its number, so a repeat is the same request.
    static func actID(_ orderNo: String) -> String {
        "hl-" + SHA256.hash(data: Array(orderNo.utf8)).prefix(16).map { String(format: "%02x", $0) }.joined()
    }

    /// POST of one work order: (HTTP status, JSON answer).
    func take(_ body: [UInt8], _ acts: ActSink) async -> (Int, [String: Any]) {
        let order: WorkOrder
        do { order = try WorkOrder.parse(body) } catch {
            return (422, ["field": error.field, "error": error.message])
        }
        var fields = JSONWriter()
        fields.raw("case", order.submittedCase(source: settings.source))
        let act = Act(id: Self.actID(order.orderNo), command: .submit, fields: fields.finish())
        do {
            try await acts.send(act)
            logger.info("work order queued", metadata: ["order_no": "\(order.orderNo)"])
            return try await answer(order.orderNo, acts)
        } catch {
            return (503, ["error": "暂时无法受理，请稍后重发 — the adapter cannot queue work orders now: \(error)"])
        }
    }

    /// Where a work order stands: the broker's answer (waiting up to `wait` for it), 202 while it
    /// is queued, 404 if this adapter never took it.
    func answer(_ orderNo: String, _ acts: ActSink, wait: Double? = nil) async throws -> (Int, [String: Any]) {
        switch try await acts.status(of: Self.actID(orderNo), within: wait ?? settings.wait) {
        case .answered(let a): return Self.reply(a, orderNo: orderNo)
        case .waiting: return (202, ["order_no": orderNo, "status": "queued", "check": "/v1/workorders/\(orderNo)"])
        case .unknown: return (404, ["order_no": orderNo, "error": "无此工单 — no work order \(orderNo) was taken here"])
        }
    }

    /// The broker's answer in the platform's terms.
    static func reply(_ a: ActAnswer, orderNo: String) -> (Int, [String: Any]) {
        let j = a.json
        switch a.command {
        case .accepted:
            var out: [String: Any] = ["order_no": orderNo]
            for k in ["case_id", "state", "merged_into", "due"] { out[k] = j[k] }
            if let i = j["incident"] as? [String: Any] { out["incident"] = ["message": i["message"], "expected_end": i["expected_end"]] }
            return (201, out)
        case .error:
            let code = j["code"] as? String ?? ""
            let message = j["message"] as? String ?? ""
            if code == ErrorCode.badField.rawValue || code == ErrorCode.tooLarge.rawValue {
                let field = (j["detail"] as? [String: Any])?["field"] as? String
                return (422, ["field": WorkOrder.platformField(field), "error": message, "code": code])
            }
            return (502, ["error": "总线拒绝了该工单 — the bus refused it: \(message)", "code": code])
        default:
            return (502, ["error": "unexpected answer \(a.command.rawValue)"])
        }
    }
}
