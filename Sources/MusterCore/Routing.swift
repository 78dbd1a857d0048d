/// Which department owns a case, by category and grid cell (config/routing.yaml).
public struct Routing: Sendable, Equatable {
    public struct Agency: Sendable, Equatable {
        public var code: String
        public var name: String
        public init(code: String, name: String) { self.code = code; self.name = name }
    }

    /// A category's owners, possibly different inside some grids.
    public struct Category: Sendable, Equatable {
        public var code: String
        public var name: String
        public var lead: String
        public var assists: [String]
        /// Free-text words that classify a SUBMIT without a category.
        public var keywords: [String]
        public var overrides: [Override]
        public init(code: String, name: String, lead: String, assists: [String] = [], keywords: [String] = [], overrides: [Override] = []) {
            self.code = code; self.name = name; self.lead = lead; self.assists = assists
            self.keywords = keywords; self.overrides = overrides
        }
    }

    /// Inside `grid` (a path prefix or a dedicated grid), the category goes to another lead.
    public struct Override: Sendable, Equatable {
        public var grid: String
        public var lead: String
        public var assists: [String]
        public init(grid: String, lead: String, assists: [String] = []) {
            self.grid = grid; self.lead = lead; self.assists = assists
        }
    }

    public struct Owners: Sendable, Equatable {
        public var lead: String
        public var assists: [String]
    }

    /// The category of cases nothing classifies: they go to the triage queue.
    public static let unclassified = "unclassified"

    public var agencies: [String: Agency]
    public var categories: [String: Category]
    /// Keyword rules in file order, so that the first match wins predictably.
    public var keywordOrder: [String]

    public init(agencies: [Agency], categories: [Category]) {
        self.agencies = Dictionary(agencies.map { ($0.code, $0) }, uniquingKeysWith: { a, _ in a })
        self.categories = Dictionary(categories.map { ($0.code, $0) }, uniquingKeysWith: { a, _ in a })
        self.keywordOrder = categories.map(\.code)
    }

    /// The submitted category if known; else the first category whose keyword the text
    /// contains; else `unclassified`.
    public func classify(category: String?, text: String) -> String {
        if let category { return category }
        for code in keywordOrder {
            if let c = categories[code], c.keywords.contains(where: { text.contains($0) }) { return code }
        }
        return Routing.unclassified
    }

    /// The lead and assists for a category in a grid, passing over agencies that returned it.
    /// nil: the operations centre's triage queue (never unowned).
    public func owners(category: String, grid: String, grids: GridMap, excluding: [String] = []) -> Owners? {
        guard let c = categories[category] else { return nil }
        let override = c.overrides
            .filter { grids.covers($0.grid, grid) }
            .max { grids.specificity($0.grid) < grids.specificity($1.grid) }
        let lead = override?.lead ?? c.lead
        let assists = (override?.assists ?? c.assists).filter { $0 != lead && !excluding.contains($0) }
        guard !excluding.contains(lead) else { return nil }
        return Owners(lead: lead, assists: assists)
    }
}
