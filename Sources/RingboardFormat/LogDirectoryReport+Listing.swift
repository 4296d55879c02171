internal import RingboardSystem

/// Finds event files below a log directory, as TensorBoard does: every file whose name contains
/// `tfevents`, in the directory and all its subdirectories. Symbolic links to directories are not
/// followed, so a link cannot make the walk loop or leave the tree.
extension LogDirectoryReport {
    enum FileKind {
        case directory, regularFile, other
    }

    /// What is at `path` (following a symbolic link at the path itself).
    static func fileKind(of path: String) throws(EventFileError) -> FileKind {
        switch Syscalls.status(path) {
        case .success(let status) where status.isDirectory: .directory
        case .success(let status) where status.isRegular: .regularFile
        case .success: .other
        case .failure(let error): throw .systemCall("stat", path: path, error)
        }
    }

    static func size(of path: String) throws(EventFileError) -> Int64 {
        switch Syscalls.status(path) {
        case .success(let status): status.size
        case .failure(let error): throw .systemCall("stat", path: path, error)
        }
    }

    /// Every event file below `root`: its run (directory relative to `root`, `.` for `root`),
    /// its name and its path.
    static func eventFiles(under root: String) throws(EventFileError) -> [(run: String, name: String, path: String)] {
        var found: [(run: String, name: String, path: String)] = []
        var pending: [String] = ["."]
        while let run = pending.popLast() {
            let directory = run == "." ? root : root + "/" + run
            let entries: [DirectoryListing.Entry]
            do {
                entries = try DirectoryListing.entries(of: directory)
            } catch {
                throw EventFileError(error)
            }
            for entry in entries {
                let relative = run == "." ? entry.name : run + "/" + entry.name
                if entry.isDirectory {
                    pending.append(relative)
                } else if EventFileName.isEventFile(entry.name) {
                    found.append((run, entry.name, directory + "/" + entry.name))
                }
            }
        }
        return found
    }
}
