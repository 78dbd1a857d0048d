/// One MUSTER/1 message: `"MUSTER/1"` · `COMMAND` · `BODY` (a JSON object).
public struct Envelope: Sendable, Equatable {
    public static let version = "MUSTER/1"
    public static let versionBytes = Array(version.utf8)
    public static let maxMessageBytes = 1 << 20
    /// What the broker's socket takes at all (ZMQ_MAXMSGSIZE): between the two, a message is
    /// read and answered `too_large`; beyond it the connection is dropped by libzmq.
    public static let hardMessageBytes = 8 << 20

    public var command: Command
    public var body: [UInt8]

    public init(_ command: Command, body: [UInt8]) {
        self.command = command
        self.body = body
    }

    /// The three frames a peer sends (a ROUTER prepends the routing id itself).
    public var frames: [[UInt8]] { [Envelope.versionBytes, Array(command.rawValue.utf8), body] }

    /// Parses the frames of one message (without the routing id). Checks the frame shape, the
    /// version, the size, the command word, and that the body is UTF-8 starting as an object;
    /// the body's fields are checked when it is decoded.
    public static func parse(_ frames: [[UInt8]]) -> Result<Envelope, WireError> {
        let size = frames.reduce(0) { $0 + $1.count }
        if size > maxMessageBytes {
            return .failure(WireError(.tooLarge, "message is \(size) bytes; the limit is \(maxMessageBytes)"))
        }
        guard frames.count == 3 else {
            return .failure(WireError(.badFrame, "expected 3 frames (version, command, body), got \(frames.count)"))
        }
        guard frames[0] == versionBytes else {
            let got = String(decoding: frames[0].prefix(32), as: UTF8.self)
            return .failure(WireError(.badVersion, "expected \(version), got \"\(got)\""))
        }
        let word = String(decoding: frames[1], as: UTF8.self)
        guard let command = Command(rawValue: word), command.isRequest else {
            return .failure(WireError(.unknownCommand, "unknown command \"\(word.prefix(32))\""))
        }
        guard String(validating: frames[2], as: UTF8.self) != nil else {
            return .failure(WireError(.badJSON, "body is not valid UTF-8"))
        }
        guard frames[2].first(where: { !JSONWriter.isSpace($0) }) == UInt8(ascii: "{") else {
            return .failure(WireError(.badJSON, "body must be a JSON object"))
        }
        return .success(Envelope(command, body: frames[2]))
    }
}
