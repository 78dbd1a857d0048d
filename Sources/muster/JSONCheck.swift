/// Checks a JSON text (RFC 8259) and says where the first problem is, as line and column
/// (1-based; the column counts characters, not bytes). Foundation's parser says only that the
/// data is not valid, and sending it anyway makes the broker answer `bad_json` without the
/// request's id, which a client cannot match to its request.
struct JSONCheck {
    struct Problem: Error, Equatable {
        var line: Int
        var column: Int
        var message: String
    }

    private let b: [UInt8]
    private var i = 0
    private var depth = 0

    /// nil when `bytes` is one JSON object (surrounded by whitespace at most).
    static func object(_ bytes: [UInt8]) -> Problem? {
        var c = JSONCheck(b: bytes)
        do {
            c.space()
            guard c.i < bytes.count else { throw c.problem("the file is empty; expected a JSON object {…}") }
            guard bytes[c.i] == UInt8(ascii: "{") else { throw c.problem("expected a JSON object {…}, found \(c.found())") }
            try c.value()
            c.space()
            if c.i < bytes.count { throw c.problem("unexpected \(c.found()) after the end of the object") }
            return nil
        } catch let p as Problem {
            return p
        } catch {
            return nil
        }
    }

    private init(b: [UInt8]) { self.b = b }

    private mutating func space() {
        while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
    }

    private mutating func value() throws {
        space()
        guard i < b.count else { throw problem("unexpected end of file; expected a value") }
        switch b[i] {
        case UInt8(ascii: "{"):
            depth += 1
            guard depth <= 512 else { throw problem("nested more than 512 deep") }
            i += 1
            space()
            if i < b.count, b[i] == UInt8(ascii: "}") { i += 1; depth -= 1; return }
            while true {
                space()
                guard i < b.count else { throw problem("unexpected end of file inside an object; expected a \"name\"") }
                guard b[i] == UInt8(ascii: "\"") else { throw problem("expected a \"name\" in double quotes, found \(found())") }
                try string()
                space()
                guard i < b.count, b[i] == UInt8(ascii: ":") else { throw problem("expected ':' after the name, found \(found())") }
                i += 1
                try value()
                space()
                guard i < b.count else { throw problem("unexpected end of file; expected ',' or '}'") }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                if b[i] == UInt8(ascii: "}") { i += 1; depth -= 1; return }
                throw problem("expected ',' or '}', found \(found())")
            }
        case UInt8(ascii: "["):
            depth += 1
            guard depth <= 512 else { throw problem("nested more than 512 deep") }
            i += 1
            space()
            if i < b.count, b[i] == UInt8(ascii: "]") { i += 1; depth -= 1; return }
            while true {
                try value()
                space()
                guard i < b.count else { throw problem("unexpected end of file; expected ',' or ']'") }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                if b[i] == UInt8(ascii: "]") { i += 1; depth -= 1; return }
                throw problem("expected ',' or ']', found \(found())")
            }
        case UInt8(ascii: "\""):
            try string()
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            try number()
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        default:
            throw problem("expected a value, found \(found())")
        }
    }

    private mutating func literal(_ word: String) throws {
        let w = Array(word.utf8)
        guard i + w.count <= b.count, Array(b[i..<(i + w.count)]) == w else { throw problem("expected a value, found \(found())") }
        i += w.count
    }

    private mutating func digits() -> Int {
        let start = i
        while i < b.count, b[i] >= UInt8(ascii: "0"), b[i] <= UInt8(ascii: "9") { i += 1 }
        return i - start
    }

    private mutating func number() throws {
        if b[i] == UInt8(ascii: "-") { i += 1 }
        guard i < b.count, b[i] >= UInt8(ascii: "0"), b[i] <= UInt8(ascii: "9") else { throw problem("expected a digit, found \(found())") }
        if b[i] == UInt8(ascii: "0") {
            i += 1
            if i < b.count, b[i] >= UInt8(ascii: "0"), b[i] <= UInt8(ascii: "9") { throw problem("a number may not start with 0") }
        } else {
            _ = digits()
        }
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            guard digits() > 0 else { throw problem("expected a digit after '.', found \(found())") }
        }
        if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
            i += 1
            if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
            guard digits() > 0 else { throw problem("expected a digit in the exponent, found \(found())") }
        }
    }

    private mutating func string() throws {
        let open = i
        i += 1
        while i < b.count {
            let c = b[i]
            switch c {
            case UInt8(ascii: "\""):
                i += 1
                return
            case UInt8(ascii: "\\"):
                i += 1
                guard i < b.count else { break }
                switch b[i] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                     UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    i += 1
                case UInt8(ascii: "u"):
                    i += 1
                    for _ in 0..<4 {
                        guard i < b.count, isHex(b[i]) else { throw problem("\\u needs four hex digits") }
                        i += 1
                    }
                default:
                    throw problem("unknown escape \\\(found())")
                }
            case 0..<0x20:
                throw problem(c == 0x0A ? "line break inside a string (missing closing \"?)" : "control character inside a string (write it as \\u00XX)")
            case 0x80...:
                guard let n = utf8Length(at: i) else { throw problem("not valid UTF-8") }
                i += n
            default:
                i += 1
            }
        }
        i = open
        throw problem("string never closed (missing \")")
    }

    private func isHex(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "f"))
            || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "F"))
    }

    /// The length of a well-formed UTF-8 sequence starting at `p`, else nil.
    private func utf8Length(at p: Int) -> Int? {
        let lead = b[p]
        let n: Int
        switch lead {
        case 0xC2...0xDF: n = 2
        case 0xE0...0xEF: n = 3
        case 0xF0...0xF4: n = 4
        default: return nil
        }
        guard p + n <= b.count else { return nil }
        return String(validating: b[p..<(p + n)], as: UTF8.self) != nil ? n : nil
    }

    /// What stands at the current position, for messages.
    private func found() -> String {
        guard i < b.count else { return "the end of the file" }
        let end = min(b.count, i + 12)
        var text = String(decoding: b[i..<end], as: UTF8.self)
        if let nl = text.firstIndex(where: \.isNewline) { text = String(text[..<nl]) }
        return text.isEmpty ? "a line break" : "\"\(text.prefix(1))\"" + (text.count > 1 ? " (in \"\(text)\")" : "")
    }

    private func problem(_ message: String) -> Problem {
        var line = 1, column = 1
        var p = 0
        while p < min(i, b.count) {
            if b[p] == 0x0A { line += 1; column = 1 } else if b[p] & 0xC0 != 0x80 { column += 1 }
            p += 1
        }
        return Problem(line: line, column: column, message: message)
    }
}
