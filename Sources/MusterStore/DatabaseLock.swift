import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One broker per database: an exclusive `flock` on `DB.pid`, taken before the store is opened
/// and held for the broker's life. The file carries the owner's pid (for `muster keys reload`
/// and for the refusal message). The kernel drops the lock when the process dies, so a broker
/// killed with -9 never blocks the next one; a stale pid in the file is simply overwritten.
public final class DatabaseLock: @unchecked Sendable {
    public struct Busy: Error, CustomStringConvertible {
        public let database: String
        public let pid: pid_t?
        public var description: String {
            "the database \(database) is in use by another muster broker" + (pid.map { " (pid \($0))" } ?? "")
                + "; one broker per database: stop it first, or give this one another --db"
        }
    }

    public let path: String
    private var fd: Int32

    /// `DB.pid`, beside the database.
    public static func path(database: String) -> String { database + ".pid" }

    /// Takes the lock or throws `Busy` naming the live owner's pid at once (never waits).
    public init(database: String) throws {
        path = Self.path(database: database)
        let dir = (database as NSString).deletingLastPathComponent
        if !dir.isEmpty { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        while true {
            let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
                let owner = Self.readPid(fd)
                close(fd)
                throw Busy(database: database, pid: owner)
            }
            // The owner before us may have removed the file between our open and our flock:
            // then we hold a lock on a file nobody else will open. Start again on the new one.
            var held = stat(), named = stat()
            if fstat(fd, &held) == 0, stat(path, &named) == 0, held.st_ino == named.st_ino, held.st_dev == named.st_dev {
                self.fd = fd
                break
            }
            close(fd)
        }
        let text = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    }

    /// Removes the pid file and lets go; only the owner ever removes it.
    public func release() {
        guard fd >= 0 else { return }
        unlink(path)
        close(fd)
        fd = -1
    }

    deinit { release() }

    private static func readPid(_ fd: Int32) -> pid_t? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return nil }
        return pid_t(String(decoding: buffer[..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
