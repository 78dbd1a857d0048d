import MusterCore

enum GridsLoader {
    struct Loaded {
        var map: GridMap
        var instances: [GridsFile.Instance]
        var lines: [Int?]
    }

    static func load(_ path: String) throws(ConfigErrors) -> Loaded {
        let yaml: YAMLFile, file: GridsFile
        do {
            yaml = try YAMLFile(path: path)
            file = try yaml.decode(GridsFile.self)
        } catch { throw ConfigErrors(errors: [error]) }
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
            names[g.path] = g.name
        }
        if names[file.root] == nil { errors.append(yaml.error(at: [.name("root")], "the root grid \"\(file.root)\" is not listed under grids")) }
        var dedicated: [GridMap.Dedicated] = []
        for (i, d) in (file.dedicated ?? []).enumerated() {
            if names[d.code] != nil { errors.append(yaml.error(at: [.name("dedicated"), .index(i), .name("code")], "\"\(d.code)\" is also a grid path")) }
            for (j, m) in d.members.enumerated() where names[m] == nil {
                errors.append(yaml.error(at: [.name("dedicated"), .index(i), .name("members"), .index(j)], "unknown grid \"\(m)\""))
            }
            dedicated.append(GridMap.Dedicated(code: d.code, name: d.name, members: d.members))
        }
        let map = GridMap(root: file.root, names: names, dedicated: dedicated)
        var lines: [Int?] = []
        for (i, inst) in (file.instances ?? []).enumerated() {
            lines.append(yaml.line(at: [.name("instances"), .index(i)]))
            for (j, s) in inst.serves.enumerated() where !map.exists(s) {
                errors.append(yaml.error(at: [.name("instances"), .index(i), .name("serves"), .index(j)], "unknown grid \"\(s)\""))
            }
        }
        if !errors.isEmpty { throw ConfigErrors(errors: errors) }
        return Loaded(map: map, instances: file.instances ?? [], lines: lines)
    }
}
