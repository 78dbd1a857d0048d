import Foundation

/// A 处置时限 in the protocol's units (docs/PROTOCOL.md, Units): `30m`, `2h`, `3d`, `4wh`, `7wd`.
/// Kept as written: the work order carries it as the department's own standard; the broker's
/// clock for the dispatch is config/sla.yaml's, not this one.
public struct TimeLimit: Sendable, Equatable, CustomStringConvertible {
    public enum Unit: String, Sendable, CaseIterable { case s, m, h, d, wh, wd }
    public var amount: Int
    public var unit: Unit

    public init(_ amount: Int, _ unit: Unit) { self.amount = amount; self.unit = unit }

    /// `4wh`, `7wd` …: digits (at least 1, no sign, no leading zero) then a unit.
    public init?(_ text: String) {
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, digits.first != "0", digits.count <= 6, let n = Int(digits),
              let unit = Unit(rawValue: String(text.dropFirst(digits.count))) else { return nil }
        self.init(n, unit)
    }

    public var description: String { "\(amount)\(unit.rawValue)" }

    /// As a 数字城管 standard writes it: 4 工作时, 7 工作日.
    public var chinese: String {
        let word = switch unit { case .s: "秒"; case .m: "分钟"; case .h: "小时"; case .d: "日"; case .wh: "工作时"; case .wd: "工作日" }
        return "\(amount) \(word)"
    }
}
