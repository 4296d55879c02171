import Glibc
import SystemPackage

/// Runs a system call that returns -1 and sets errno on failure, retrying on `EINTR`.
@inline(__always)
func valueOrErrno<T: FixedWidthInteger>(
    retryOnInterrupt: Bool = true, _ call: () -> T
) -> Result<T, Errno> {
    while true {
        let value = call()
        if value != -1 { return .success(value) }
        let error = Errno(rawValue: errno)
        if retryOnInterrupt && error == .interrupted { continue }
        return .failure(error)
    }
}

enum Syscalls {
    static func ftruncate(_ fd: FileDescriptor, _ length: Int64) -> Result<Void, Errno> {
        valueOrErrno { Glibc.ftruncate(fd.rawValue, off_t(length)) }.map { _ in () }
    }

    static func fsync(_ fd: FileDescriptor) -> Result<Void, Errno> {
        valueOrErrno { Glibc.fsync(fd.rawValue) }.map { _ in () }
    }

    /// The file's link count and size; a link count of 0 means the file was removed.
    static func linkCountAndSize(_ fd: FileDescriptor) -> Result<(links: Int, size: Int64, isRegular: Bool), Errno> {
        var info = stat()
        return valueOrErrno { fstat(fd.rawValue, &info) }.map { _ in
            (Int(info.st_nlink), Int64(info.st_size), (info.st_mode & S_IFMT) == S_IFREG)
        }
    }

    static func unlink(_ path: String) -> Result<Void, Errno> {
        valueOrErrno { Glibc.unlink(path) }.map { _ in () }
    }

    static func mkdir(_ path: String, mode: mode_t) -> Result<Void, Errno> {
        valueOrErrno { Glibc.mkdir(path, mode) }.map { _ in () }
    }

    /// This machine's host name, as TensorFlow puts it in event file names (`gethostname`).
    static func hostName() -> String {
        var name = [CChar](repeating: 0, count: 256)
        guard gethostname(&name, name.count - 1) == 0 else { return "localhost" }
        let host = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return host.isEmpty ? "localhost" : host
    }

    static func processID() -> Int32 { getpid() }

    /// Seconds since the Unix epoch, with sub-second precision.
    static func wallTime() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}
