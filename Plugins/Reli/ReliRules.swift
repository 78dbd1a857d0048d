import Foundation
import Logging
import MusterAdapterKit
import MusterWire
import WebhookDepartment

/// 热力's work on the bus: 暖气不热 is the heating company's only in the heating season (sla.yaml's
/// `heating_season`), and is finished only when a room temperature measured in the home reaches
/// the standard (18 ℃); a leak is a leak in any month. Outages the company reports are known
/// incidents that the reports they cause join.
public struct ReliRules: DepartmentRules {
    let settings: ReliSettings
    let outages: (any OutageSource)?
    let logger: Logger
    let now: @Sendable () -> Date

    init(_ settings: ReliSettings, outages: (any OutageSource)? = nil, logger: Logger = Logger(label: "muster.reli"),
         now: @escaping @Sendable () -> Date = Date.init) {
        self.settings = settings
        self.outages = outages ?? settings.outages.map { OutageFeed(url: $0.url, secret: $0.secret, timeout: $0.timeout) }
        self.logger = logger
        self.now = now
    }

    static func category(of dispatch: [String: Any]?) -> String? { (dispatch?["case"] as? [String: Any])?["category"] as? String }

    /// The season today is in (the local day the dispatch is screened: the day its clocks start,
    /// as the broker's `season: heating` rule reads it), or nil.
    func currentSeason() -> HeatingSeason? { settings.seasons.season(of: HeatingSeason.Day(now(), in: settings.zone)) }

    // MARK: out of season

    /// 暖气不热 outside every heating season: returned (退单) as not the company's duty, with the season.
    public func screen(_ dispatch: [String: Any]) async -> Delivery? {
        guard let c = Self.category(of: dispatch), settings.notWarmCategories.contains(c), currentSeason() == nil else { return nil }
        return .refused(.notOurDuty, note: offSeasonNote())
    }

    func offSeasonNote() -> String {
        let today = HeatingSeason.Day(now(), in: settings.zone)
        let span: String
        if let next = settings.seasons.next(after: today) { span = "下一供暖季 \(next.text)" }
        else if let last = settings.seasons.last(before: today) { span = "上一供暖季 \(last.text)" }
        else { span = "未公布供暖季" }
        return "非供暖季（\(span)），暖气不热不属供热单位处置范围，退回研判；如为暖气漏水请按暖气漏水报修"
    }

    public func workOrderFields(_ dispatch: [String: Any]) async -> [String: Any] {
        guard let c = Self.category(of: dispatch), settings.heatingCategories.contains(c) else { return [:] }
        var fields: [String: Any]
        if let season = currentSeason() { fields = ["in_season": true, "heating_season": season.json] } else { fields = ["in_season": false] }
        if settings.notWarmCategories.contains(c) {
            let t = Self.degrees(settings.minRoomTemperature)
            fields["min_room_temperature"] = settings.minRoomTemperature
            fields["finish_needs"] = "办结须入户测温，实测室温（room_temperature）不低于\(t)℃"
        }
        return fields
    }

    // MARK: the measured room temperature

    enum Reading: Equatable {
        case missing
        case notANumber
        case degrees(Double)
    }

    static func reading(_ update: [String: Any]) -> Reading {
        switch update["room_temperature"] {
        case nil, is NSNull: return .missing
        case let s as String: return Double(s.trimmingCharacters(in: .whitespaces)).map(Reading.degrees) ?? .notANumber
        case let n as NSNumber: return .degrees(n.doubleValue)
        default: return .notANumber
        }
    }

    /// 19.5 → "19.5", 20 → "20".
    static func degrees(_ t: Double) -> String { String(format: "%g", t) }

    public func check(_ update: [String: Any], meaning: StatusMap.Meaning, subject: String, dispatch: [String: Any]?) throws(StatusMap.Refusal) {
        let category = Self.category(of: dispatch)
        // A dispatch the adapter no longer keeps: its category is unknown, but a reading given is still checked.
        let notWarm = category.map(settings.notWarmCategories.contains)
        guard notWarm != false else { return }
        let reading = Self.reading(update)
        switch reading {
        case .missing:
            guard meaning == .resolve, notWarm == true else { return }
            throw StatusMap.Refusal(field: "room_temperature", message:
                "办结需填写入户实测室温 room_temperature（℃）：暖气不热须入户测温达到\(Self.degrees(settings.minRoomTemperature))℃方可办结")
        case .notANumber:
            throw StatusMap.Refusal(field: "room_temperature", message: "room_temperature 须为数字（℃），如 19.5")
        case .degrees(let t):
            let plausible = ReliSettings.plausibleRoomTemperature
            guard plausible.contains(t) else {
                throw StatusMap.Refusal(field: "room_temperature", message:
                    "实测室温 \(Self.degrees(t))℃ 不在 \(Self.degrees(plausible.lowerBound))–\(Self.degrees(plausible.upperBound))℃ 的合理范围内，请核对测温记录")
            }
            guard meaning == .resolve, t < settings.minRoomTemperature else { return }
            let min = Self.degrees(settings.minRoomTemperature)
            throw StatusMap.Refusal(field: "room_temperature", message:
                "实测室温 \(Self.degrees(t))℃ 低于 \(min)℃（郑州市城市供热与用热管理办法：供热期间室温不低于\(min)℃），不能办结：请整改后复测")
        }
    }

    /// The reading into the record: a finish's result (a progress's note) says
    /// "入户实测室温 19.5℃", so the case's log keeps what the finish was judged by.
    public func amend(_ update: [String: Any], meaning: StatusMap.Meaning, dispatch: [String: Any]?) -> [String: Any] {
        guard case .degrees(let t) = Self.reading(update), meaning == .resolve || meaning == .progress else { return update }
        let measured = "入户实测室温 \(Self.degrees(t))℃"
        let key = meaning == .resolve ? "result" : "note"
        var out = update
        let before = (update[key] as? String).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
        out[key] = before.isEmpty ? measured : (before.contains(measured) ? before : "\(before)；\(measured)")
        return out
    }

    // MARK: outages

    /// Polls the company's outage feed for the adapter's life; each outage an incident act.
    public func run(_ acts: ActSink) async throws {
        guard let outages, let every = settings.outages?.every else { return }
        while !Task.isCancelled {
            do {
                try await pollOutages(outages, acts)
            } catch is CancellationError {
                return
            } catch {
                logger.warning("reading the heating company's outages failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(nanoseconds: UInt64(every * 1e9))
        }
    }

    /// One read of the feed: every outage's act, queued together (repeats of earlier reads dropped by id).
    func pollOutages(_ source: any OutageSource, _ acts: ActSink) async throws {
        var made: [Act] = []
        for entry in try await source.outages() {
            switch entry {
            case .success(let o): made.append(o.act(categories: settings.outageCategories, zone: settings.zone, now: now()))
            case .failure(let why): logger.warning("an outage in the company's feed is left out", metadata: ["why": "\(why)"])
            }
        }
        guard !made.isEmpty else { return }
        let new = try await acts.send(made, cursor: nil)
        if new > 0 { logger.info("outages declared or ended as known incidents", metadata: ["acts": "\(new)"]) }
    }
}
