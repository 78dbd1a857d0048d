/// The error codes of MUSTER/1 (PROTOCOL.md). Stable: peers switch on them.
public enum ErrorCode: String, Codable, Sendable, CaseIterable {
    case badFrame = "bad_frame"
    case badVersion = "bad_version"
    case badJSON = "bad_json"
    case badField = "bad_field"
    case unknownCommand = "unknown_command"
    case notRegistered = "not_registered"
    case forbidden
    case unknownCase = "unknown_case"
    case unknownDispatch = "unknown_dispatch"
    case unknownWhistle = "unknown_whistle"
    case invalidTransition = "invalid_transition"
    case returnRefused = "return_refused"
    case tooLarge = "too_large"
    case rateLimited = "rate_limited"
    case unavailable
    case `internal`
    /// A petition's window for this act closed (复查 asked on day 31).
    case windowClosed = "window_closed"
    /// The same petition after 终结: not accepted again (信访工作条例 Art. 36).
    case repeatPetition = "repeat_petition"
}

/// A refusal: the code, a human message, and the detail peers may act on.
public struct WireError: Error, Equatable, Sendable, CustomStringConvertible {
    public var code: ErrorCode
    public var message: String
    /// `detail.field` for `bad_field`.
    public var field: String?
    /// `detail.state` for `invalid_transition`.
    public var state: String?

    public init(_ code: ErrorCode, _ message: String, field: String? = nil, state: String? = nil) {
        self.code = code
        self.message = message
        self.field = field
        self.state = state
    }

    public static func badField(_ field: String, _ message: String) -> WireError {
        WireError(.badField, message, field: field)
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
