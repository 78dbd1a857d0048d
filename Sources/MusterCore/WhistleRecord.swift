import Foundation
import MusterWire

/// A whistle (吹哨): a grid worker, a street office or the centre summons departments to one
/// place for a problem none can solve alone. It stays open until it is stood down; its case, when
/// it has one, must be finished first (事不完、人不撤).
public struct WhistleRecord: Codable, Sendable, Equatable {
    public var whistleID: String
    public var grid: String
    public var kind: WhistleKind
    public var reason: String
    /// The case it was blown on, if any.
    public var caseID: String?
    /// The adapter that blew it (the street office's or grid worker's peer; `broker` for 应急 mode).
    public var blownBy: String
    /// The street that whistled, told of 督办 with the department's supervisor: the blower when
    /// it is a grid worker's or a street office's peer (grid, supervisor); nil when the centre
    /// blew it (its rungs go to ops instead).
    public var street: String?
    public var blownAt: Date
    /// How long a department has to be on site (报到), from its summons.
    public var reportWithinMs: Int64
    public var state: WhistleState
    public var closedAt: Date?
    /// Stood down while its case was unfinished: the centre's reason (ops override).
    public var override: String?
    /// The departments summoned, in summons order.
    public var summons: [SummonRecord]

    public init(whistleID: String, grid: String, kind: WhistleKind, reason: String, caseID: String?, blownBy: String,
                street: String? = nil, blownAt: Date, reportWithinMs: Int64, state: WhistleState = .open, closedAt: Date? = nil,
                override: String? = nil, summons: [SummonRecord] = []) {
        self.whistleID = whistleID; self.grid = grid; self.kind = kind; self.reason = reason; self.caseID = caseID
        self.blownBy = blownBy; self.street = street; self.blownAt = blownAt; self.reportWithinMs = reportWithinMs; self.state = state
        self.closedAt = closedAt; self.override = override; self.summons = summons
    }

    public func summon(of agency: String) -> SummonRecord? { summons.first { $0.agency == agency } }
}

/// One department summoned by one whistle: its way to the site and off it.
public struct SummonRecord: Codable, Sendable, Equatable {
    /// `W0000000001/chengguan`: a department is summoned once per whistle, so the pair names it.
    public var summonID: String
    public var whistleID: String
    public var agency: String
    public var state: SummonState
    public var summonedAt: Date
    /// On site by then (报到时限).
    public var reportBy: Date
    public var enRouteAt: Date?
    public var onSiteAt: Date?
    /// Stood down or released.
    public var endedAt: Date?
    /// The highest rung reached while it was not on site (1 催办, 2 督办, 3 通报).
    public var escalation: Int?
    /// Its last report's note and position.
    public var note: String?
    public var lat: Double?
    public var lon: Double?

    public init(summonID: String, whistleID: String, agency: String, state: SummonState = .summoned, summonedAt: Date,
                reportBy: Date, enRouteAt: Date? = nil, onSiteAt: Date? = nil, endedAt: Date? = nil, escalation: Int? = nil,
                note: String? = nil, lat: Double? = nil, lon: Double? = nil) {
        self.summonID = summonID; self.whistleID = whistleID; self.agency = agency; self.state = state
        self.summonedAt = summonedAt; self.reportBy = reportBy; self.enRouteAt = enRouteAt; self.onSiteAt = onSiteAt
        self.endedAt = endedAt; self.escalation = escalation; self.note = note; self.lat = lat; self.lon = lon
    }

    public static func id(whistle: String, agency: String) -> String { whistle + "/" + agency }

    /// The two halves of a summon id: `W0000000001/chengguan` → (`W0000000001`, `chengguan`).
    public static func parts(of id: String) -> (whistle: String, agency: String) {
        guard let slash = id.firstIndex(of: "/") else { return (id, "") }
        return (String(id[..<slash]), String(id[id.index(after: slash)...]))
    }

    /// On site by its deadline (counted in 双考核).
    public var onTime: Bool { onSiteAt.map { $0 <= reportBy } ?? false }
}

public enum WhistleState: String, Codable, Sendable, CaseIterable {
    case open, closed
    public var chinese: String { self == .open ? "进行中" : "已撤哨" }
}

public enum SummonState: String, Codable, Sendable, CaseIterable {
    case summoned, enRoute = "en_route", onSite = "on_site", stoodDown = "stood_down", released
    public var chinese: String {
        switch self {
        case .summoned: "已吹哨"
        case .enRoute: "在途"
        case .onSite: "已报到"
        case .stoodDown: "已撤离"
        case .released: "提前解除"
        }
    }
    /// Still owed to the whistle (not stood down or released).
    public var isActive: Bool { self == .summoned || self == .enRoute || self == .onSite }
}
