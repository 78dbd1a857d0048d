/// Finds the bytes of one top-level member's value in a JSON object without decoding it, so
/// that the broker can store a submitted case as it came and pass it through to DISPATCH.
/// Hand-written: no JSON library exposes value spans. The input has already been validated by
/// a full decode, so this only has to skip strings and nesting correctly.
public enum JSONSpan {
    public static func value(of member: String, in object: [UInt8]) -> ArraySlice<UInt8>? {
        let target = Array(member.utf8)
        var i = 0
        let n = object.count
        func skipSpace() { while i < n, JSONWriter.isSpace(object[i]) { i += 1 } }
        /// Returns the string's raw content range (escapes not resolved).
        func readString() -> Range<Int>? {
            guard i < n, object[i] == UInt8(ascii: "\"") else { return nil }
            i += 1
            let start = i
            while i < n {
                if object[i] == UInt8(ascii: "\\") { i += 2; continue }
                if object[i] == UInt8(ascii: "\"") { i += 1; return start..<(i - 1) }
                i += 1
            }
            return nil
        }
        func skipValue() -> Bool {
            skipSpace()
            guard i < n else { return false }
            if object[i] == UInt8(ascii: "\"") { return readString() != nil }
            if object[i] == UInt8(ascii: "{") || object[i] == UInt8(ascii: "[") {
                var depth = 0
                while i < n {
                    let b = object[i]
                    if b == UInt8(ascii: "\"") { guard readString() != nil else { return false }; continue }
                    if b == UInt8(ascii: "{") || b == UInt8(ascii: "[") { depth += 1 }
                    if b == UInt8(ascii: "}") || b == UInt8(ascii: "]") {
                        depth -= 1
                        if depth == 0 { i += 1; return true }
                    }
                    i += 1
                }
                return false
            }
            while i < n, object[i] != UInt8(ascii: ","), object[i] != UInt8(ascii: "}"), !JSONWriter.isSpace(object[i]) { i += 1 }
            return true
        }
        skipSpace()
        guard i < n, object[i] == UInt8(ascii: "{") else { return nil }
        i += 1
        while true {
            skipSpace()
            guard let keyRange = readString() else { return nil }
            skipSpace()
            guard i < n, object[i] == UInt8(ascii: ":") else { return nil }
            i += 1
            skipSpace()
            let start = i
            guard skipValue() else { return nil }
            if object[keyRange].elementsEqual(target) { return object[start..<i] }
            skipSpace()
            guard i < n, object[i] == UInt8(ascii: ",") else { return nil }
            i += 1
        }
    }
}
