import Glibc
import SystemPackage

/// Runs a system call that returns -1 and sets errno on failure, retrying on `EINTR`.
@inline(__always)
func valueOrErrno<T: FixedWidthInteger>(_ call: () -> T) -> Result<T, Errno> {
    while true {
        let value = call()
        if value != -1 { return .success(value) }
        let error = Errno(rawValue: errno)
        if error == .interrupted { continue }
        return .failure(error)
    }
}

/// The system calls the ring needs beyond swift-system's `FileDescriptor`.
enum Syscalls {
    struct FileStatus {
        var owner: uid_t
        var mode: mode_t
        var size: Int64
        var isRegular: Bool
        var isDirectory: Bool
    }

    static func status(_ fd: FileDescriptor) -> Result<FileStatus, Errno> {
        var info = stat()
        return valueOrErrno { fstat(fd.rawValue, &info) }.map { _ in FileStatus(info) }
    }

    /// The status of `path` itself, not of what a symbolic link there points to.
    static func linkStatus(_ path: String) -> Result<FileStatus, Errno> {
        var info = stat()
        return valueOrErrno { lstat(path, &info) }.map { _ in FileStatus(info) }
    }

    static func truncate(_ fd: FileDescriptor, _ length: Int) -> Result<Void, Errno> {
        valueOrErrno { ftruncate(fd.rawValue, off_t(length)) }.map { _ in () }
    }

    /// Maps the first `length` bytes of the file, shared; with `populate`, its pages are faulted
    /// in up front (`MAP_POPULATE`).
    static func map(_ fd: FileDescriptor, length: Int, populate: Bool) -> Result<UnsafeMutableRawPointer, Errno> {
        let address = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED | (populate ? MAP_POPULATE : 0), fd.rawValue, 0)
        guard let address, address != MAP_FAILED else { return .failure(Errno(rawValue: errno)) }
        return .success(address)
    }

    /// Allocates the file's blocks up to `length` (growing it), so that stores into a mapping of
    /// them cannot fail for want of space.
    static func allocate(_ fd: FileDescriptor, length: Int) -> Result<Void, Errno> {
        // posix_fallocate returns the error rather than setting errno.
        let result = posix_fallocate(fd.rawValue, 0, off_t(length))
        return result == 0 ? .success(()) : .failure(Errno(rawValue: result))
    }

    /// Faults in the pages of a shared mapping for writing, in one call (`MADV_POPULATE_WRITE`,
    /// Linux 5.14). Older kernels refuse the advice, and the pages fault in as they are touched.
    static func populateForWriting(_ address: UnsafeMutableRawPointer, length: Int) {
        let populateWrite: Int32 = 23  // MADV_POPULATE_WRITE
        _ = madvise(address, length, populateWrite)
    }

    static func unmap(_ address: UnsafeMutableRawPointer, length: Int) {
        munmap(address, length)
    }

    static func makeDirectory(_ path: String, mode: mode_t) -> Result<Void, Errno> {
        valueOrErrno { mkdir(path, mode) }.map { _ in () }
    }

    static func rename(_ from: String, _ to: String) -> Result<Void, Errno> {
        valueOrErrno { Glibc.rename(from, to) }.map { _ in () }
    }

    static func unlink(_ path: String) -> Result<Void, Errno> {
        valueOrErrno { Glibc.unlink(path) }.map { _ in () }
    }

    static var effectiveUserID: uid_t { geteuid() }
    static var processID: Int32 { getpid() }

    /// Nanoseconds since the Unix epoch.
    static func wallClockNanoseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
    }

    /// When process `pid` started, in clock ticks after boot (`/proc/<pid>/stat` field 22), or
    /// `nil` when there is no such process. Together with the pid it names a process uniquely,
    /// even after the pid is reused.
    static func processStartTime(_ pid: Int32) -> UInt64? {
        guard let descriptor = try? FileDescriptor.open(FilePath("/proc/\(pid)/stat"), .readOnly, options: [.closeOnExec])
        else { return nil }
        defer { try? descriptor.close() }
        var buffer = [UInt8](repeating: 0, count: 1024)
        guard let count = try? buffer.withUnsafeMutableBytes({ try descriptor.read(into: $0) }), count > 0 else { return nil }
        // The command name (field 2) is in parentheses and may itself hold spaces and ')'.
        guard let close = buffer[0..<count].lastIndex(of: UInt8(ascii: ")")) else { return nil }
        let fields = buffer[(close + 1)..<count].split(separator: UInt8(ascii: " "))
        // fields[0] is field 3 (state), so field 22 is fields[19].
        guard fields.count > 19 else { return nil }
        return UInt64(String(decoding: fields[19], as: UTF8.self))
    }

    /// Whether process `pid` exists (it may belong to another user).
    static func processExists(_ pid: Int32) -> Bool {
        kill(pid, 0) == 0 || errno == EPERM
    }
}

extension Syscalls.FileStatus {
    init(_ info: stat) {
        owner = info.st_uid
        mode = info.st_mode & 0o7777
        size = Int64(info.st_size)
        isRegular = (info.st_mode & S_IFMT) == S_IFREG
        isDirectory = (info.st_mode & S_IFMT) == S_IFDIR
    }
}
