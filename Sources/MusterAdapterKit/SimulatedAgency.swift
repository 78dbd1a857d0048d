import Foundation
import MusterWire

/// A stand-in department until its real plugin exists: signs for each dispatch after a delay,
/// reports progress, then finishes it — or returns it with some probability. Summoned by a
/// whistle, it sets out at once and is on site after `reportAfter` (nil: it never comes, so the
/// whistle's ladder can be seen).
public struct SimulatedAgency: AgencyHandler {
    public var signAfter: Double
    public var progressAfter: Double?
    public var finishAfter: Double
    public var returnProbability: Double
    public var handlerName: String
    public var reportAfter: Double?

    public init(signAfter: Double, progressAfter: Double? = nil, finishAfter: Double, returnProbability: Double, handlerName: String,
                reportAfter: Double? = 1) {
        self.signAfter = signAfter; self.progressAfter = progressAfter; self.finishAfter = finishAfter
        self.returnProbability = returnProbability; self.handlerName = handlerName; self.reportAfter = reportAfter
    }

    /// The summons is taken (RECEIVED) at once; the reports follow on their own.
    public func summoned(_ s: SummonMessage, desk: AgencyDesk) async {
        guard let reportAfter else { return }
        Task {
            await desk.report(s.whistleID, .enRoute, note: "\(handlerName) 已出发")
            await pause(reportAfter)
            await desk.report(s.whistleID, .onSite, note: "\(handlerName) 已到场")
        }
    }

    public func received(_ d: DispatchMessage, desk: AgencyDesk) async {
        await pause(signAfter)
        // Returns come early, within the window, as a real department's would.
        if Double.random(in: 0..<1) < returnProbability {
            await desk.giveBack(d.dispatchID, reason: .notOurDuty, note: "模拟退单 simulated return")
            return
        }
        await desk.ack(d.dispatchID, handler: handlerName, note: "已签收")
        if let progressAfter {
            await pause(progressAfter)
            await desk.progress(d.dispatchID, note: "处置中 on site")
        }
        await pause(finishAfter)
        await desk.resolve(d.dispatchID, result: "已处置完毕 handled", note: "模拟办结 simulated")
    }

    /// Simulated handling time (the downstream's, not a synchronisation).
    private func pause(_ seconds: Double) async {
        guard seconds > 0 else { return }
        try? await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
    }
}
