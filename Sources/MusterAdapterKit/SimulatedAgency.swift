import Foundation
import MusterWire

/// A stand-in department until its real plugin exists: signs for each dispatch after a delay,
/// reports progress, then finishes it — or returns it with some probability.
public struct SimulatedAgency: AgencyHandler {
    public var signAfter: Double
    public var progressAfter: Double?
    public var finishAfter: Double
    public var returnProbability: Double
    public var handlerName: String

    public init(signAfter: Double, progressAfter: Double? = nil, finishAfter: Double, returnProbability: Double, handlerName: String) {
        self.signAfter = signAfter; self.progressAfter = progressAfter; self.finishAfter = finishAfter
        self.returnProbability = returnProbability; self.handlerName = handlerName
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
