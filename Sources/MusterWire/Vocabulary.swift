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

/// What the petition office, the handling unit or the petitioner does to a petition (PETITION).
public enum PetitionActKind: String, Codable, Sendable, CaseIterable {
    /// A document served on the petitioner, with its date (告知).
    case notify
    /// The unit the petition was forwarded to says it is not responsible (Art. 23).
    case object
    /// The petition office rules on that objection: `agree` returns it, otherwise the unit handles it.
    case rule
    /// The petitioner asks for 复查 (Art. 35) or 复核 (Art. 36).
    case requestReview = "request_review", requestRecheck = "request_recheck"
    /// A petition merged as a repeat (Art. 19): the operator confirms it, or splits it off to be handled on its own.
    case confirmRepeat = "confirm_repeat", splitRepeat = "split_repeat"
}

/// The documents served on a petitioner, each an act with its date.
public enum PetitionNoticeKind: String, Codable, Sendable, CaseIterable {
    /// 受理告知书 (转送/交办告知): registered and forwarded to the unit named.
    case acceptance
    /// 延期告知: the handling extended, and why.
    case `extension`
    /// 答复意见书 (书面答复意见): the unit's written reply; the 复查 window opens.
    case reply
    /// 复查意见书: the next-higher unit's review; the 复核 window opens.
    case review
    /// 复核意见书: the re-check; the petition is 终结.
    case recheck

    public var chinese: String {
        switch self {
        case .acceptance: "受理告知书"
        case .extension: "延期告知书"
        case .reply: "答复意见书"
        case .review: "复查意见书"
        case .recheck: "复核意见书"
        }
    }
}
