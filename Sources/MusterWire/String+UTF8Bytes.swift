extension String {
    /// The string's UTF-8 bytes, read in place when it is native. `var copy = s; copy.withUTF8`
    /// retains the storage for the copy and releases it after: two atomics on a cache line
    /// that the thread which made the string may own (the writer thread binds and hashes
    /// strings the decide thread made). A bridged or foreign string is made contiguous first.
    @inlinable
    public func withUTF8Bytes<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        if let r = try utf8.withContiguousStorageIfAvailable(body) { return r }
        var copy = self
        return try copy.withUTF8(body)
    }
}

extension String {
    /// A string written part by part into one allocation of at most `capacity` bytes: each `+` of
    /// a String looks for a grapheme across the join (~470 instructions), and a number's
    /// `description` makes a string of its own.
    @inlinable
    public init(capacity: Int, writing body: (inout UTF8Parts) -> Void) {
        self.init(unsafeUninitializedCapacity: capacity) { buffer in
            var parts = UTF8Parts(buffer: buffer)
            body(&parts)
            return parts.count
        }
    }
}

/// Where `String(capacity:writing:)` writes: strings' bytes, single bytes, decimal numbers.
public struct UTF8Parts {
    @usableFromInline let buffer: UnsafeMutableBufferPointer<UInt8>
    @usableFromInline var count = 0

    @inlinable init(buffer: UnsafeMutableBufferPointer<UInt8>) { self.buffer = buffer }

    @inlinable public mutating func append(_ s: String) {
        s.withUTF8Bytes { part in
            _ = UnsafeMutableBufferPointer(rebasing: buffer[count...]).initialize(fromContentsOf: part)
            count += part.count
        }
    }

    /// Labelled, as `decimal:` is: an unlabelled `append(0x1F)` would take the literal as a number.
    @inlinable public mutating func append(byte: UInt8) { buffer[count] = byte; count += 1 }

    @inlinable public mutating func append(decimal number: Int) { count = JSONWriter.writeInt(Int64(number), into: buffer, at: count) }
}
