import MusterWire

/// Which roles may send which command (PROTOCOL.md; issue 4 tightens it with keys).
public enum Permissions {
    /// The case commands' own (each declared in its file under Commands/), and the rest.
    public static let table: [Command: Set<Role>] = CaseCommands.roles.merging([
        .query: Set(Role.allCases), .subscribe: Set(Role.allCases),
    ]) { own, _ in own }

    public static func allows(_ roles: Set<Role>, _ command: Command) -> Bool {
        guard let allowed = table[command] else { return true }
        return !allowed.isDisjoint(with: roles)
    }
}
