import MusterCore

enum RoutingLoader {
    /// The file's own problems (syntax, types, unknown keys), when grids.yaml is too broken to check the rest.
    static func parseOnly(_ path: String) -> [ConfigError] {
        do { _ = try YAMLFile(path: path).decode(RoutingFile.self); return [] } catch { return error.errors }
    }

    static func load(_ path: String, grids: GridMap) -> Result<Routing, ConfigErrors> {
        let yaml: YAMLFile, file: RoutingFile
        do {
            yaml = try YAMLFile(path: path)
            file = try yaml.decode(RoutingFile.self)
        } catch { return .failure(error) }
        var errors: [ConfigError] = []
        var agencies: Set<String> = []
        for (i, a) in file.agencies.enumerated() {
            let keys: [YAMLFile.Key] = [.name("agencies"), .index(i), .name("code")]
            if !agencies.insert(a.code).inserted { errors.append(yaml.error(at: keys, "agency \"\(a.code)\" is listed twice")) }
            if a.code.contains(",") || a.code.contains(" ") || a.code.isEmpty {
                errors.append(yaml.error(at: keys, "agency codes are single words without commas or spaces"))
            }
        }
        func checkAgency(_ code: String, _ keys: [YAMLFile.Key]) {
            if !agencies.contains(code) { errors.append(yaml.error(at: keys, "unknown agency \"\(code)\"\(Spelling.hint(code, in: agencies.sorted()))")) }
        }
        var seen: Set<String> = []
        var categories: [Routing.Category] = []
        for (i, c) in file.categories.enumerated() {
            let base: [YAMLFile.Key] = [.name("categories"), .index(i)]
            if !seen.insert(c.code).inserted { errors.append(yaml.error(at: base + [.name("code")], "category \"\(c.code)\" is listed twice")) }
            if c.code == Routing.unclassified { errors.append(yaml.error(at: base + [.name("code")], "\"unclassified\" is reserved for the triage queue")) }
            checkAgency(c.lead, base + [.name("lead")])
            for (j, a) in (c.assists ?? []).enumerated() { checkAgency(a, base + [.name("assists"), .index(j)]) }
            for (j, o) in (c.overrides ?? []).enumerated() {
                let ob = base + [.name("overrides"), .index(j)]
                if !grids.exists(o.grid) { errors.append(yaml.error(at: ob + [.name("grid")], "unknown grid \"\(o.grid)\"")) }
                checkAgency(o.lead, ob + [.name("lead")])
                for (k, a) in (o.assists ?? []).enumerated() { checkAgency(a, ob + [.name("assists"), .index(k)]) }
            }
            for (j, a) in (c.fallbacks ?? []).enumerated() { checkAgency(a, base + [.name("fallbacks"), .index(j)]) }
            for (j, k) in (c.keywords ?? []).enumerated() where k.isEmpty {
                errors.append(yaml.error(at: base + [.name("keywords"), .index(j)], "empty keyword matches everything"))
            }
            categories.append(Routing.Category(
                code: c.code, name: c.name, lead: c.lead, assists: c.assists ?? [], keywords: c.keywords ?? [],
                overrides: (c.overrides ?? []).map { Routing.Override(grid: $0.grid, lead: $0.lead, assists: $0.assists ?? []) },
                fallbacks: c.fallbacks ?? []))
        }
        guard errors.isEmpty else { return .failure(ConfigErrors(errors: errors)) }
        return .success(Routing(agencies: file.agencies.map { Routing.Agency(code: $0.code, name: $0.name, contactsReporters: $0.contacts_reporters ?? false) },
                                categories: categories))
    }
}
