/// A request body read in one pass: every value with the byte range it came from, so that the
/// broker decodes a request and keeps parts of it as they came (the submitted case, passed
/// through to DISPATCH) without reading the body again. Hand-written: no JSON library here gives
/// value ranges, and Foundation's JSONDecoder reads the whole body once more for each use.
public struct JSONTree: Sendable {
    /// Not `indirect`: objects and arrays already hold their values in an array's storage, and
    /// an indirect case boxed every value of a body in an allocation of its own.
    public enum Value: Sendable {
        /// Members in order; a repeated key: the last one counts (as with JSONDecoder).
        case object([Member])
        case array([JSONTree])
        case string(String)
        /// The number's text, checked against JSON's grammar; converted by the decoder.
        case number(String)
        case bool(Bool)
        case null
    }

    public struct Member: Sendable {
        public var key: String
        public var value: JSONTree
    }

    public var value: Value
    /// Where it is in the body.
    public var range: Range<Int>

    public subscript(key: String) -> JSONTree? {
        guard case .object(let members) = value else { return nil }
        return members.last { $0.key == key }?.value
    }

    /// Nesting deeper than this is refused (JSONDecoder's limit too).
    static let maxDepth = 512

    public struct Malformed: Error, Sendable {
        public var offset: Int
    }

    public static func parse(_ bytes: [UInt8]) throws(Malformed) -> JSONTree {
        var p = Parser(bytes: bytes)
        p.skipSpace()
        let tree = try p.value(depth: 0)
        p.skipSpace()
        guard p.i == bytes.count else { throw Malformed(offset: p.i) }
        return tree
    }

    private struct Parser {
        let bytes: [UInt8]
        var i = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        mutating func skipSpace() {
            while i < bytes.count, JSONWriter.isSpace(bytes[i]) { i += 1 }
        }

        func fail() -> Malformed { Malformed(offset: i) }

        mutating func value(depth: Int) throws(Malformed) -> JSONTree {
            guard i < bytes.count, depth < JSONTree.maxDepth else { throw fail() }
            let start = i
            let v: Value
            switch bytes[i] {
            case UInt8(ascii: "{"): v = try object(depth: depth)
            case UInt8(ascii: "["): v = try array(depth: depth)
            case UInt8(ascii: "\""): v = .string(try string())
            case UInt8(ascii: "t"): try literal("true"); v = .bool(true)
            case UInt8(ascii: "f"): try literal("false"); v = .bool(false)
            case UInt8(ascii: "n"): try literal("null"); v = .null
            default: v = .number(try number())
            }
            return JSONTree(value: v, range: start..<i)
        }

        mutating func object(depth: Int) throws(Malformed) -> Value {
            i += 1
            var members: [Member] = []
            skipSpace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
            members.reserveCapacity(8)  // a request's objects have a handful of members: one allocation, not four
            while true {
                skipSpace()
                // A comma before the brace is taken, as JSONDecoder took it: bodies it accepted still are.
                if i < bytes.count, bytes[i] == UInt8(ascii: "}"), !members.isEmpty { i += 1; return .object(members) }
                guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw fail() }
                let key = try string()
                skipSpace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw fail() }
                i += 1
                skipSpace()
                members.append(Member(key: key, value: try value(depth: depth + 1)))
                skipSpace()
                guard i < bytes.count else { throw fail() }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                guard bytes[i] == UInt8(ascii: "}") else { throw fail() }
                i += 1
                return .object(members)
            }
        }

        mutating func array(depth: Int) throws(Malformed) -> Value {
            i += 1
            var items: [JSONTree] = []
            skipSpace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
            while true {
                skipSpace()
                if i < bytes.count, bytes[i] == UInt8(ascii: "]"), !items.isEmpty { i += 1; return .array(items) }
                items.append(try value(depth: depth + 1))
                skipSpace()
                guard i < bytes.count else { throw fail() }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                guard bytes[i] == UInt8(ascii: "]") else { throw fail() }
                i += 1
                return .array(items)
            }
        }

        mutating func literal(_ word: StaticString) throws(Malformed) {
            let n = word.utf8CodeUnitCount
            guard i + n <= bytes.count else { throw fail() }
            for k in 0..<n where bytes[i + k] != word.utf8Start[k] { throw fail() }
            i += n
        }

        /// JSON's number grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
        mutating func number() throws(Malformed) -> String {
            let start = i
            func digits() -> Int {
                let s = i
                while i < bytes.count, bytes[i] >= UInt8(ascii: "0"), bytes[i] <= UInt8(ascii: "9") { i += 1 }
                return i - s
            }
            if i < bytes.count, bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard i < bytes.count else { throw fail() }
            if bytes[i] == UInt8(ascii: "0") { i += 1 } else if digits() == 0 { throw fail() }
            if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
                i += 1
                if digits() == 0 { throw fail() }
            }
            if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
                i += 1
                if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
                if digits() == 0 { throw fail() }
            }
            return String(decoding: bytes[start..<i], as: UTF8.self)
        }

        /// The bytes as a String, nil if they are not UTF-8. `String(validating:)` over a slice is
        /// not specialised (~1,000 instructions a key); decoding is, and what it had to repair
        /// differs from the bytes.
        static func utf8(_ raw: UnsafeBufferPointer<UInt8>) -> String? {
            let s = String(decoding: raw, as: UTF8.self)
            if !raw.contains(where: { $0 >= 0x80 }) { return s }  // ASCII is UTF-8
            return s.utf8.elementsEqual(raw) ? s : nil
        }

        /// A string's content: escapes resolved, UTF-8 checked, raw control characters refused.
        mutating func string() throws(Malformed) -> String {
            i += 1
            let start = i
            while i < bytes.count, bytes[i] != UInt8(ascii: "\""), bytes[i] != UInt8(ascii: "\\"), bytes[i] >= 0x20 { i += 1 }
            guard i < bytes.count else { throw fail() }
            if bytes[i] == UInt8(ascii: "\"") {
                guard let s = bytes.withUnsafeBufferPointer({ Parser.utf8(UnsafeBufferPointer(rebasing: $0[start..<i])) }) else { throw fail() }
                i += 1
                return s
            }
            var out = Array(bytes[start..<i])
            while i < bytes.count {
                let b = bytes[i]
                if b == UInt8(ascii: "\"") {
                    i += 1
                    guard let s = out.withUnsafeBufferPointer(Parser.utf8) else { throw fail() }
                    return s
                }
                guard b >= 0x20 else { throw fail() }
                guard b == UInt8(ascii: "\\") else { out.append(b); i += 1; continue }
                i += 1
                guard i < bytes.count else { throw fail() }
                switch bytes[i] {
                case UInt8(ascii: "\""): out.append(UInt8(ascii: "\""))
                case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\"))
                case UInt8(ascii: "/"): out.append(UInt8(ascii: "/"))
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800...0xDBFF).contains(scalar) {
                        // A high surrogate must be followed by an escaped low one.
                        guard i + 2 < bytes.count, bytes[i + 1] == UInt8(ascii: "\\"), bytes[i + 2] == UInt8(ascii: "u") else { throw fail() }
                        i += 2
                        let low = try hex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw fail() }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let u = Unicode.Scalar(scalar) else { throw fail() }
                    out.append(contentsOf: Array(String(Character(u)).utf8))
                default: throw fail()
                }
                i += 1
            }
            throw fail()
        }

        /// The four hex digits after `\u` (i is on the `u`; left on the last digit).
        mutating func hex4() throws(Malformed) -> UInt32 {
            guard i + 4 < bytes.count else { throw fail() }
            var v: UInt32 = 0
            for k in 1...4 {
                let c = bytes[i + k]
                let d: UInt32
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
                case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
                default: throw fail()
                }
                v = v << 4 | d
            }
            i += 4
            return v
        }
    }
}
