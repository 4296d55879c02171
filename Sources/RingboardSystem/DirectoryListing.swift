import Glibc
import SystemPackage

/// The entries of one directory, as `readdir` gives them.
package enum DirectoryListing {
    /// One entry of a directory.
    package struct Entry: Equatable, Sendable {
        /// The entry's name: any bytes but `/` and NUL, read as UTF-8 (bytes that are not valid
        /// UTF-8 come back as U+FFFD).
        package var name: String
        /// Whether it is a directory; a symbolic link to one is not.
        package var isDirectory: Bool
    }

    /// The entries of `directory`, without `.` and `..`, in the order `readdir` gives them.
    ///
    /// - Parameter directory: The directory (a symbolic link to one is followed).
    /// - Returns: Its entries.
    /// - Throws: `SystemCallError` from `opendir` naming `directory` when it cannot be opened.
    /// - Note: Not a snapshot: entries made or removed while it reads may or may not be listed.
    package static func entries(of directory: String) throws(SystemCallError) -> [Entry] {
        var handle: OpaquePointer?
        repeat {
            handle = opendir(directory)
        } while handle == nil && errno == EINTR
        guard let handle else { throw SystemCallError("opendir", path: directory, Errno(rawValue: errno)) }
        defer { closedir(handle) }
        var result: [Entry] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            var isDirectory = entry.pointee.d_type == UInt8(DT_DIR)
            if entry.pointee.d_type == UInt8(DT_UNKNOWN), case .success(let status) = Syscalls.linkStatus(Paths.joined(directory, name)) {
                // Some file systems leave the type to lstat.
                isDirectory = status.isDirectory
            }
            result.append(Entry(name: name, isDirectory: isDirectory))
        }
        return result
    }

    /// The names in `directory`, without `.` and `..`, in the order `readdir` gives them.
    ///
    /// - Parameter directory: The directory.
    /// - Returns: The names.
    /// - Throws: `SystemCallError` from `opendir` naming `directory` when it cannot be opened.
    package static func names(in directory: String) throws(SystemCallError) -> [String] {
        try entries(of: directory).map(\.name)
    }
}
