import Crypto
import Foundation
import MusterWire

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

    /// The fields straight from their bytes, gathered into one buffer and hashed with the data
    /// in two updates: a Data made for each field (three strings, three zero bytes) cost more
    /// than hashing them, and so did an update for each (~300 instructions apiece, ten a fact).
    private static func hash(previous: Data, seq: Int64, caseID: String, type: String, at: Int64, actor: String,
                             bytes: UnsafeRawBufferPointer) -> Data {
        var h = SHA256()
        caseID.withUTF8Bytes { caseID in type.withUTF8Bytes { type in actor.withUTF8Bytes { actor in
            let count = previous.count + 16 + caseID.count + type.count + actor.count + 3
            withUnsafeTemporaryAllocation(byteCount: count, alignment: 1) { fields in
                previous.withUnsafeBytes { fields.copyMemory(from: $0) }
                var n = previous.count
                fields.storeBytes(of: seq.bigEndian, toByteOffset: n, as: Int64.self); n += 8
                fields.storeBytes(of: at.bigEndian, toByteOffset: n, as: Int64.self); n += 8
                func put(_ field: UnsafeBufferPointer<UInt8>) {
                    UnsafeMutableRawBufferPointer(rebasing: fields[n...]).copyMemory(from: UnsafeRawBufferPointer(field))
                    n += field.count
                    fields[n] = 0; n += 1
                }
                put(caseID); put(type); put(actor)
                h.update(bufferPointer: UnsafeRawBufferPointer(rebasing: fields[..<n]))
            }
        } } }
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
