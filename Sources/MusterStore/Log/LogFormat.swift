import Foundation
import MusterCore

/// The event log's `data` column, owned by the store (docs/LOG-FORMAT.md). New rows are written
/// in the current version; every version ever written stays readable, because rows are never
/// rewritten: the hash chain covers their bytes.
///
/// - v1 (until 2026-12): synthesized `Codable` of the model of the day (`LogV1`).
/// - v2: `{"v":2,"type":"dispatch.acked","dispatch_id":…}` (`LogWriter`, `LogRecordV2`).
/// - v3: v2 with `clock.scheduled` written compactly (its rungs' shared values once).
public enum LogFormat {
    public static let version = 3

    public struct Unreadable: Error, CustomStringConvertible {
        public var seq: Int64
        public var reason: String
        public var description: String { "event seq \(seq) cannot be read: \(reason)" }
    }

    /// The bytes to store for a fact whose `Fact.type` is `type`.
    static func encode(_ change: Fact.Change, type: String) -> [UInt8] {
        LogWriter.write(change, type: type)
    }

    /// Reads stored bytes of any version. One per read of the log: it keeps its decoders.
    struct Reader {
        private let json = JSONDecoder()

        /// The change a row holds. The row's `type` column must agree with what the bytes say.
        func change(seq: Int64, type: String, data: Data) throws -> Fact.Change {
            let change: Fact.Change
            do {
                if Self.isVersioned(data) {
                    let record = try json.decode(LogRecordV2.self, from: data)
                    guard record.type == type else {
                        throw Unreadable(seq: seq, reason: "its type column says \(type), its data says \(record.type)")
                    }
                    change = record.change
                } else {
                    change = try LogV1.change(from: data, decoder: json)
                }
            } catch let e as Unreadable {
                throw e
            } catch {
                throw Unreadable(seq: seq, reason: "\(error)")
            }
            let derived = Fact(caseID: "", at: Date(ms: 0), actor: "", change: change).type
            guard derived == type else {
                throw Unreadable(seq: seq, reason: "its type column says \(type), its data is a \(derived)")
            }
            return change
        }

        /// v2 and later begin with their version (`{"v":`); v1 begins with a case name.
        static func isVersioned(_ data: Data) -> Bool {
            data.starts(with: Array(#"{"v":"#.utf8))
        }
    }
}
