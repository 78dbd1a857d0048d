import MusterCore

/// The shapes of the YAML files in config/, as written by administrators. Decoded strictly
/// (YAMLFile.decode): these structs are the only record of which keys each place takes.

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
        var rate_limit: RateLimit?
    }
    struct RateLimit: Decodable {
        var per_second: Double
        var burst: Int
    }
    var broker: Broker
    var routing: String?
    var grids: String?
    var sla: String?
    var classifier: Classifier?
    var security: Security?

    /// 智能派单: where the training examples are, and how sure the classifier must be.
    struct Classifier: Decodable {
        /// A folder of YAML files, each `category_code: [example, …]` (config/classifier).
        var examples: String?
        /// Below this confidence a SUBMIT without a category goes to triage (0 < t ≤ 1).
        var threshold: Double?
    }

    struct Security: Decodable {
        /// The broker's key file (`muster keys gen broker`).
        var server_key: String
        /// config/peers.yaml: who may join.
        var peers: String
    }
}

/// config/routing.yaml
struct RoutingFile: Decodable {
    struct Agency: Decodable {
        var code: String
        var name: String
        var supervisor: String?
        var contacts_reporters: Bool?
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
        /// Its outline for the centre's screen: [[lon, lat], …] (WGS-84 degrees), at least 3 corners.
        var area: [[Double]]?
    }
    struct Dedicated: Decodable {
        var code: String
        var name: String
        var members: [String]
        /// 成员单位: the departments its whistle summons (agency codes of routing.yaml).
        var units: [String]?
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

/// config/calendar/cn-YYYY.yaml
struct CalendarFile: Decodable {
    struct Span: Decodable { var from: String; var to: String }
    struct Holiday: Decodable {
        var name: String
        /// Not `off`, which YAML 1.1 reads as false.
        var days_off: Span
        var workdays: [String]?
    }
    struct Hours: Decodable {
        var season: String
        var from: String
        var to: String
        var hours: [String]
    }
    var year: Int
    var holidays: [Holiday]
    var working_hours: [Hours]?
}

/// A key that takes one value or a list.
struct OneOrMany: Decodable {
    var values: [String]
    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let one = try? c.decode(String.self) { values = [one] } else { values = try c.decode([String].self) }
    }
}

/// config/sla.yaml
struct SLAFile: Decodable {
    struct Span: Decodable { var from: String; var to: String }
    /// The clock windows any rule, default or mode may set.
    struct Windows: Decodable {
        var triage_within: String?
        var ack_within: String?
        var return_within: String?
        var resolve_within: String?
        var verify_within: String?
        var evaluate_within: String?
        var whistle_within: String?
        var transfer_within: String?
        var notify_within: String?
        var review_request_within: String?
        var review_within: String?
        var recheck_request_within: String?
        var recheck_within: String?

        /// The exhaustive switch makes a new clock fail to compile until its key exists here.
        subscript(clock: ClockKind) -> String? {
            switch clock {
            case .triage: triage_within
            case .ack: ack_within
            case .return: return_within
            case .resolve: resolve_within
            case .verify: verify_within
            case .evaluate: evaluate_within
            case .whistle: whistle_within
            case .incident: nil  // set by each INCIDENT (notify_after), not by sla.yaml
            case .milestone: nil  // each stage's own `within` (a rule's `milestones`)
            case .transfer: transfer_within
            case .notify: notify_within
            case .reviewRequest: review_request_within
            case .review: review_within
            case .recheckRequest: recheck_request_within
            case .recheck: recheck_within
            }
        }
    }
    /// A rule or a mode: its own keys and the `*_within` keys side by side in one mapping.
    struct WithWindows<Body: Decodable>: Decodable {
        var body: Body
        var windows: Windows
        init(from decoder: Decoder) throws {
            body = try Body(from: decoder)
            windows = try Windows(from: decoder)
        }
    }
    struct Rule: Decodable {
        var name: String
        var category: OneOrMany?
        var priority: OneOrMany?
        var source: OneOrMany?
        var mode: OneOrMany?
        var season: String?
        var grid: OneOrMany?
        var milestones: [Stage]?
    }
    /// A stage of a staged limit: `{name: 停工, within: 4wh}`.
    struct Stage: Decodable { var name: String; var within: String }
    struct Mode: Decodable {
        var scale: Double?
        var whistle_categories: [String]?
    }
    struct Rung: Decodable {
        var at: String
        var notice: String
        var to: [String]
        var level: Int
    }
    struct AutoApprove: Decodable { var max_count: Int; var max_by: String }
    struct Extensions: Decodable { var auto_approve: AutoApprove; var max_total: String }

    var calendar: String?
    var heating_season: [Span]?
    var defaults: Windows
    var rules: [WithWindows<Rule>]?
    var modes: [String: WithWindows<Mode>]?
    var ladders: [String: [Rung]]?
    var extensions: Extensions?
}
