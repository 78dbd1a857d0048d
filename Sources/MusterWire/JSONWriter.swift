/// Writes one JSON object field by field. Hand-written because the broker's hot path answers
/// tens of thousands of messages a second and Foundation's JSONEncoder costs ~8 µs a message;
/// this also lets a submitted case's bytes pass through to DISPATCH untouched (`raw`).
public struct JSONWriter: Sendable {
    public private(set) var bytes: [UInt8] = [UInt8(ascii: "{")]
    private var first = true

    public init(capacity: Int = 128) { bytes.reserveCapacity(capacity) }

    public static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 }

    /// A member's name: a literal in code (`"case_id"`, copied as it is: a key named in code
    /// holds no quote, backslash or control character), or a name made at run time (a year, a
    /// plugin's configured field), escaped like any string. A literal costs no String.
    public enum Key: ExpressibleByStringLiteral, Sendable {
        case literal(StaticString)
        case named(String)
        public init(stringLiteral value: StaticString) { self = .literal(value) }
        public init(_ name: String) { self = .named(name) }
    }

    private mutating func key(_ k: Key) {
        switch k {
        case .literal(let s):
            // `,"key":` built on the stack and appended at once: each append to the array checks
            // its uniqueness and capacity, and a field's few appends cost more than its bytes.
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: s.utf8CodeUnitCount + 4) { buffer in
                let n = writeKey(s, into: buffer)
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[..<n]))
            }
        case .named(let s):
            if !first { bytes.append(UInt8(ascii: ",")) }
            JSONWriter.appendString(s, to: &bytes)
            bytes.append(UInt8(ascii: ":"))
        }
        first = false
    }

    /// Writes `,"key":` (no comma first) into `buffer`, which has room for it; returns its length.
    private func writeKey(_ s: StaticString, into buffer: UnsafeMutableBufferPointer<UInt8>) -> Int {
        var n = 0
        if !first { buffer[0] = UInt8(ascii: ","); n = 1 }
        buffer[n] = UInt8(ascii: "\""); n += 1
        let count = s.utf8CodeUnitCount
        UnsafeMutableRawPointer(buffer.baseAddress! + n).copyMemory(from: s.utf8Start, byteCount: count)
        n += count
        buffer[n] = UInt8(ascii: "\""); buffer[n + 1] = UInt8(ascii: ":")
        return n + 2
    }

    /// An integer field, its key and digits appended at once (the log writes a few per fact).
    private mutating func intField(_ k: Key, _ v: Int64) {
        guard case .literal(let s) = k else { key(k); JSONWriter.appendInt(v, to: &bytes); return }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: s.utf8CodeUnitCount + 26) { buffer in
            let end = JSONWriter.writeInt(v, into: buffer, at: writeKey(s, into: buffer))
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[..<end]))
        }
        first = false
    }

    public mutating func field(_ k: Key, _ v: String) {
        guard case .literal(let name) = k else { key(k); JSONWriter.appendString(v, to: &bytes); return }
        v.withUTF8Bytes { value in
            // Most values are short and need no escape: key and value appended at once.
            guard value.count <= 256, !value.contains(where: JSONWriter.needsEscape) else {
                key(k)
                JSONWriter.appendQuoted(value, to: &bytes)
                return
            }
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: name.utf8CodeUnitCount + value.count + 6) { buffer in
                var n = writeKey(name, into: buffer)
                buffer[n] = UInt8(ascii: "\"")
                if let base = value.baseAddress { UnsafeMutableRawPointer(buffer.baseAddress! + n + 1).copyMemory(from: base, byteCount: value.count) }
                n += value.count + 1
                buffer[n] = UInt8(ascii: "\"")
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[..<(n + 1)]))
            }
            first = false
        }
    }
    public mutating func field(_ k: Key, _ v: String?) { if let v { field(k, v) } }
    public mutating func field(_ k: Key, _ v: Int) { intField(k, Int64(v)) }
    public mutating func field(_ k: Key, _ v: Int64) { intField(k, v) }
    public mutating func field(_ k: Key, _ v: Double) { key(k); bytes.append(contentsOf: String(v).utf8) }
    public mutating func field(_ k: Key, _ v: Bool) { key(k); bytes.append(contentsOf: (v ? "true" : "false").utf8) }
    public mutating func field(_ k: Key, _ v: [String]) {
        key(k)
        bytes.append(UInt8(ascii: "["))
        for (i, s) in v.enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            JSONWriter.appendString(s, to: &bytes)
        }
        bytes.append(UInt8(ascii: "]"))
    }
    public mutating func null(_ k: Key) { key(k); bytes.append(contentsOf: "null".utf8) }
    /// An already-encoded JSON value (object, array, number…), copied as is.
    public mutating func raw(_ k: Key, _ json: some Collection<UInt8>) { key(k); bytes.append(contentsOf: json) }
    // The common kinds, not generic: a generic called from another module is not specialised
    // there, and the log writes a time this way for every fact.
    public mutating func raw(_ k: Key, _ json: [UInt8]) { key(k); bytes.append(contentsOf: json) }
    public mutating func raw(_ k: Key, _ json: UnsafeBufferPointer<UInt8>) { key(k); bytes.append(contentsOf: json) }
    /// A nested object, written in place.
    public mutating func object(_ k: Key, _ build: (inout JSONWriter) -> Void) {
        key(k)
        bytes.append(UInt8(ascii: "{"))
        first = true
        build(&self)
        bytes.append(UInt8(ascii: "}"))
        first = false
    }
    /// An array of `count` objects, each written in place by `build` (no buffer per object).
    public mutating func objects(_ k: Key, count: Int, _ build: (Int, inout JSONWriter) -> Void) {
        key(k)
        appendObjects(count: count, build)
        first = false
    }
    /// A top-level array of `count` objects, each written in place by `build`.
    public static func array(count: Int, capacity: Int = 128, _ build: (Int, inout JSONWriter) -> Void) -> [UInt8] {
        var w = JSONWriter(capacity: capacity)
        w.bytes.removeAll(keepingCapacity: true)
        w.appendObjects(count: count, build)
        return w.bytes
    }
    /// `[{…},{…}]`, each object written in place.
    private mutating func appendObjects(count: Int, _ build: (Int, inout JSONWriter) -> Void) {
        bytes.append(UInt8(ascii: "["))
        for i in 0..<count {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(UInt8(ascii: "{"))
            first = true
            build(i, &self)
            bytes.append(UInt8(ascii: "}"))
        }
        bytes.append(UInt8(ascii: "]"))
    }
    public mutating func array(_ k: Key, _ items: [[UInt8]]) {
        key(k)
        bytes.append(UInt8(ascii: "["))
        for (i, item) in items.enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(contentsOf: item)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// The object's bytes (the writer's own buffer, closed: no copy when the writer is not used after).
    public consuming func finish() -> [UInt8] {
        bytes.append(UInt8(ascii: "}"))
        return bytes
    }

    /// An integer's decimal digits, written straight into the bytes (`String(v)` costs an
    /// allocation and several hundred instructions, and the log writes a few per fact).
    public static func appendInt(_ v: Int64, to out: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { buffer in
            out.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[..<writeInt(v, into: buffer, at: 0)]))
        }
    }

    /// Writes `v`'s sign and digits into `buffer` from `start` (room for 20 bytes); returns the end.
    @inlinable public static func writeInt(_ v: Int64, into buffer: UnsafeMutableBufferPointer<UInt8>, at start: Int) -> Int {
        var n = start
        if v < 0 { buffer[n] = UInt8(ascii: "-"); n += 1 }
        var x = v.magnitude, digits = 0
        repeat { digits += 1; x /= 10 } while x != 0
        x = v.magnitude
        for i in stride(from: n + digits - 1, through: n, by: -1) { buffer[i] = UInt8(ascii: "0") + UInt8(x % 10); x /= 10 }
        return n + digits
    }

    /// Copies runs of bytes that need no escape whole: most strings have none.
    public static func appendString(_ s: String, to out: inout [UInt8]) {
        s.withUTF8Bytes { appendQuoted($0, to: &out) }
    }

    private static func appendQuoted(_ bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        appendEscaped(bytes, to: &out)
        out.append(UInt8(ascii: "\""))
    }

    @inlinable public static func needsEscape(_ b: UInt8) -> Bool { b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") }

    private static func appendEscaped(_ bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        var start = 0
        for i in 0..<bytes.count {
            let b = bytes[i]
            guard needsEscape(b) else { continue }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<i]))
            appendEscape(b, to: &out)
            start = i + 1
        }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start...]))
    }

    private static func appendEscape(_ b: UInt8, to out: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 6) { buffer in
            out.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[..<writeEscape(b, into: buffer, at: 0)]))
        }
    }

    /// Writes the escape of `b` (one `needsEscape` holds for) into `buffer` from `start` (room
    /// for 6 bytes); returns the end.
    @inlinable public static func writeEscape(_ b: UInt8, into buffer: UnsafeMutableBufferPointer<UInt8>, at start: Int) -> Int {
        buffer[start] = 0x5C
        switch b {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): buffer[start + 1] = b
        case 0x0A: buffer[start + 1] = UInt8(ascii: "n")
        case 0x0D: buffer[start + 1] = UInt8(ascii: "r")
        case 0x09: buffer[start + 1] = UInt8(ascii: "t")
        default:
            let hex: StaticString = "0123456789abcdef"
            buffer[start + 1] = UInt8(ascii: "u"); buffer[start + 2] = 0x30; buffer[start + 3] = 0x30
            buffer[start + 4] = hex.utf8Start[Int(b >> 4)]; buffer[start + 5] = hex.utf8Start[Int(b & 0xF)]
            return start + 6
        }
        return start + 2
    }
}
