import Foundation

/// The JSON form of facts in the event log: dates as integer milliseconds (exact round trip).
public enum FactCoding {
    public static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .custom { date, enc in
            var c = enc.singleValueContainer()
            try c.encode(date.ms)
        }
        e.outputFormatting = [.sortedKeys]
        return e
    }

    public static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .custom { dec in
            Date(ms: try dec.singleValueContainer().decode(Int64.self))
        }
        return d
    }
}
