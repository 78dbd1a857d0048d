import Foundation
import MusterWire

/// A text that keys a table of the ledger's (`Ledger.byExternalRef`, and `MergeKey`), compared by
/// its UTF-8 bytes, as SQLite compares the column the same key is looked up by once the case has
/// left memory. A String compares by its Unicode canonical form: for a Chinese address that
/// walks a normalising iterator (~3,500 instructions a probe), and it would match in memory two
/// spellings that the store keeps apart.
///
/// The bytes are hashed once, when the key is made; the table hashes that number. These texts
/// (20–60 bytes) live on the heap, and when a case leaves memory a table moves the keys after
/// it and hashes each again: hashing their text read a cold line for each (the longest-untouched
/// case is evicted at every SUBMIT past the bound).
public struct TextKey: Hashable, Sendable, CustomStringConvertible {
    public let text: String
    /// `text`'s bytes hashed by this process's `Hasher`: the number only lives in memory.
    private let digest: Int

    public init(_ text: String) {
        self.text = text
        var hasher = Hasher()
        text.withUTF8Bytes { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        digest = hasher.finalize()
    }

    public static func == (a: TextKey, b: TextKey) -> Bool {
        a.digest == b.digest
            && a.text.withUTF8Bytes { x in
                b.text.withUTF8Bytes { y in x.count == y.count && (x.count == 0 || memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0) }
            }
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(digest) }

    public var description: String { text }
}
