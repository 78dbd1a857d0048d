import Foundation

/// Names the calling thread for the OS (`top -H`, `/proc/PID/task/TID/comm`, `perf`): on Linux
/// Foundation's `Thread.name` is Foundation's alone, and Swift's Glibc does not export
/// `pthread_setname_np`, so the name is written where the kernel keeps it (15 bytes at most:
/// longer names are cut).
public func nameThisThread(_ name: String) {
    #if os(Linux)
    try? Data(name.utf8.prefix(15)).write(to: URL(fileURLWithPath: "/proc/thread-self/comm"))
    #endif
}
