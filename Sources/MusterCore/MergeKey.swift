import Foundation
import MusterWire

/// What makes reports the same problem (`Ledger.mergeKey`): the open case a report joins is
/// found by it in memory (`Ledger.openByMergeKey`) and in the store (`cases.merge_key`).
///
/// Compared and hashed by its UTF-8 bytes, as SQLite compares that column. A String hashes by
/// its Unicode canonical form, which for a Chinese address walks a normalising iterator (~3,500
/// instructions a probe, twice a SUBMIT), and would join in memory two spellings of an address
/// that the store keeps apart once the case has left memory.
public struct MergeKey: Hashable, Sendable, CustomStringConvertible {
    public let text: String

    public init(_ text: String) { self.text = text }

    public static func == (a: MergeKey, b: MergeKey) -> Bool {
        a.bytes { x in b.bytes { y in x.count == y.count && (x.count == 0 || memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0) } }
    }

    public func hash(into hasher: inout Hasher) {
        bytes { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }

    public var description: String { text }

    private func bytes<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R { text.withUTF8Bytes(body) }
}
