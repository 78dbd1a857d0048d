import Foundation

/// Reads facts from the event log (written by `Fact.Change.json()`): dates as integer
/// milliseconds, so they round-trip exactly.
public enum FactCoding {
    public static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .custom { dec in
            Date(ms: try dec.singleValueContainer().decode(Int64.self))
        }
        return d
    }
}
