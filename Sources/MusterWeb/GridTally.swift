import Foundation
import MusterCore

/// Open and overdue cases counted where the map draws them: by 街道 (a case deeper in the tree
/// counts for its street), and again for each 专属网格 its street lies in. A case placed above
/// street level (a district, the city) counts for none of them, under `elsewhere`. Pure.
public struct GridTally: Sendable, Equatable {
    public struct Count: Sendable, Equatable {
        public var open = 0
        public var overdue = 0
        public init(open: Int = 0, overdue: Int = 0) { self.open = open; self.overdue = overdue }
    }

    public var streets: [String: Count] = [:]
    public var dedicated: [String: Count] = [:]
    public var elsewhere = Count()
    public var total = Count()

    /// `open`: case objects of QUERY cases (`grid`, `state`, `resolve_by`).
    public init(_ open: [[String: Any]], grids: GridMap, now: Date) {
        for c in open {
            let grid = c["grid"] as? String ?? ""
            let late = Self.isOverdue(c, now: now)
            func add(_ count: inout Count) { count.open += 1; if late { count.overdue += 1 } }
            add(&total)
            let streets = grids.dedicated[grid] == nil ? grids.ancestors(of: grid, at: "street") : []
            if streets.isEmpty && grids.dedicated[grid] == nil { add(&elsewhere) }
            for s in streets { add(&self.streets[s, default: Count()]) }
            for d in grids.dedicated.values where grid == d.code || streets.contains(where: { s in d.members.contains { GridMap.isPrefix($0, of: s) || GridMap.isPrefix(s, of: $0) } }) {
                add(&dedicated[d.code, default: Count()])
            }
        }
    }

    /// 超期: signed for or not, its handling deadline has passed (as QUERY cases `overdue` counts).
    public static func isOverdue(_ c: [String: Any], now: Date) -> Bool {
        guard ["dispatched", "handling"].contains(c["state"] as? String ?? ""),
              let due = (c["resolve_by"] as? String).flatMap(Time.parse) else { return false }
        return due < now
    }
}
