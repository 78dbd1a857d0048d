import CTCMalloc
import Foundation

/// Which allocator serves this process's malloc. The executable links TCMalloc (CTCMalloc): with
/// glibc's malloc, allocating and freeing were ~10 % of the broker's CPU a lifecycle
/// (docs/PERFORMANCE.md, eleventh round). Not jemalloc, which measured a little faster: it hangs
/// at start under libfaketime (its first clock_gettime comes before libfaketime can answer one;
/// wolfcw/libfaketime#130), and the calendar's black-box tests run the broker under faketime.
/// Asked of the dynamic linker rather than assumed, since a library loaded before it (or
/// LD_PRELOAD) would take malloc back.
enum Allocator {
    /// "gperftools 2.10 (TCMalloc)" when TCMalloc's malloc is the one every library calls;
    /// otherwise the file whose malloc it is.
    static func describe() -> String {
        let library = mallocLibrary()
        guard library.contains("tcmalloc") else { return library }
        var major: Int32 = 0, minor: Int32 = 0
        var patch: UnsafePointer<CChar>? = nil
        guard let version = tc_version(&major, &minor, &patch) else { return "TCMalloc" }
        return String(cString: version) + " (TCMalloc)"
    }

    /// The file that defines the `malloc` the dynamic linker resolves for everyone (RTLD_DEFAULT),
    /// found among the process's mappings (glibc's `dladdr` is not visible to Swift).
    static func mallocLibrary() -> String {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc"),
              // Read to the end: String(contentsOfFile:) stops at 4 KB for a /proc file.
              let data = try? FileHandle(forReadingAtPath: "/proc/self/maps")?.readToEnd() else { return "unknown" }
        let maps = String(decoding: data, as: UTF8.self)
        let address = UInt(bitPattern: symbol)
        for line in maps.split(separator: "\n") {
            // "start-end perms offset dev inode path"
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6 else { continue }
            let range = fields[0].split(separator: "-")
            guard range.count == 2, let start = UInt(range[0], radix: 16), let end = UInt(range[1], radix: 16),
                  start <= address, address < end else { continue }
            return (String(fields[5]) as NSString).lastPathComponent
        }
        return "unknown"
    }
}
