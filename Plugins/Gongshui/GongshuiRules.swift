import Foundation
import Logging
import MusterAdapterKit
import MusterWire
import WebhookDepartment

/// 供水's work on the bus beyond the webhook's: the company's shut-off notices (停水通知) and
/// unplanned outages are known incidents that the 停水 reports they cause join; each asks the
/// broker to tell the centre if it is still on `emergency_after` it began (应急供水). A planned
/// shut-off published late is declared all the same — the reports must still join it — with the
/// lateness in its cause and a warning in the adapter's log.
public struct GongshuiRules: DepartmentRules {
    let settings: GongshuiSettings
    let notices: any NoticeSource
    let logger: Logger
    let now: @Sendable () -> Date

    init(_ settings: GongshuiSettings, notices: (any NoticeSource)? = nil, logger: Logger = Logger(label: "muster.gongshui"),
         now: @escaping @Sendable () -> Date = Date.init) {
        self.settings = settings
        self.notices = notices ?? NoticeFeed(url: settings.noticesURL, secret: settings.secret, timeout: settings.timeout)
        self.logger = logger
        self.now = now
    }

    /// Reads the notice feed for the adapter's life.
    public func run(_ acts: ActSink) async throws {
        while !Task.isCancelled {
            do {
                try await pollNotices(acts)
            } catch is CancellationError {
                return
            } catch {
                logger.warning("reading the water company's shut-off notices failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(nanoseconds: UInt64(settings.every * 1e9))
        }
    }

    /// The act of one notice now.
    func act(_ notice: ShutOffNotice) -> Act {
        let at = now()
        return notice.act(categories: settings.waterCategories, emergencyAfter: settings.emergencyAfter,
                          lateness: notice.lateness(ahead: settings.noticeAhead, zone: settings.zone, now: at), zone: settings.zone, now: at)
    }

    /// One read of the feed. Each notice's act is queued on its own: the feed is a snapshot with
    /// no cursor, so nothing ties them together, and a new one can be told apart from a repeat
    /// (the late-notice warning is logged once, when the incident is first queued).
    func pollNotices(_ acts: ActSink) async throws {
        for entry in try await notices.notices() {
            guard case .success(let notice) = entry else {
                if case .failure(let why) = entry { logger.warning("a notice in the company's feed is left out", metadata: ["why": "\(why)"]) }
                continue
            }
            guard try await acts.send([act(notice)], cursor: nil) > 0 else { continue }
            if notice.ended {
                logger.info("shut-off over: incident ended", metadata: ["notice": "\(notice.id)"])
                continue
            }
            logger.info("shut-off declared as a known incident", metadata: ["notice": "\(notice.id)", "kind": "\(notice.kind.rawValue)"])
            if let late = notice.lateness(ahead: settings.noticeAhead, zone: settings.zone, now: now()) {
                logger.warning("a planned shut-off was not announced in time; declared all the same",
                               metadata: ["notice": "\(notice.id)", "why": "\(late)"])
            }
        }
    }
}
