/// The shapes of the YAML files in config/, as written by administrators.

/// config/muster.yaml
struct BrokerFile: Decodable {
    struct Broker: Decodable {
        var name: String?
        var endpoint: String?
        var db: String?
        var synchronous: String?
        var heartbeat: String?
        var resend_after: String?
        var merge_window: String?
    }
    struct Deadlines: Decodable {
        var ack_within: [String: String]?
        var resolve_within: [String: String]?
        var return_within: String?
    }
    var broker: Broker
    var routing: String?
    var grids: String?
    var deadlines: Deadlines?
}

/// config/routing.yaml
struct RoutingFile: Decodable {
    struct Agency: Decodable {
        var code: String
        var name: String
        var supervisor: String?
    }
    struct Override: Decodable {
        var grid: String
        var lead: String
        var assists: [String]?
    }
    struct Category: Decodable {
        var code: String
        var name: String
        var lead: String
        var assists: [String]?
        var keywords: [String]?
        var overrides: [Override]?
        var fallbacks: [String]?
    }
    var agencies: [Agency]
    var categories: [Category]
}

/// config/grids.yaml
struct GridsFile: Decodable {
    struct Grid: Decodable {
        var path: String
        var name: String
        var level: String?
    }
    struct Dedicated: Decodable {
        var code: String
        var name: String
        var members: [String]
    }
    struct Instance: Decodable {
        var adapter: String
        var agency: String
        var serves: [String]
    }
    var root: String
    var grids: [Grid]
    var dedicated: [Dedicated]?
    var instances: [Instance]?
}
