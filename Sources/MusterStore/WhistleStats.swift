import Foundation
import MusterCore

/// The two-way scorecard (双考核) of whistles: departments on reporting on time, streets and
/// grids on how they use the whistle.
public struct WhistleStats: Sendable, Equatable {
    public struct Department: Sendable, Equatable {
        public var agency: String
        public var summoned: Int
        /// On site by `report_by`; on site after it; never came (stood down or let go after its
        /// `report_by` without having been on site); let go before its `report_by` (not held
        /// against it); not on site yet (still summoned or on its way).
        public var onTime: Int
        public var late: Int
        public var never: Int
        public var released: Int
        public var waiting: Int
        public var medianToOnSiteMs: Int64?
    }

    public struct Place: Sendable, Equatable {
        /// A grid path (or dedicated code), or a street's path when rolled up.
        public var place: String
        public var blown: Int
        public var byKind: [String: Int]
        /// Stood down; of those, with the case solved (not overridden by the centre).
        public var closed: Int
        public var closedSolved: Int
        /// Whistles at which some department never came (its `never` above).
        public var withNoShow: Int
    }

    public var departments: [Department]
    public var grids: [Place]

    /// By street: each grid's figures added to the street (街道) it lies in. A dedicated grid
    /// (专属网格) coordinates across streets and is counted as one of its own.
    public func streets(_ map: GridMap) -> [Place] {
        var by: [String: Place] = [:]
        for g in grids {
            for street in map.dedicated[g.place] != nil ? [g.place] : map.ancestors(of: g.place, at: "street") {
                var p = by[street] ?? Place(place: street, blown: 0, byKind: [:], closed: 0, closedSolved: 0, withNoShow: 0)
                p.blown += g.blown; p.closed += g.closed; p.closedSolved += g.closedSolved; p.withNoShow += g.withNoShow
                for (k, n) in g.byKind { p.byKind[k, default: 0] += n }
                by[street] = p
            }
        }
        return by.values.sorted { $0.place < $1.place }
    }

    static func median(_ sorted: [Int64]) -> Int64 {
        let n = sorted.count
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
    }
}
