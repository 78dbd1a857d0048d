import Foundation
import MusterCore
import MusterWire

extension JSONWriter {
    /// A time as the wire carries it (`Timestamp.format`), written in place: made as a String
    /// first, each was an allocation and a scan for escapes (a DISPATCH carries three). Internal to
    /// the broker's messages: the log writes its times another way (`LogTime`, milliseconds always).
    mutating func field(_ k: Key, _ date: Date) {
        guard Timestamp.hasFourDigitYear(date) else { field(k, Timestamp.format(date)); return }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Timestamp.width + 2) { out in
            out[0] = UInt8(ascii: "\"")
            let n = Timestamp.write(date, milliseconds: false, into: UnsafeMutableBufferPointer(rebasing: out[1...]))
            out[n + 1] = UInt8(ascii: "\"")
            raw(k, UnsafeBufferPointer(rebasing: out[..<(n + 2)]))
        }
    }

    mutating func field(_ k: Key, _ date: Date?) { if let date { field(k, date) } }
}
