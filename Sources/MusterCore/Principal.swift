import MusterWire

/// What a CURVE key may claim on the bus (config/peers.yaml): adapter ids (globs), roles and
/// agencies. The broker's ZAP handler admits only known keys; HELLO must fit the key's principal.
public struct Principal: Sendable, Equatable {
    public var name: String
    public var publicKey: String
    public var adapters: [String]
    public var roles: Set<Role>
    /// Agency codes it may act for (as `agency` or `supervisor`); `*` for any.
    public var agencies: [String]

    public init(name: String, publicKey: String, adapters: [String], roles: Set<Role>, agencies: [String]) {
        self.name = name; self.publicKey = publicKey; self.adapters = adapters; self.roles = roles; self.agencies = agencies
    }

    /// nil if the HELLO fits; else the `forbidden` refusal saying what does not.
    public func refusal(of h: Hello) -> WireError? {
        if !adapters.contains(where: { SLAPolicy.glob($0, h.adapter) }) {
            return WireError(.forbidden, "key \(name) may not be adapter \"\(h.adapter)\" (allowed: \(adapters.joined(separator: ", ")))", field: "adapter")
        }
        let extra = Set(h.roles).subtracting(roles)
        if !extra.isEmpty {
            return WireError(.forbidden, "key \(name) may not take roles \(extra.map(\.rawValue).sorted())", field: "roles")
        }
        if h.roles.contains(.agency) || h.roles.contains(.supervisor), !agencies.contains("*") {
            // A supervisor without an agency watches every department: only for a key with "*".
            guard let a = h.agency else {
                return WireError(.forbidden, "key \(name) must name its agency (it may act for \(agencies.joined(separator: ", ")))", field: "agency")
            }
            if !agencies.contains(a) {
                return WireError(.forbidden, "key \(name) may not act for agency \"\(a)\"", field: "agency")
            }
        }
        return nil
    }
}
