import MusterCore

/// routing.yaml's categories as Open311 services (GET services): `service_code` the category's
/// code, `service_name` its Chinese name, `group` its lead department's Chinese name, `keywords`
/// its classifier keywords; every service `realtime` (the answer to a POST is the case id) and
/// without attributes (`metadata` false). In the file's order, as the centre wrote it.
struct Open311Catalog: Sendable, Equatable {
    struct Service: Sendable, Equatable {
        var code: String
        var name: String
        var group: String
        var description: String
        var keywords: [String]
    }

    var services: [Service]
    /// An agency's code → its Chinese name (`agency_responsible`).
    var agencies: [String: String]

    init(_ routing: Routing) {
        agencies = routing.agencies.mapValues { Self.chinese($0.name) }
        let names = agencies
        let order = routing.keywordOrder + routing.categories.keys.sorted().filter { !routing.keywordOrder.contains($0) }
        services = order.compactMap { routing.categories[$0] }.map { c in
            let lead = names[c.lead] ?? c.lead
            let assists = c.assists.map { names[$0] ?? $0 }
            return Service(code: c.code, name: c.name, group: lead,
                           description: c.name + "：主办 " + lead + (assists.isEmpty ? "" : "，协办 " + assists.joined(separator: "、")),
                           keywords: c.keywords)
        }
    }

    func service(_ code: String) -> Service? { services.first { $0.code == code } }

    /// routing.yaml names an agency "城管 urban management": its Chinese name is the first word.
    static func chinese(_ name: String) -> String {
        String(name.split(separator: " ", maxSplits: 1).first ?? Substring(name))
    }

    /// GET services.
    var document: Open311Document {
        Open311Document(root: "services", item: "service", records: services.map { s in
            [("service_code", .text(s.code)), ("service_name", .text(s.name)), ("description", .text(s.description)),
             ("metadata", .bool(false)), ("type", .text("realtime")), ("keywords", .text(s.keywords.joined(separator: ", "))),
             ("group", .text(s.group))]
        })
    }
}
