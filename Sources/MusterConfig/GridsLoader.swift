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
        let map = GridMap(root: file.root, names: names, dedicated: dedicated, levels: levels, servedBy: servedBy)
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
