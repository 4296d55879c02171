import Glibc
import SystemPackage

/// Directories below a log root that stay below it: each component is opened relative to its
/// parent with `O_NOFOLLOW | O_DIRECTORY` (and made with `mkdirat` when missing), so a symbolic
/// link planted anywhere under the root, pointing outside it, is refused rather than followed.
/// The root itself may be a symbolic link: it is the user's choice, not something found inside.
///
/// - Note: This checks the directories as they are now. Someone who can write the log directory
///   could still swap a checked directory for a link before the file inside it is created; the
///   event file itself is then still never followed (`O_EXCL | O_NOFOLLOW`).
public enum ConfinedDirectory {
    /// Creates `relative` under `root`, component by component (mode 0755 less the umask), and
    /// checks that every component is a real directory.
    ///
    /// - Parameters:
    ///   - relative: A path relative to `root`; `.` and empty components are skipped, `..` is
    ///     refused.
    ///   - root: The log root (created when missing, as `mkdir -p` would).
    /// - Returns: `root/relative`.
    /// - Throws: `EventFileError.systemCall` naming the component: `open` with
    ///   `.tooManySymbolicLinkLevels` for a symbolic link, `.notDirectory` for a file, and
    ///   `.invalidArgument` for a `..` or an absolute `relative`.
    @discardableResult
    public static func create(_ relative: String, under root: String) throws(EventFileError) -> String {
        let full = root.hasSuffix("/") ? root + relative : root + "/" + relative
        guard !relative.hasPrefix("/") else { throw .systemCall("open", path: full, .invalidArgument) }
        try makeRoot(root)
        var directory: Int32
        switch valueOrErrno({ open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }) {
        case .success(let descriptor): directory = descriptor
        case .failure(let error): throw .systemCall("open", path: root, error)
        }
        defer { close(directory) }
        var path = root
        for component in relative.split(separator: "/", omittingEmptySubsequences: true) where component != "." {
            path += "/" + component
            guard component != ".." else { throw .systemCall("open", path: path, .invalidArgument) }
            let name = String(component)
            if case .failure(let error) = valueOrErrno({ mkdirat(directory, name, 0o755) }), error != .fileExists {
                throw .systemCall("mkdir", path: path, error)
            }
            let next: Int32
            switch valueOrErrno({ openat(directory, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }) {
            case .success(let descriptor): next = descriptor
            case .failure(let error):
                // Linux says "not a directory" for a link opened with O_DIRECTORY: say what it is.
                var status = stat()
                let isLink = fstatat(directory, name, &status, AT_SYMLINK_NOFOLLOW) == 0 && status.st_mode & S_IFMT == S_IFLNK
                throw .systemCall("open", path: path, isLink ? .tooManySymbolicLinkLevels : error)
            }
            close(directory)
            directory = next
        }
        return full
    }

    /// `mkdir -p` for the root (links allowed: the root is the caller's to choose).
    static func makeRoot(_ root: String) throws(EventFileError) {
        var prefix = root.hasPrefix("/") ? "/" : ""
        for component in root.split(separator: "/", omittingEmptySubsequences: true) {
            prefix += component
            if case .failure(let error) = Syscalls.mkdir(prefix, mode: 0o755), error != .fileExists {
                throw .systemCall("mkdir", path: prefix, error)
            }
            prefix += "/"
        }
    }
}
