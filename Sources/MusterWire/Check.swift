import Foundation

/// Field checks shared by the request bodies.
enum Check {
    static func text(_ s: String, _ field: String, max: Int) throws(WireError) {
        if s.isEmpty { throw .badField(field, "must not be empty") }
        try optional(s, field, max: max)
    }

    /// Free text that may be absent (notes, results, reasons): its length is bounded.
    /// NUL is refused in text: no text has a use for it, and C APIs would cut the text there.
    static func optional(_ s: String?, _ field: String, max: Int = Check.noteBytes) throws(WireError) {
        guard let s else { return }
        if s.utf8.count > max { throw .badField(field, "longer than \(max) bytes") }
        if s.utf8.contains(0) { throw .badField(field, "must not contain NUL (\\u0000)") }
    }

    static let noteBytes = 20_000

    /// One line of text that goes into logs (software names, reasons): no control characters, so
    /// that a peer cannot forge log lines.
    static func line(_ s: String?, _ field: String, max: Int) throws(WireError) {
        guard let s else { return }
        try optional(s, field, max: max)
        if s.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw .badField(field, "must not contain control characters")
        }
    }

    /// A phone number as people write them: digits, spaces, + - ( ), at most 32 bytes.
    static func phone(_ s: String, _ field: String) throws(WireError) {
        try text(s, field, max: 32)
        if !s.utf8.allSatisfy({ (0x30...0x39).contains($0) || " +-()".utf8.contains($0) }) {
            throw .badField(field, "a phone number has only digits, spaces and + - ( )")
        }
    }

    static func attachment(_ a: Attachment, _ field: String) throws(WireError) {
        try text(a.url, "\(field).url", max: 2048)
        if !(a.url.hasPrefix("https://") || a.url.hasPrefix("http://")) { throw .badField("\(field).url", "must be an http(s) URL") }
        if let h = a.sha256, h.utf8.count != 64 || !h.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) {
            throw .badField("\(field).sha256", "must be 64 lowercase hex digits")
        }
    }

    static func attachments(_ list: [Attachment]?, _ field: String) throws(WireError) {
        guard let list else { return }
        if list.count > 50 { throw .badField(field, "at most 50 attachments") }
        for (i, a) in list.enumerated() { try attachment(a, "\(field)[\(i)]") }
    }

    /// Codes and names: printable, no spaces, at most 64 bytes.
    /// 居民身份证号码: 17 digits and a digit or X (GB 11643), checksum included.
    static func idNumber(_ s: String, _ field: String) throws(WireError) {
        let chars = Array(s.uppercased().utf8)
        guard chars.count == 18, chars.prefix(17).allSatisfy({ (48...57).contains($0) }),
              chars[17] == UInt8(ascii: "X") || (48...57).contains(chars[17]) else {
            throw .badField(field, "not an 18-character 居民身份证号码 (17 digits and a digit or X)")
        }
        let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
        let sum = zip(chars.prefix(17), weights).reduce(0) { $0 + Int($1.0 - 48) * $1.1 }
        let check = Array("10X98765432".utf8)[sum % 11]
        guard chars[17] == check else { throw .badField(field, "the 居民身份证号码's check digit is wrong") }
    }

    static func name(_ s: String, _ field: String) throws(WireError) {
        try text(s, field, max: 64)
        if s.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }) {
            throw .badField(field, "must not contain spaces or control characters")
        }
    }

    private static let rfc3339 = try! NSRegularExpression(
        pattern: #"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"#)

    static func isRFC3339(_ s: String) -> Bool {
        rfc3339.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil
    }
}
