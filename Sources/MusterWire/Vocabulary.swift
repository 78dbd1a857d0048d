/// The closed vocabularies of MUSTER/1. Unknown values are `bad_field`.

public enum Role: String, Codable, Sendable, CaseIterable {
    case agency, intake, grid, ops, supervisor, monitor
}

public enum Source: String, Codable, Sendable, CaseIterable {
    case hotline12345 = "hotline_12345", petition, gridPatrol = "grid_patrol"
    case citizenApp = "citizen_app", inspector, camera, sensor
}

public enum Priority: String, Codable, Sendable, CaseIterable {
    case urgent, normal, consult
}

public enum ReturnReason: String, Codable, Sendable, CaseIterable {
    case notOurJurisdiction = "not_our_jurisdiction", notOurDuty = "not_our_duty"
    case insufficientInformation = "insufficient_information", duplicate, other
}

public enum Satisfaction: String, Codable, Sendable, CaseIterable {
    case satisfied, basicallySatisfied = "basically_satisfied", dissatisfied
}

public enum WhistleKind: String, Codable, Sendable, CaseIterable {
    case emergency, enforcement, residentConcern = "resident_concern"
}

public enum ReportStatus: String, Codable, Sendable, CaseIterable {
    case enRoute = "en_route", onSite = "on_site"
}

public enum ManagementMode: String, Codable, Sendable, CaseIterable {
    case normal, holiday, majorEvent = "major_event", emergency
}
