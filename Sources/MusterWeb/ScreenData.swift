import Foundation
import MusterAdapterKit
import MusterWire
import Synchronization

/// Everything the screen shows at one moment, read from the broker by QUERY as any monitor
/// would (docs/PROTOCOL.md, QUERY): the open cases, the overdue list, this month's stats, the
/// open whistles. Nil members: the broker did not answer that query in time.
/// (Unchecked: JSON as Foundation reads it; a ScreenData is made and drawn by one request.)
public struct ScreenData: @unchecked Sendable {
    public var now: Date
    /// Open cases (研判 … 已核实): `case_id`, `grid`, `state`, `resolve_by`, `escalation`, `source`, `accepted_at` …
    public var open: [[String: Any]]?
    /// The overdue list, most overdue first, with the rung each reached.
    public var overdue: [[String: Any]]?
    public var overdueTotal: Int?
    /// QUERY stats since the first of the month.
    public var stats: [String: Any]?
    public var whistles: [[String: Any]]?
    /// Cases accepted today, by source.
    public var today: [String: Int]?
    public var health: BrokerLink.Health

    static let openStates = ["triage", "consultation", "dispatched", "handling", "finished", "verified"]

    /// The reads, one after another on the one session (a QUERY is cheap; the broker answers from memory and SQLite).
    public static func read(_ link: BrokerLink, now: Date = Date()) async -> ScreenData {
        var open: [[String: Any]]? = []
        for state in openStates {
            guard let page = await cases(link, { w in w.field("state", state) }) else { open = nil; break }
            open? += page
        }
        let overdue = await cases(link, { w in w.field("overdue", true) })
        let since = Calendar.beijing.startOfMonth(now)
        let stats = await link.query("stats") { w in w.field("since", Time.rfc3339(since)) }.flatMap(result)
        let whistles = await link.query("whistles") { w in w.field("state", "open"); w.field("limit", 200) }.flatMap(result)
        let midnight = Calendar.beijing.startOfDay(for: now)
        var today: [String: Int]?
        if let changed = await cases(link, { w in w.field("updated_since", Time.rfc3339(midnight)) }) {
            today = [:]
            for c in changed where (c["accepted_at"] as? String).flatMap(Time.parse).map({ $0 >= midnight }) == true {
                today?[c["source"] as? String ?? "", default: 0] += 1
            }
        }
        return ScreenData(now: now, open: open, overdue: overdue.map { Array($0.prefix(50)) }, overdueTotal: overdue?.count,
                          stats: stats, whistles: whistles?["whistles"] as? [[String: Any]], today: today, health: link.health)
    }

    /// Every page of a `cases` query (10,000 a page; a city's open cases fit in a few).
    static func cases(_ link: BrokerLink, _ filter: @escaping (inout JSONWriter) -> Void) async -> [[String: Any]]? {
        var all: [[String: Any]] = []
        var after: String?
        repeat {
            let from = after
            guard let r = await link.query("cases", { w in filter(&w); w.field("limit", 10_000); w.field("after", from) }).flatMap(result) else { return nil }
            all += r["cases"] as? [[String: Any]] ?? []
            after = r["next"] as? String
        } while after != nil && all.count < 100_000
        return all
    }

    static func result(_ r: MusterClient.Reply) -> [String: Any]? {
        r.command == .result ? r.json() : nil
    }
}

extension Calendar {
    /// Days and months as the city counts them: in +08:00.
    static let beijing: Calendar = {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = TimeZone(secondsFromGMT: 8 * 3600)!
        return c
    }()

    func startOfMonth(_ d: Date) -> Date { date(from: dateComponents([.year, .month], from: d)) ?? startOfDay(for: d) }
}

/// The screen's reads shared by every page for a moment: each page refreshes after every event,
/// and ten wall screens must not become ten times the QUERYs on the broker's one thread. A read
/// is reused only while no event has come since (`seq`, the feed's last): a page refreshing
/// after an event sees it.
final class ScreenCache: Sendable {
    private let last = Mutex<(data: ScreenData, seq: Int64?)?>(nil)
    let freshFor: TimeInterval

    init(freshFor: TimeInterval = 2) { self.freshFor = freshFor }

    func read(_ link: BrokerLink, seq: Int64?, now: Date = Date()) async -> ScreenData {
        if let l = last.withLock({ $0 }), l.seq == seq, now.timeIntervalSince(l.data.now) < freshFor { return l.data }
        let d = await ScreenData.read(link, now: now)
        last.withLock { $0 = (d, seq) }
        return d
    }
}

/// RFC 3339 in +08:00, as the protocol writes times.
enum Time {
    static func rfc3339(_ d: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(secondsFromGMT: 8 * 3600)
        f.dateFormat = "yyyy-MM-dd'T'HH:mm:ssXXXXX"
        return f.string(from: d)
    }

    static func parse(_ s: String) -> Date? {
        (try? Date(s, strategy: .iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .colon)))
            ?? (try? Date(s, strategy: .iso8601))
    }

    /// "12-02 09:30" in +08:00.
    static func short(_ s: String) -> String {
        guard let d = parse(s) else { return s }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(secondsFromGMT: 8 * 3600)
        f.dateFormat = "MM-dd HH:mm"
        return f.string(from: d)
    }
}
