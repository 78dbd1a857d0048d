import Foundation

/// A reporter's name and phone are personal data: shown whole only to those who need them.
public enum PersonalData {
    /// `13812345678` → `138****5678`; short numbers keep only their last two digits.
    public static func maskPhone(_ phone: String) -> String {
        let chars = Array(phone)
        if chars.count >= 7 { return String(chars.prefix(3)) + String(repeating: "*", count: chars.count - 7) + String(chars.suffix(4)) }
        return String(repeating: "*", count: max(0, chars.count - 2)) + String(chars.suffix(2))
    }

    /// `410105198001011234` → `4101************34`: the region's first four and the last two.
    public static func maskIDNumber(_ id: String) -> String {
        let chars = Array(id)
        guard chars.count > 6 else { return String(repeating: "*", count: chars.count) }
        return String(chars.prefix(4)) + String(repeating: "*", count: chars.count - 6) + String(chars.suffix(2))
    }

    /// `李四` → `李*`.
    public static func maskName(_ name: String) -> String {
        guard let first = name.first else { return name }
        return String(first) + String(repeating: "*", count: max(1, name.count - 1))
    }

    /// The `reporter` member of a submitted case, as an agency may see it: whole if it contacts
    /// reporters, masked otherwise, and nothing but `anonymous: true` for anonymous reports.
    /// Returns the case's bytes with that member rewritten (the rest passes through untouched).
    public static func reporterShown(in caseBytes: [UInt8], reveal: Bool) -> [UInt8] {
        guard let span = JSONSpan.value(of: "reporter", in: caseBytes),
              case .success(let r) = BodyDecoder.decodePlain(Reporter.self, from: Array(span)) else { return caseBytes }
        if reveal && r.anonymous != true { return caseBytes }
        var w = JSONWriter()
        if r.anonymous == true {
            w.field("anonymous", true)
        } else {
            w.field("name", r.name.map(maskName))
            w.field("phone", r.phone.map(maskPhone))
            w.field("id_number", r.idNumber.map(maskIDNumber))
            w.field("anonymous", false)
            w.field("masked", true)
        }
        var out = caseBytes
        out.replaceSubrange(span.startIndex..<span.endIndex, with: w.finish())
        return out
    }
}
