import Glibc
import SystemPackage

/// Writes whole files so that a reader sees either the old contents or the new, never a part:
/// the bytes go to a temporary file beside the target (`<name>.<pid>.tmp`), which is renamed
/// over the target. A durable replace also `fsync`s the file before the rename and the directory
/// after it. A failure removes the temporary file and leaves the target as it was.
///
/// The target's directory is made with `ConfinedDirectory`, so no symbolic link below the root
/// is followed, and the file is made and renamed relative to that directory.
///
/// - Warning: Two writers replacing one file at once each leave a whole file; the last rename
///   wins. Not atomic across a machine crash unless `durable`.
package enum AtomicFile {
    /// The suffix of a temporary file `replace` writes: `.<pid>.tmp`.
    package static var temporarySuffix: String { ".\(Syscalls.processID).tmp" }

    /// Replaces `relative` under `root` with `parts`, one after another.
    ///
    /// - Parameters:
    ///   - relative: The file, relative to `root`; its directories are made as
    ///     `ConfinedDirectory.create(_:under:)` makes them.
    ///   - root: The directory `relative` lies below; it may be a symbolic link.
    ///   - parts: The contents, in parts (a header and a body, say), written in order.
    ///   - permissions: The mode of a new file (less the umask).
    ///   - durable: `fsync` the file before the rename and its directory after it.
    ///   - spare: The name of a file in the same directory that is no longer needed: it is
    ///     overwritten instead of a new file being made, so its blocks (or memory) are reused.
    /// - Returns: `root/relative`.
    /// - Throws: `SystemCallError`: `open`, `write`, `fsync` or `close` naming the temporary
    ///   file, `rename` naming the target, or what `ConfinedDirectory` throws.
    @discardableResult
    package static func replace(
        _ relative: String, under root: String, with parts: [[UInt8]],
        permissions: FilePermissions = [.ownerReadWrite, .groupRead, .otherRead],
        durable: Bool = true, reusing spare: String? = nil
    ) throws(SystemCallError) -> String {
        let path = Paths.joined(root, relative)
        let name = Paths.lastComponent(of: relative)
        guard !name.isEmpty, name != ".", name != ".." else { throw SystemCallError("open", path: path, .invalidArgument) }
        let directory = try ConfinedDirectory.open(Paths.directory(of: relative), under: root)
        defer { try? directory.close() }
        let temporaryName = name + temporarySuffix
        let temporary = path + temporarySuffix
        let reused = spare.map { spare in valueOrErrno { renameat(directory.rawValue, spare, directory.rawValue, temporaryName) } }
        let flags = O_WRONLY | O_NOFOLLOW | O_CLOEXEC | (reused?.isSuccess == true ? 0 : O_CREAT | O_TRUNC)
        let file: FileDescriptor
        switch valueOrErrno({ openat(directory.rawValue, temporaryName, flags, permissions.rawValue) }) {
        case .success(let descriptor): file = FileDescriptor(rawValue: descriptor)
        case .failure(let error):
            _ = unlinkat(directory.rawValue, temporaryName, 0)
            throw SystemCallError("open", path: temporary, error)
        }
        func fail(_ call: String, _ error: Errno) -> SystemCallError {
            try? file.close()
            _ = unlinkat(directory.rawValue, temporaryName, 0)
            return SystemCallError(call, path: temporary, error)
        }
        do {
            for part in parts { _ = try file.writeAll(part) }
        } catch {
            throw fail("write", error as? Errno ?? .ioError)
        }
        if reused?.isSuccess == true, case .failure(let error) = Syscalls.truncate(file, parts.reduce(0) { $0 + $1.count }) {
            throw fail("ftruncate", error)
        }
        if durable, case .failure(let error) = Syscalls.fsync(file) { throw fail("fsync", error) }
        do {
            try file.close()
        } catch {
            _ = unlinkat(directory.rawValue, temporaryName, 0)
            throw SystemCallError("close", path: temporary, error as? Errno ?? .ioError)
        }
        if case .failure(let error) = valueOrErrno({ renameat(directory.rawValue, temporaryName, directory.rawValue, name) }) {
            _ = unlinkat(directory.rawValue, temporaryName, 0)
            throw SystemCallError("rename", path: path, error)
        }
        // File systems that cannot sync a directory say EINVAL; the rename stands all the same.
        if durable, case .failure(let error) = Syscalls.fsync(directory), error != .invalidArgument {
            throw SystemCallError("fsync", path: Paths.directory(of: path), error)
        }
        return path
    }

    /// The contents of `relative` under `root`, following no symbolic link from `root` down, or
    /// `nil` when there is no such file (nor its directory). A file over `maximumLength` bytes
    /// reads as `EFBIG`.
    package static func contents(of relative: String, under root: String, maximumLength: Int = 64 << 20) throws(SystemCallError) -> [UInt8]? {
        let path = Paths.joined(root, relative)
        let directory: FileDescriptor
        do {
            directory = try ConfinedDirectory.open(Paths.directory(of: relative), under: root)
        } catch where error.errno == .noSuchFileOrDirectory {
            return nil
        }
        defer { try? directory.close() }
        let file: FileDescriptor
        switch valueOrErrno({ openat(directory.rawValue, Paths.lastComponent(of: relative), O_RDONLY | O_NOFOLLOW | O_CLOEXEC) }) {
        case .success(let descriptor): file = FileDescriptor(rawValue: descriptor)
        case .failure(.noSuchFileOrDirectory): return nil
        case .failure(let error): throw SystemCallError("open", path: path, error)
        }
        defer { try? file.close() }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count: Int
            do {
                count = try chunk.withUnsafeMutableBytes { try file.read(into: $0) }
            } catch {
                throw SystemCallError("read", path: path, error as? Errno ?? .ioError)
            }
            if count == 0 { return bytes }
            bytes += chunk[..<count]
            guard bytes.count <= maximumLength else { throw SystemCallError("read", path: path, .fileTooLarge) }
        }
    }
}

extension Result {
    fileprivate var isSuccess: Bool {
        if case .success = self { true } else { false }
    }
}
