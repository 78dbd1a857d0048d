import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One broker per database: an exclusive `flock` on `DB.lock`, taken before the store is opened
/// and held for the broker's life. `DB.lock` is never removed — a lock on a file someone can
/// delete (a cleanup of "stale pid files") would let a second broker lock a new one. The owner's
/// pid is written beside it in `DB.pid`, for `muster keys reload` and for the refusal message,
/// and removed by the owner only. The kernel drops the lock when the process dies, so a broker
/// killed with -9 never blocks the next one; its stale `DB.pid` is simply overwritten.
public final class DatabaseLock: @unchecked Sendable {
    public struct Busy: Error, CustomStringConvertible {
        public let database: String
        public let pid: pid_t?
        public var description: String {
            "the database \(database) is in use by another muster broker" + (pid.map { " (pid \($0))" } ?? "")
                + "; one broker per database: stop it first, or give this one another --db"
        }
    }

    public let lockPath: String
    public let pidPath: String
    private var fd: Int32

    public static func lockPath(database: String) -> String { database + ".lock" }
    /// `DB.pid`: the running broker's pid.
    public static func path(database: String) -> String { database + ".pid" }

    /// Takes the lock or throws `Busy` naming the live owner's pid at once (never waits).
    public init(database: String) throws {
        lockPath = Self.lockPath(database: database)
        pidPath = Self.path(database: database)
        let dir = (database as NSString).deletingLastPathComponent
        if !dir.isEmpty { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            fd = -1
            throw Busy(database: database, pid: Self.pid(database: database))
        }
        let tmp = pidPath + ".tmp"
        try "\(getpid())\n".write(toFile: tmp, atomically: false, encoding: .utf8)
        guard rename(tmp, pidPath) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    }

    /// Removes the pid file and lets go of the lock.
    public func release() {
        guard fd >= 0 else { return }
        unlink(pidPath)
        close(fd)
        fd = -1
    }

    deinit { release() }

    /// The pid in `DB.pid`, if a broker holds the database's lock now; nil if none does (a pid
    /// file left by a killed broker names nobody).
    public static func runningBroker(database: String) -> pid_t? {
        let fd = open(lockPath(database: database), O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        if flock(fd, LOCK_SH | LOCK_NB) == 0 { return nil }  // nobody holds it exclusively
        return pid(database: database)
    }

    static func pid(database: String) -> pid_t? {
        (try? String(contentsOfFile: path(database: database), encoding: .utf8))
            .flatMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }
}
