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
