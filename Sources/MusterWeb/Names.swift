import MusterCore

/// The Chinese names the screen shows, from the broker's own config (routing.yaml, grids.yaml):
/// the same names the broker, the CLI and the department consoles use.
public struct Names: Sendable {
    public let grids: GridMap
    public let routing: Routing

    public init(grids: GridMap, routing: Routing) { self.grids = grids; self.routing = routing }

    /// "城管" for chengguan (routing.yaml's name up to its first blank: "城管 urban management").
    public func agency(_ code: String) -> String {
        guard let name = routing.agencies[code]?.name else { return code }
        return String(name.split(separator: " ").first ?? Substring(name))
    }

    public func category(_ code: String) -> String { routing.categories[code]?.name ?? code }

    /// The grid's own name and its street's: "解放路街道 · 第一网格".
    public func place(_ grid: String) -> String {
        if let d = grids.dedicated[grid] { return d.name }
        let parts = grids.displayName(grid).components(separatedBy: " / ")
        return parts.count > 2 ? parts.dropFirst(2).joined(separator: " · ") : parts.joined(separator: " · ")
    }

    /// Intake channels (案件来源) as the centre names them.
    public static let sources: [(code: String, name: String)] = [
        ("hotline_12345", "12345热线"), ("petition", "信访"), ("grid_patrol", "网格巡查"), ("citizen_app", "市民随手拍"),
        ("inspector", "督查巡查"), ("camera", "视频监控"), ("sensor", "物联感知"),
    ]

    public static let states: [String: String] = [
        "triage": "研判", "consultation": "会商", "dispatched": "已派单", "handling": "处置中", "finished": "已办结",
        "verified": "已核实", "closed": "已结案", "rejected": "不予受理", "merged": "已并案",
    ]
}
