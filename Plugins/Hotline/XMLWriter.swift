/// The XML of Open311's documents: elements and text only — the spec's XML has no attributes
/// and no namespace — under the declaration the spec requires. Every text is escaped, and the
/// characters XML 1.0 cannot carry at all (control characters but tab, newline and carriage
/// return) are dropped: a parser would refuse the whole document for one of them.
struct XMLWriter {
    private var out = #"<?xml version="1.0" encoding="utf-8"?>"# + "\n"
    private var open: [String] = []

    /// Opens `name`; `end()` closes it.
    mutating func start(_ name: String) {
        out += indent + "<" + name + ">\n"
        open.append(name)
    }

    mutating func end() {
        let name = open.removeLast()
        out += indent + "</" + name + ">\n"
    }

    /// `<name>text</name>`, or `<name/>` for no value.
    mutating func element(_ name: String, _ text: String?) {
        guard let text else { out += indent + "<" + name + "/>\n"; return }
        out += indent + "<" + name + ">" + Self.escape(text) + "</" + name + ">\n"
    }

    /// The document; every element opened is closed.
    mutating func finish() -> String {
        while !open.isEmpty { end() }
        return out
    }

    private var indent: String { String(repeating: "  ", count: open.count) }

    static func escape(_ text: String) -> String {
        var s = ""
        s.reserveCapacity(text.utf8.count)
        for u in text.unicodeScalars {
            switch u {
            case "&": s += "&amp;"
            case "<": s += "&lt;"
            case ">": s += "&gt;"
            case "\"": s += "&quot;"
            case "'": s += "&apos;"
            case "\r": s += "&#13;"  // a parser would turn a literal one into a newline
            case "\t", "\n": s.unicodeScalars.append(u)
            case _ where u.value < 0x20 || u.value == 0xFFFE || u.value == 0xFFFF: continue
            default: s.unicodeScalars.append(u)
            }
        }
        return s
    }
}
