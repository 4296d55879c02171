import Glibc
import SystemPackage

/// Writes whole files so that a reader sees either the old contents or the new, never a part:
/// the bytes go to a temporary file beside the target, are `fsync`ed, and the temporary file is
/// renamed over the target. A failure removes the temporary file and leaves the target as it was.
enum AtomicFile {
    /// Writes `bytes` to `path`, creating its directory (and parents) first.
    static func write(_ bytes: [UInt8], to path: String) throws(SummaryFileError) {
        try makeDirectories(directory(of: path))
        let temporary = path + ".tmp.\(getpid())"
        let descriptor: FileDescriptor
        do {
            descriptor = try FileDescriptor.open(
                FilePath(temporary), .writeOnly,
                options: [.create, .truncate, .noFollow, .closeOnExec],
                permissions: [.ownerReadWrite, .groupRead, .otherRead])
        } catch {
            throw .systemCall("open", path: temporary, error as? Errno ?? .ioError)
        }
        do {
            try descriptor.closeAfter {
                _ = try descriptor.writeAll(bytes)
                if fsync(descriptor.rawValue) != 0 { throw Errno(rawValue: errno) }
            }
        } catch {
            unlink(temporary)
            throw .systemCall("write", path: temporary, error as? Errno ?? .ioError)
        }
        if rename(temporary, path) != 0 {
            let error = Errno(rawValue: errno)
            unlink(temporary)
            throw .systemCall("rename", path: path, error)
        }
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static func makeDirectories(_ directory: String) throws(SummaryFileError) {
        var prefix = directory.hasPrefix("/") ? "/" : ""
        for component in directory.split(separator: "/", omittingEmptySubsequences: true) {
            prefix += component
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                throw .systemCall("mkdir", path: prefix, Errno(rawValue: errno))
            }
            prefix += "/"
        }
    }
}

/// A file a summary writes (a profile trace, the projector's files) could not be written.
public enum SummaryFileError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A system call failed: its name, the path and the error number.
    case systemCall(String, path: String, Errno)
    /// zlib failed to compress.
    case compression(path: String, String)

    /// A one-line description naming the path.
    public var description: String {
        switch self {
        case .systemCall(let call, let path, let errno): "\(path): \(call) failed: \(errno.description) (errno \(errno.rawValue))"
        case .compression(let path, let message): "\(path): compression failed: \(message)"
        }
    }
}
