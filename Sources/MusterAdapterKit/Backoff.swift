/// Reconnect delays: doubling from `initial` up to `maximum`, each with ±50 % jitter so that
/// a city's adapters do not all reconnect in the same millisecond after a broker restart.
struct Backoff {
    var initial: Double
    var maximum: Double
    private(set) var attempt = 0

    init(initial: Double, maximum: Double) { self.initial = initial; self.maximum = maximum }

    mutating func next() -> Double {
        let base = min(maximum, initial * Double(1 << min(attempt, 20)))
        attempt += 1
        return base * Double.random(in: 0.5...1.5)
    }

    mutating func reset() { attempt = 0 }
}
