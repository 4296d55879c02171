#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SystemPackage

/// Finds event files below a log directory, as TensorBoard does: every file whose name contains
/// `tfevents`, in the directory and all its subdirectories. Symbolic links to directories are not
/// followed, so a link cannot make the walk loop or leave the tree.
enum DirectoryListing {
    enum Kind {
        case directory, regularFile, other
    }

    /// What is at `path` (following a symbolic link at the path itself).
    static func kind(of path: String) throws(EventFileError) -> Kind {
        var info = stat()
        if case .failure(let error) = valueOrErrno({ stat(path, &info) }) {
            throw .systemCall("stat", path: path, error)
        }
        switch info.st_mode & S_IFMT {
        case S_IFDIR: return .directory
        case S_IFREG: return .regularFile
        default: return .other
        }
    }

    static func size(of path: String) throws(EventFileError) -> Int64 {
        var info = stat()
        if case .failure(let error) = valueOrErrno({ stat(path, &info) }) {
            throw .systemCall("stat", path: path, error)
        }
        return Int64(info.st_size)
    }

    /// Every event file below `root`: its run (directory relative to `root`, `.` for `root`),
    /// its name and its path.
    static func eventFiles(under root: String) throws(EventFileError) -> [(run: String, name: String, path: String)] {
        var found: [(run: String, name: String, path: String)] = []
        var pending: [String] = ["."]
        while let run = pending.popLast() {
            let directory = run == "." ? root : root + "/" + run
            for (name, isDirectory) in try entries(of: directory) {
                let relative = run == "." ? name : run + "/" + name
                if isDirectory {
                    pending.append(relative)
                } else if EventFileName.isEventFile(name) {
                    found.append((run, name, directory + "/" + name))
                }
            }
        }
        return found
    }

    /// The entries of a directory, without `.` and `..`: names, and whether each is a directory
    /// (not a symbolic link to one).
    private static func entries(of directory: String) throws(EventFileError) -> [(String, Bool)] {
        guard let handle = opendir(directory) else {
            throw .systemCall("opendir", path: directory, Errno(rawValue: errno))
        }
        defer { closedir(handle) }
        var result: [(String, Bool)] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            var isDirectory = entry.pointee.d_type == UInt8(DT_DIR)
            if entry.pointee.d_type == UInt8(DT_UNKNOWN) {
                var info = stat()
                if lstat(directory + "/" + name, &info) == 0 {
                    isDirectory = (info.st_mode & S_IFMT) == S_IFDIR
                }
            }
            result.append((name, isDirectory))
        }
        return result
    }
}
