/// A record's values behind one reference, copied on write when shared. A copy of the record is
/// then one retain, where a copy of its values retained each of their strings and arrays: a case
/// is copied dozens of times a lifecycle (decided, batched, written, replied to), a rung about a
/// hundred. `CaseRecord`, `DispatchRecord` and `LadderTimer` keep their fields in one, `Rules` its tables.
///
/// Inlinable, so that another module reads a field in place (a call returned it retained). The
/// box is changed only when no other record shares it, so never while another thread reads it,
/// and only through `values`, whose accesses the compiler checks as accesses to the record that
/// holds it: the box's own need no check at run time (~150 instructions a read).
///
/// Each record writes out its accessors, a line a field. One `@dynamicMemberLookup` subscript
/// through key paths would do for all, but cost 0.9 % more instructions a lifecycle (1,451,440
/// against 1,439,075): the key paths were not folded into plain field accesses.
public struct SharedValues<Values> {
    @usableFromInline final class Box {
        @exclusivity(unchecked) @usableFromInline var values: Values
        @usableFromInline init(_ values: Values) { self.values = values }
    }

    @usableFromInline var box: Box

    @inlinable public init(_ values: Values) { box = Box(values) }

    @inlinable public var values: Values {
        get { box.values }
        _modify {
            if !isKnownUniquelyReferenced(&box) { box = Box(box.values) }
            yield &box.values
        }
    }

    /// Whether two records share one box: a change to either would copy it first.
    @inlinable public func isShared(with other: SharedValues) -> Bool { box === other.box }
}

// A box is only ever changed when unique (`values`), so handing records to another thread is safe.
extension SharedValues: @unchecked Sendable where Values: Sendable {}

extension SharedValues: Equatable where Values: Equatable {
    @inlinable public static func == (a: SharedValues, b: SharedValues) -> Bool { a.box === b.box || a.box.values == b.box.values }
}

extension SharedValues: Hashable where Values: Hashable {
    @inlinable public func hash(into hasher: inout Hasher) { box.values.hash(into: &hasher) }
}

/// Written and read as the values themselves: a record's JSON has no level for the box.
extension SharedValues: Codable where Values: Codable {
    public init(from decoder: any Decoder) throws { self.init(try Values(from: decoder)) }
    public func encode(to encoder: any Encoder) throws { try box.values.encode(to: encoder) }
}
