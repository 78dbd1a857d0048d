import ArgumentParser
import Foundation
import MusterWire

/// Why a command failed, with the exit code scripts can switch on. The codes follow
/// sysexits.h where one fits (64 usage, 65 data, 66 no input, 69 unavailable, 70 software,
/// 74 I/O, 75 temporary, 76 protocol, 77 permission, 78 config); the broker's refusals get one
/// code per class from 80 up. docs/OPERATIONS.md has the same table.
enum Failure: Int32, CaseIterable {
    case other = 1
    case usage = 64
    case badFile = 65
    case noFile = 66
    case tooLarge = 67
    case unreachable = 69
    case brokerInternal = 70
    case noAnswer = 74
    case retryLater = 75
    case handshakeMismatch = 76
    case keyRefused = 77
    case keyFiles = 78
    case badRequest = 80
    case notAllowed = 81
    case notFound = 82
    case wrongState = 83

    /// One line of `muster --help` (at most 72 characters, so that it is not wrapped).
    var meaning: String {
        switch self {
        case .other: "any other failure (the message says what)"
        case .usage: "usage: unknown option or value (the valid values are listed)"
        case .badFile: "--file is not a JSON object (file:line:column of the problem)"
        case .noFile: "--file does not exist or cannot be read (no such file: PATH)"
        case .tooLarge: "the request is over the broker's 1 MiB limit (not sent; too_large)"
        case .unreachable: "broker unreachable: nothing listens at --endpoint"
        case .brokerInternal: "the broker failed (internal)"
        case .noAnswer: "connected, but no answer within --timeout"
        case .retryLater: "the broker asks to retry later (unavailable, rate_limited)"
        case .handshakeMismatch: "CURVE vs --insecure mismatch, wrong broker key, not a broker"
        case .keyRefused: "the broker refused this CLI's key (not in its peers.yaml)"
        case .keyFiles: "this CLI's key files are missing or malformed"
        case .badRequest: "bad request: bad_field, bad_json, bad_frame, unknown_command, …"
        case .notAllowed: "not allowed: forbidden, not_registered"
        case .notFound: "no such case, dispatch or whistle: unknown_case, unknown_dispatch, unknown_whistle"
        case .wrongState: "not in this state: invalid_transition, return_refused, window_closed, repeat_petition"
        }
    }

    /// The exit code for a broker's ERROR code.
    static func of(_ code: ErrorCode) -> Failure {
        switch code {
        case .badField, .badJSON, .badFrame, .badVersion, .unknownCommand: .badRequest
        case .tooLarge: .tooLarge
        case .forbidden, .notRegistered: .notAllowed
        case .unknownCase, .unknownDispatch, .unknownWhistle: .notFound
        case .invalidTransition, .returnRefused, .windowClosed, .repeatPetition: .wrongState
        case .rateLimited, .unavailable: .retryLater
        case .internal: .brokerInternal
        }
    }

    /// The table for `muster --help`.
    static var helpTable: String {
        "Exit codes (docs/OPERATIONS.md):\n" + ([(Int32(0), "done")] + allCases.map { ($0.rawValue, $0.meaning) })
            .map { "  \(String($0.0).padding(toLength: 4, withPad: " ", startingAt: 0))\($0.1)" }
            .joined(separator: "\n")
    }
}

/// A failure the CLI explains itself: the message goes to stderr as `error: …`, the process
/// exits with the failure's code.
struct CLIFailure: Error, CustomStringConvertible {
    var kind: Failure
    var message: String
    init(_ kind: Failure, _ message: String) { self.kind = kind; self.message = message }
    var description: String { message }
}
