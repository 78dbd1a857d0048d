/// The grid hierarchy (市 → 区县 → 街道 → 社区 → 网格 → 微网格) as slash-separated paths, plus
/// dedicated grids (专属网格) that span several branches of the tree.
public struct GridMap: Sendable, Equatable {
    public struct Dedicated: Sendable, Equatable {
        public var code: String
        public var name: String
        /// Grid path prefixes the dedicated grid covers, across districts.
        public var members: [String]
        /// The departments that answer its whistle (成员单位), in the order listed.
        public var units: [String]
        public init(code: String, name: String, members: [String], units: [String] = []) {
            self.code = code; self.name = name; self.members = members; self.units = units
        }
    }

    /// Path → Chinese name.
    public var names: [String: String]
    public var dedicated: [String: Dedicated]
    /// The city's root path: the grid of a case that gives none.
    public var root: String
    /// Path → level (`city`, `district`, `street`, …) where grids.yaml gives one.
    public var levels: [String: String]
    /// Agency → the grid prefixes (or dedicated codes) its instances serve (grids.yaml `instances`).
    public var servedBy: [String: [String]]
    /// Path → its outline where grids.yaml draws one (`area`), for the centre's screen; routing never reads it.
    public var areas: [String: [Point]] = [:]

    /// A corner of an outline, in WGS-84 degrees.
    public struct Point: Sendable, Equatable {
        public var lon: Double
        public var lat: Double
        public init(lon: Double, lat: Double) { self.lon = lon; self.lat = lat }
    }

    public init(root: String, names: [String: String], dedicated: [Dedicated] = [], levels: [String: String] = [:],
                servedBy: [String: [String]] = [:]) {
        self.root = root
        self.names = names
        self.levels = levels
        self.servedBy = servedBy
        self.dedicated = Dictionary(dedicated.map { ($0.code, $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// The dedicated grids a grid is, or lies in, by code.
    public func dedicated(covering grid: String) -> [Dedicated] {
        if let d = dedicated[grid] { return [d] }
        return dedicated.values.filter { covers($0.code, grid) }.sorted { $0.code < $1.code }
    }

    /// The agencies with an instance serving the grid (or, for a dedicated grid, any of its members).
    public func agencies(serving grid: String) -> [String] {
        let places = dedicated[grid]?.members ?? [grid]
        return servedBy.filter { _, scopes in
            scopes.contains { scope in scope == grid || places.contains { covers(scope, $0) } }
        }.keys.sorted()
    }

    /// The ancestors of a grid (itself included) at `level`; for a dedicated grid, its members'.
    public func ancestors(of grid: String, at level: String) -> [String] {
        let places = dedicated[grid]?.members ?? [grid]
        var found: [String] = []
        for place in places {
            var prefix = ""
            for seg in place.split(separator: "/") {
                prefix = prefix.isEmpty ? String(seg) : prefix + "/" + seg
                if levels[prefix] == level, !found.contains(prefix) { found.append(prefix) }
            }
        }
        return found
    }

    public func exists(_ path: String) -> Bool { names[path] != nil || dedicated[path] != nil }

    /// Whether `scope` (a path prefix, or a dedicated grid's code) covers `grid`.
    public func covers(_ scope: String, _ grid: String) -> Bool {
        if let d = dedicated[scope] { return d.members.contains { GridMap.isPrefix($0, of: grid) } }
        return GridMap.isPrefix(scope, of: grid)
    }

    /// Path-segment prefix: `zz/erqi` covers `zz/erqi/jiefang` but not `zz/erqi2`.
    public static func isPrefix(_ prefix: String, of path: String) -> Bool {
        // Bytes, not Characters: `count` on a String walks it, and this runs for every rule a
        // dispatch is matched against.
        let p = prefix.utf8, t = path.utf8
        guard t.count >= p.count, t.starts(with: p) else { return false }
        return t.count == p.count || p.isEmpty || t[t.index(t.startIndex, offsetBy: p.count)] == UInt8(ascii: "/")
    }

    /// How specific a scope is, for "most specific rule wins": path depth; dedicated grids count
    /// as deeper than the districts they cross.
    public func specificity(_ scope: String) -> Int {
        if let d = dedicated[scope] { return (d.members.map { $0.split(separator: "/").count }.min() ?? 0) + 1 }
        return scope.split(separator: "/").count
    }

    /// "郑州市 / 二七区 / 解放路街道" for a path.
    public func displayName(_ path: String) -> String {
        if let d = dedicated[path] { return d.name }
        var parts: [String] = []
        var prefix = ""
        for seg in path.split(separator: "/") {
            prefix = prefix.isEmpty ? String(seg) : prefix + "/" + seg
            parts.append(names[prefix] ?? String(seg))
        }
        return parts.joined(separator: " / ")
    }
}
