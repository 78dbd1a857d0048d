import Foundation

/// What makes reports the same problem (`Ledger.mergeKey`): the open case a report joins is
/// found by it in memory (`Ledger.openByMergeKey`) and in the store (`cases.merge_key`), compared
/// by its bytes in both (`TextKey`).
public struct MergeKey: Hashable, Sendable, CustomStringConvertible {
    public let key: TextKey

    public init(_ text: String) { key = TextKey(text) }

    public var text: String { key.text }

    public var description: String { key.text }
}
