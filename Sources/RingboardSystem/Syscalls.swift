import Glibc
import SystemPackage
internal import CRingboard

/// Runs a system call that returns -1 and sets `errno` on failure.
///
/// - Parameters:
///   - retryOnInterrupt: Call again when the call fails with `EINTR` (`.interrupted`).
///   - call: The call.
/// - Returns: The call's value, or its `errno`.
@inlinable
package func valueOrErrno<T: FixedWidthInteger>(
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

/// The system calls Ringboard needs beyond swift-system's `FileDescriptor`. Each returns its
/// `errno` as a `Result`; the caller names the path when it reports the failure.
package enum Syscalls {
    /// What `stat` says about a file.
    package struct FileStatus: Equatable, Sendable {
        /// The owner's user id.
        package var owner: uid_t
        /// The permission bits (`st_mode & 0o7777`).
        package var mode: mode_t
        /// The size in bytes.
        package var size: Int64
        /// The number of hard links; 0 for a file removed while open.
        package var links: Int
        package var isRegular: Bool
        package var isDirectory: Bool
        package var isSymbolicLink: Bool
        /// The device and inode numbers: the file's identity, whatever its name.
        package var device: UInt64
        package var inode: UInt64
        /// The bytes of storage allocated to it (`st_blocks` × 512).
        package var allocatedBytes: Int64
    }

    /// The status of an open file (`fstat`).
    package static func status(_ fd: FileDescriptor) -> Result<FileStatus, Errno> {
        var info = stat()
        return valueOrErrno { fstat(fd.rawValue, &info) }.map { _ in FileStatus(info) }
    }

    /// The status of what `path` names, following a symbolic link there (`stat`).
    package static func status(_ path: String) -> Result<FileStatus, Errno> {
        var info = stat()
        return valueOrErrno { stat(path, &info) }.map { _ in FileStatus(info) }
    }

    /// The status of `path` itself, not of what a symbolic link there points to (`lstat`).
    package static func linkStatus(_ path: String) -> Result<FileStatus, Errno> {
        var info = stat()
        return valueOrErrno { lstat(path, &info) }.map { _ in FileStatus(info) }
    }

    /// Cuts or extends the file to `length` bytes (`ftruncate`).
    package static func truncate(_ fd: FileDescriptor, _ length: Int) -> Result<Void, Errno> {
        valueOrErrno { ftruncate(fd.rawValue, off_t(length)) }.map { _ in () }
    }

    /// Waits until the file's data and metadata are on disk.
    package static func fsync(_ fd: FileDescriptor) -> Result<Void, Errno> {
        valueOrErrno { Glibc.fsync(fd.rawValue) }.map { _ in () }
    }

    /// Starts writing the file's dirty pages in `offset..<offset + length` to disk and returns
    /// without waiting for them (`sync_file_range` with `SYNC_FILE_RANGE_WRITE`), so that a later
    /// `fsync` finds them written or on their way. It guarantees nothing: errors show at `fsync`.
    package static func startWriteback(_ fd: FileDescriptor, offset: Int64, length: Int64) {
        _ = CRingboard_start_writeback(fd.rawValue, offset, length)
    }

    /// Reserves the file's blocks in `offset..<offset + length` without changing its size
    /// (`fallocate` with `FALLOC_FL_KEEP_SIZE`). A `truncate` to its size gives them back.
    package static func preallocate(_ fd: FileDescriptor, offset: Int64, length: Int64) -> Result<Void, Errno> {
        let result = CRingboard_preallocate(fd.rawValue, offset, length)
        return result == 0 ? .success(()) : .failure(Errno(rawValue: -result))
    }

    /// Maps the first `length` bytes of the file, shared; with `populate`, its pages are faulted
    /// in up front (`MAP_POPULATE`).
    ///
    /// - Warning: The caller owns the mapping and must `unmap` it.
    package static func map(_ fd: FileDescriptor, length: Int, populate: Bool) -> Result<UnsafeMutableRawPointer, Errno> {
        let address = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED | (populate ? MAP_POPULATE : 0), fd.rawValue, 0)
        guard let address, address != MAP_FAILED else { return .failure(Errno(rawValue: errno)) }
        return .success(address)
    }

    /// Maps the first `length` bytes of the file read-only and shared, with its pages faulted in
    /// up front (`MAP_POPULATE`) when `populate`.
    ///
    /// - Warning: The caller owns the mapping and must `unmap` it. A load past the file's end
    ///   (a file cut while mapped) raises `SIGBUS`.
    package static func mapReadOnly(_ fd: FileDescriptor, length: Int, populate: Bool = false) -> Result<UnsafeRawPointer, Errno> {
        let address = mmap(nil, length, PROT_READ, MAP_SHARED | (populate ? MAP_POPULATE : 0), fd.rawValue, 0)
        guard let address, address != MAP_FAILED else { return .failure(Errno(rawValue: errno)) }
        return .success(UnsafeRawPointer(address))
    }

    /// Allocates the file's blocks up to `length` (growing it), so that stores into a mapping of
    /// them cannot fail for want of space.
    package static func allocate(_ fd: FileDescriptor, length: Int) -> Result<Void, Errno> {
        // posix_fallocate returns the error rather than setting errno.
        let result = posix_fallocate(fd.rawValue, 0, off_t(length))
        return result == 0 ? .success(()) : .failure(Errno(rawValue: result))
    }

    /// Faults in the pages of a shared mapping for writing, in one call (`MADV_POPULATE_WRITE`,
    /// Linux 5.14). Older kernels refuse the advice, and the pages fault in as they are touched.
    package static func populateForWriting(_ address: UnsafeMutableRawPointer, length: Int) {
        let populateWrite: Int32 = 23  // MADV_POPULATE_WRITE
        _ = madvise(address, length, populateWrite)
    }

    package static func unmap(_ address: UnsafeMutableRawPointer, length: Int) {
        munmap(address, length)
    }

    package static func unmap(_ address: UnsafeRawPointer, length: Int) {
        munmap(UnsafeMutableRawPointer(mutating: address), length)
    }

    /// Makes one directory (`mkdir`); its parent must exist. Fails with `.fileExists` when
    /// something is there already.
    ///
    /// - Note: Run output goes through `ConfinedDirectory`, which never follows a symbolic link.
    package static func makeDirectory(_ path: String, mode: mode_t) -> Result<Void, Errno> {
        valueOrErrno { mkdir(path, mode) }.map { _ in () }
    }

    package static func rename(_ from: String, _ to: String) -> Result<Void, Errno> {
        valueOrErrno { Glibc.rename(from, to) }.map { _ in () }
    }

    package static func unlink(_ path: String) -> Result<Void, Errno> {
        valueOrErrno { Glibc.unlink(path) }.map { _ in () }
    }

    package static var effectiveUserID: uid_t { geteuid() }
    package static var processID: Int32 { getpid() }
    /// The calling thread's id as the kernel numbers it (`gettid`).
    package static var threadID: Int { CRingboard_thread_id() }

    /// This machine's host name, as TensorFlow puts it in event file names (`gethostname`;
    /// `localhost` when there is none).
    package static func hostName() -> String {
        var name = [CChar](repeating: 0, count: 256)
        guard gethostname(&name, name.count - 1) == 0 else { return "localhost" }
        let host = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return host.isEmpty ? "localhost" : host
    }

    /// Nanoseconds since the Unix epoch (`CLOCK_REALTIME`).
    package static func wallClockNanoseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
    }

    /// Seconds since the Unix epoch, with sub-second precision (`CLOCK_REALTIME`).
    package static func wallTime() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    /// When process `pid` started, in clock ticks after boot (`/proc/<pid>/stat` field 22), or
    /// `nil` when there is no such process. Together with the pid it names a process uniquely,
    /// even after the pid is reused.
    package static func processStartTime(_ pid: Int32) -> UInt64? {
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
    package static func processExists(_ pid: Int32) -> Bool {
        kill(pid, 0) == 0 || errno == EPERM
    }
}

extension Syscalls.FileStatus {
    init(_ info: stat) {
        owner = info.st_uid
        mode = info.st_mode & 0o7777
        size = Int64(info.st_size)
        links = Int(info.st_nlink)
        isRegular = (info.st_mode & S_IFMT) == S_IFREG
        isDirectory = (info.st_mode & S_IFMT) == S_IFDIR
        isSymbolicLink = (info.st_mode & S_IFMT) == S_IFLNK
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        allocatedBytes = Int64(info.st_blocks) * 512
    }
}
