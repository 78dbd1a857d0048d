import MusterCore

enum GridsLoader {
    /// 市 → 区 → 街道 → 社区 → 网格 → 微网格, as grids.yaml spells them.
    static let levels = ["city", "district", "street", "community", "grid", "micro_grid"]

    struct Loaded {
        var map: GridMap
        var instances: [GridsFile.Instance]
        /// Each instance's `agency` line, for the check against routing.yaml.
        var agencyLines: [Int?]
        /// Each dedicated grid's units with their lines, for the same check.
        var unitLines: [[(code: String, line: Int?)]] = []
    }

    static func load(_ path: String) throws(ConfigErrors) -> Loaded {
        let yaml = try YAMLFile(path: path)
        let file = try yaml.decode(GridsFile.self)
        var names: [String: String] = [:]
        var areas: [String: [GridMap.Point]] = [:]
        var errors: [ConfigError] = []
        for (i, g) in file.grids.enumerated() {
            let keys: [YAMLFile.Key] = [.name("grids"), .index(i), .name("path")]
            if names[g.path] != nil { errors.append(yaml.error(at: keys, "grid \"\(g.path)\" is listed twice")) }
            if g.path != file.root {
                let parent = g.path.split(separator: "/").dropLast().joined(separator: "/")
                if names[parent] == nil {
                    errors.append(yaml.error(at: keys, "parent grid \"\(parent)\" must be listed before \"\(g.path)\""))
                }
            }
            if let level = g.level, !levels.contains(level) {
                errors.append(yaml.error(at: [.name("grids"), .index(i), .name("level")], "unknown level \"\(level)\"\(Spelling.hint(level, in: levels))"))
            }
            names[g.path] = g.name
            if let area = g.area {
                let at: [YAMLFile.Key] = [.name("grids"), .index(i), .name("area")]
                if area.count < 3 {
                    errors.append(yaml.error(at: at, "an area needs at least 3 corners [[lon, lat], …], not \(area.count)"))
                } else if let bad = area.firstIndex(where: { $0.count != 2 || !(-180...180).contains($0[0]) || !(-90...90).contains($0[1]) }) {
                    errors.append(yaml.error(at: at + [.index(bad)], "a corner is [lon, lat] in degrees (lon −180…180, lat −90…90), not \(area[bad])"))
                } else {
                    areas[g.path] = area.map { GridMap.Point(lon: $0[0], lat: $0[1]) }
                }
            }
        }
        if names[file.root] == nil { errors.append(yaml.error(at: [.name("root")], "the root grid \"\(file.root)\" is not listed under grids")) }
        var dedicated: [GridMap.Dedicated] = []
        for (i, d) in (file.dedicated ?? []).enumerated() {
            if names[d.code] != nil { errors.append(yaml.error(at: [.name("dedicated"), .index(i), .name("code")], "\"\(d.code)\" is also a grid path")) }
            for (j, m) in d.members.enumerated() where names[m] == nil {
                errors.append(yaml.error(at: [.name("dedicated"), .index(i), .name("members"), .index(j)], "unknown grid \"\(m)\""))
            }
            dedicated.append(GridMap.Dedicated(code: d.code, name: d.name, members: d.members, units: d.units ?? []))
        }
        var levels: [String: String] = [:]
        for g in file.grids { if let l = g.level { levels[g.path] = l } }
        var servedBy: [String: [String]] = [:]
        for inst in file.instances ?? [] { servedBy[inst.agency, default: []] += inst.serves }
        var map = GridMap(root: file.root, names: names, dedicated: dedicated, levels: levels, servedBy: servedBy)
        map.areas = areas
        var agencyLines: [Int?] = []
        for (i, inst) in (file.instances ?? []).enumerated() {
            agencyLines.append(yaml.line(at: [.name("instances"), .index(i), .name("agency")]))
            for (j, s) in inst.serves.enumerated() where !map.exists(s) {
                errors.append(yaml.error(at: [.name("instances"), .index(i), .name("serves"), .index(j)], "unknown grid \"\(s)\""))
            }
        }
        if !errors.isEmpty { throw ConfigErrors(errors: errors) }
        let units = (file.dedicated ?? []).enumerated().map { i, d in
            (d.units ?? []).enumerated().map { j, u in (code: u, line: yaml.line(at: [.name("dedicated"), .index(i), .name("units"), .index(j)])) }
        }
        return Loaded(map: map, instances: file.instances ?? [], agencyLines: agencyLines, unitLines: units)
    }
}
