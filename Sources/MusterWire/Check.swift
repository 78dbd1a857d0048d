import Foundation

/// Field checks shared by the request bodies.
enum Check {
    static func text(_ s: String, _ field: String, max: Int) throws(WireError) {
        if s.isEmpty { throw .badField(field, "must not be empty") }
        if s.utf8.count > max { throw .badField(field, "longer than \(max) bytes") }
    }

    /// Codes and names: printable, no spaces, at most 64 bytes.
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
