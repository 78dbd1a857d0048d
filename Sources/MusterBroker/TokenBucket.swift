import Foundation

/// A per-adapter token bucket: `rate` requests a second on average, `burst` at once. Time comes
/// in as a value, so it is tested without waiting.
struct TokenBucket {
    let rate: Double
    let burst: Double
    private var tokens: Double
    private var last: Int64

    init(rate: Double, burst: Int, now: Date) {
        self.rate = rate
        self.burst = Double(burst)
        tokens = Double(burst)
        last = Int64(now.timeIntervalSince1970 * 1000)
    }

    /// Takes one token if there is one.
    mutating func take(now: Date) -> Bool {
        let ms = Int64(now.timeIntervalSince1970 * 1000)
        if ms > last {
            tokens = min(burst, tokens + Double(ms - last) * rate / 1000)
            last = ms
        }
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}
