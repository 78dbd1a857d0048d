import Foundation
import Logging

/// Acts refused as `forbidden` are what a compromised or misconfigured adapter looks like, so they
/// go to the log — per adapter, the first at once with its reason, then a count once a minute, so
/// that a flood of them cannot flood the log.
struct RefusalLog {
    static let windowMs: Int64 = 60_000
    private var windows: [String: (start: Int64, suppressed: Int)] = [:]

    mutating func note(adapter: String, command: String, reason: String, nowMs: Int64, logger: Logger,
                       message: Logger.Message = "forbidden request refused") {
        if let w = windows[adapter], nowMs - w.start < Self.windowMs {
            windows[adapter]!.suppressed += 1
            return
        }
        let before = windows[adapter]?.suppressed ?? 0
        windows[adapter] = (nowMs, 0)
        var metadata: Logger.Metadata = ["adapter": "\(adapter)", "command": "\(command)", "reason": "\(reason)"]
        if before > 0 { metadata["refused_in_previous_minute"] = "\(before)" }
        logger.warning(message, metadata: metadata)
    }
}
