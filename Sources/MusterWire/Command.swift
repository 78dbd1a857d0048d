/// Every COMMAND word of MUSTER/1, in both directions.
public enum Command: String, Sendable, CaseIterable {
    // session
    case hello = "HELLO", welcome = "WELCOME", heartbeat = "HEARTBEAT", bye = "BYE"
    // replies
    case ok = "OK", error = "ERROR", accepted = "ACCEPTED", result = "RESULT"
    // cases
    case submit = "SUBMIT", dispatch = "DISPATCH", received = "RECEIVED"
    case ack = "ACK", progress = "PROGRESS", resolve = "RESOLVE", `return` = "RETURN"
    case extend = "EXTEND", backlog = "BACKLOG", assign = "ASSIGN", reject = "REJECT"
    case verify = "VERIFY", evaluate = "EVALUATE"
    // whistle
    case whistle = "WHISTLE", summon = "SUMMON", report = "REPORT", standDown = "STAND_DOWN"
    // notices, events, queries
    case notice = "NOTICE", subscribe = "SUBSCRIBE", event = "EVENT", query = "QUERY", mode = "MODE"
    // adapters
    case health = "HEALTH"
    // known incidents (已知事件)
    case incident = "INCIDENT", incidentEnd = "INCIDENT_END"
    // petitions (信访)
    case petition = "PETITION"

    /// Commands a peer may send to the broker.
    public var isRequest: Bool {
        switch self {
        case .welcome, .ok, .error, .accepted, .result, .dispatch, .summon, .notice, .event: false
        default: true
        }
    }
}
