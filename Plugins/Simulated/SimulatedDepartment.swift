import Foundation
import MusterAdapterKit
import MusterConfig
import MusterWire

/// A stand-in department as a plugin (`plugin: simulated`), for `make run`, demonstrations and
/// benchmarks: it takes every push, signs for a dispatch and finishes it after delays (or
/// returns some), and reports on site when summoned. Its acts carry ids made from the dispatch
/// or whistle, as a real downstream's would carry its own keys, so a push delivered twice makes
/// each act once.
public struct SimulatedDepartment: DepartmentPlugin {
    struct Settings: Decodable {
        var sign_after: String?
        var finish_after: String?
        var return_probability: Double?
        var report_after: String?
    }

    public var signAfter: Double
    public var finishAfter: Double
    public var returnProbability: Double
    /// nil: it never reports (so a whistle's ladder shows).
    public var reportAfter: Double?
    public var handlerName: String
    private let scheduled = AsyncStream<(Double, Act)>.makeStream()

    public init(signAfter: Double, finishAfter: Double, returnProbability: Double, reportAfter: Double?, handlerName: String) {
        self.signAfter = signAfter; self.finishAfter = finishAfter; self.returnProbability = returnProbability
        self.reportAfter = reportAfter; self.handlerName = handlerName
    }

    public static let descriptor = PluginDescriptor(
        name: "simulated",
        summary: "A stand-in department: signs for and finishes each dispatch after a delay (returns a share), reports on site when summoned.",
        settings: [
            .init("sign_after", "签收 this long after a dispatch (200ms, 2s; default 200ms)"),
            .init("finish_after", "办结 this long after signing (default 1s)"),
            .init("return_probability", "share of dispatches returned (退单), 0…1 (default 0)"),
            .init("report_after", "on site this long after a SUMMON, or never (default 1s)"),
        ],
        make: { (settings: PluginSettings, context: PluginDescriptor.Context) throws(ConfigErrors) -> any DepartmentPlugin in
            let s = try settings.decode(Settings.self)
            var errors: [ConfigError] = []
            func duration(_ text: String?, _ key: String, _ fallback: Double) -> Double {
                guard let text else { return fallback }
                if let v = AdapterConfig.seconds(text) { return v }
                errors.append(settings.error(at: [key], "\"\(text)\" is not a duration like 200ms, 2s, 1m"))
                return fallback
            }
            let sign = duration(s.sign_after, "sign_after", 0.2), finish = duration(s.finish_after, "finish_after", 1)
            let report: Double? = s.report_after == "never" ? nil : duration(s.report_after, "report_after", 1)
            let p = s.return_probability ?? 0
            if !(0...1).contains(p) { errors.append(settings.error(at: ["return_probability"], "must be between 0 and 1")) }
            guard errors.isEmpty else { throw ConfigErrors(errors: errors) }
            return SimulatedDepartment(signAfter: sign, finishAfter: finish, returnProbability: p, reportAfter: report,
                                       handlerName: "\(context.name) 值班员")
        })

    public func deliver(_ push: Push) async -> Delivery {
        switch push.command {
        case .dispatch:
            guard let d = push.dispatchID else { return .delivered(externalID: nil) }
            // The same dispatch always gets the same answer, however often it is delivered.
            if Double(UInt32(truncatingIfNeeded: d.utf8.reduce(5381) { ($0 &* 33) &+ Int($1) }) % 10_000) / 10_000 < returnProbability {
                return .refused(.notOurDuty, note: "模拟退单 simulated return")
            }
            scheduled.continuation.yield((signAfter, .ack(id: "sim-ack-\(d)", dispatchID: d, handler: handlerName, note: "已签收")))
            scheduled.continuation.yield((signAfter + finishAfter, .resolve(id: "sim-done-\(d)", dispatchID: d, result: "已处置完毕 handled", note: "模拟办结 simulated")))
            return .delivered(externalID: "SIM-\(d)")
        case .summon:
            guard let reportAfter, let w = (try? JSONSerialization.jsonObject(with: Data(push.body)) as? [String: Any])?["whistle_id"] as? String
            else { return .delivered(externalID: nil) }
            scheduled.continuation.yield((0, .report(id: "sim-enroute-\(w)", whistleID: w, status: .enRoute, note: "\(handlerName) 已出发")))
            scheduled.continuation.yield((reportAfter, .report(id: "sim-onsite-\(w)", whistleID: w, status: .onSite, note: "\(handlerName) 已到场")))
            return .delivered(externalID: nil)
        default:
            return .delivered(externalID: nil)
        }
    }

    /// Each scheduled act at its time (the department's handling time, not a synchronisation).
    public func updates(_ acts: ActSink) async throws {
        await withTaskGroup(of: Void.self) { group in
            for await (delay, act) in scheduled.stream {
                group.addTask {
                    if delay > 0 { try? await Task.sleep(nanoseconds: UInt64(delay * 1e9)) }
                    try? await acts.send(act)
                }
            }
        }
    }
}
