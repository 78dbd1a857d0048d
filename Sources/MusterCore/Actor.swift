import MusterWire

/// Who sent a command: the registered session's claims (checked against its key by the shell).
public struct Actor: Sendable, Equatable {
    public var adapter: String
    public var roles: Set<Role>
    public var agency: String?

    public init(adapter: String, roles: Set<Role>, agency: String? = nil) {
        self.adapter = adapter; self.roles = roles; self.agency = agency
    }

    /// The broker itself (timers, re-routing).
    public static let broker = Actor(adapter: "broker", roles: [.ops])
}
