/// Which department owns a case, by category and grid cell (config/routing.yaml).
public struct Routing: Sendable, Equatable {
    public struct Agency: Sendable, Equatable {
        public var code: String
        public var name: String
        /// Whether its DISPATCHes carry the reporter's name and phone unmasked.
        public var contactsReporters: Bool
        public init(code: String, name: String, contactsReporters: Bool = false) {
            self.code = code; self.name = name; self.contactsReporters = contactsReporters
        }
    }

    /// A category's owners, possibly different inside some grids.
    public struct Category: Sendable, Equatable {
        public var code: String
        public var name: String
        public var lead: String
        public var assists: [String]
        /// Words of the category, training text for the classifier (with `name`).
        public var keywords: [String]
        public var overrides: [Override]
        /// Who leads next when the lead (and any override's lead) returned the case.
        public var fallbacks: [String]
        public init(code: String, name: String, lead: String, assists: [String] = [], keywords: [String] = [],
                    overrides: [Override] = [], fallbacks: [String] = []) {
            self.code = code; self.name = name; self.lead = lead; self.assists = assists
            self.keywords = keywords; self.overrides = overrides; self.fallbacks = fallbacks
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
    /// Category codes in file order (listings, training).
    public var keywordOrder: [String]

    public init(agencies: [Agency], categories: [Category]) {
        self.agencies = Dictionary(agencies.map { ($0.code, $0) }, uniquingKeysWith: { a, _ in a })
        self.categories = Dictionary(categories.map { ($0.code, $0) }, uniquingKeysWith: { a, _ in a })
        self.keywordOrder = categories.map(\.code)
    }

    /// The first category, in file order, one of whose keywords `text` contains verbatim.
    public func keywordMatch(_ text: String) -> String? {
        keywordOrder.first { code in categories[code]?.keywords.contains { !$0.isEmpty && text.contains($0) } ?? false }
    }

    /// The lead and assists for a category in a grid. Candidates in order: grid overrides, most
    /// specific first; the category's own lead; its fallbacks. The first whose lead has not
    /// returned the case wins (重新研判、精准派单). nil: the operations centre's triage queue.
    public func owners(category: String, grid: String, grids: GridMap, excluding: [String] = []) -> Owners? {
        guard let c = categories[category] else { return nil }
        // Each override's specificity counted once (it splits a path), and no sort for fewer than
        // two: each call of the sort copied the grid map (a retain of each of its tables), even
        // with nothing to sort.
        var overrides = c.overrides.filter { grids.covers($0.grid, grid) }
        if overrides.count > 1 {
            overrides = overrides.map { (grids.specificity($0.grid), $0) }.sorted { $0.0 > $1.0 }.map(\.1)
        }
        let candidates = overrides.map { Owners(lead: $0.lead, assists: $0.assists) }
            + [Owners(lead: c.lead, assists: c.assists)]
            + c.fallbacks.map { Owners(lead: $0, assists: []) }
        guard let chosen = candidates.first(where: { !excluding.contains($0.lead) }) else { return nil }
        return Owners(lead: chosen.lead, assists: chosen.assists.filter { $0 != chosen.lead && !excluding.contains($0) })
    }
}
