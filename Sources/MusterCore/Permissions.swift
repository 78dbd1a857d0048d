import MusterWire

/// Which roles may send which command (PROTOCOL.md; issue 4 tightens it with keys).
public enum Permissions {
    public static let table: [Command: Set<Role>] = [
        .submit: [.intake, .grid, .ops],
        .ack: [.agency], .progress: [.agency], .resolve: [.agency], .return: [.agency], .extend: [.agency, .ops], .backlog: [.agency, .ops],
        .assign: [.ops], .reject: [.ops], .mode: [.ops],
        .verify: [.grid, .ops],
        .evaluate: [.intake, .ops],
        .whistle: [.grid, .ops], .standDown: [.grid, .ops], .report: [.agency],
        .query: Set(Role.allCases), .subscribe: Set(Role.allCases),
    ]

    public static func allows(_ roles: Set<Role>, _ command: Command) -> Bool {
        guard let allowed = table[command] else { return true }
        return !allowed.isDisjoint(with: roles)
    }
}
