import Crypto
import Foundation

/// The hash chain over the event log: each row's hash is SHA-256 of the previous row's hash and
/// this row's fields, so an edited, inserted or deleted row breaks every hash after it. The
/// head (last seq and hash) is kept in `meta` to catch a truncated tail.
public enum EventChain {
    public static let genesis = Data(repeating: 0, count: 32)

    public static func hash(previous: Data, seq: Int64, caseID: String, type: String, at: Int64, actor: String, data: Data) -> Data {
        data.withUnsafeBytes { hash(previous: previous, seq: seq, caseID: caseID, type: type, at: at, actor: actor, bytes: $0) }
    }

    public static func hash(previous: Data, seq: Int64, caseID: String, type: String, at: Int64, actor: String, data: [UInt8]) -> Data {
        data.withUnsafeBytes { hash(previous: previous, seq: seq, caseID: caseID, type: type, at: at, actor: actor, bytes: $0) }
    }

    /// The fields straight from their bytes: a Data made for each (three strings, three zero
    /// bytes) cost more than hashing them, for every fact logged.
    private static func hash(previous: Data, seq: Int64, caseID: String, type: String, at: Int64, actor: String,
                             bytes: UnsafeRawBufferPointer) -> Data {
        var h = SHA256()
        previous.withUnsafeBytes { h.update(bufferPointer: $0) }
        withUnsafeBytes(of: seq.bigEndian) { h.update(bufferPointer: $0) }
        withUnsafeBytes(of: at.bigEndian) { h.update(bufferPointer: $0) }
        let zero: UInt8 = 0
        for var field in [caseID, type, actor] {
            field.withUTF8 { h.update(bufferPointer: UnsafeRawBufferPointer($0)) }
            withUnsafeBytes(of: zero) { h.update(bufferPointer: $0) }
        }
        h.update(bufferPointer: bytes)
        return Data(h.finalize())
    }
}

/// One event's place in the chain: its hash, its predecessor's, and whether they and its stored
/// fields agree (`Store.chainLinks`).
public struct ChainLink: Sendable, Equatable {
    public var hash: Data
    public var previous: Data
    public var intact: Bool
    public init(hash: Data, previous: Data, intact: Bool) { self.hash = hash; self.previous = previous; self.intact = intact }
}

/// What checking the chain found: every problem with the seq where it is.
public struct ChainReport: Sendable, CustomStringConvertible {
    public var checked: Int64
    public var problems: [String]
    public var ok: Bool { problems.isEmpty }
    public init(checked: Int64, problems: [String]) { self.checked = checked; self.problems = problems }
    public var description: String {
        ok ? "event log intact: \(checked) events, hash chain verified"
           : "event log BROKEN after checking \(checked) events:\n" + problems.map { "  - " + $0 }.joined(separator: "\n")
    }
}
