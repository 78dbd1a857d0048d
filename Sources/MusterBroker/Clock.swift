import Foundation
import MusterCore

/// The shell's one clock read, truncated to the millisecond like every stored time.
enum Clock {
    static func now() -> Date { Date(ms: Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))) }
}
