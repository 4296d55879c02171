import Glibc
import SystemPackage

/// Directories below a log root that stay below it: each component is opened relative to its
/// parent with `O_NOFOLLOW | O_DIRECTORY` (and made with `mkdirat` when missing), so a symbolic
/// link planted anywhere under the root, pointing outside it, is refused rather than followed.
/// The root itself may be a symbolic link: it is the user's choice, not something found inside.
///
/// Every directory Ringboard makes for run output (event files, profile traces, projector
/// files) is made here; `AtomicFile` makes the directories of the files it writes here too.
///
/// - Note: This checks the directories as they are now. Someone who can write the log directory
///   could still swap a checked directory for a link before a file inside it is created by path;
///   `open(_:under:)` hands back the checked directory itself, which files can be made relative to.
package enum ConfinedDirectory {
    /// Creates `relative` under `root`, component by component (mode 0755 less the umask), and
    /// checks that every component is a real directory.
    ///
    /// - Parameters:
    ///   - relative: A path relative to `root`; `.` and empty components are skipped, `..` is
    ///     refused (before anything is made).
    ///   - root: The log root (created when missing, as `mkdir -p` would).
    /// - Returns: `root/relative`.
    /// - Throws: `SystemCallError` naming the component: `open` with `.tooManySymbolicLinkLevels`
    ///   for a symbolic link, `.notDirectory` for a file, and `.invalidArgument` for a `..` or an
    ///   absolute `relative`; `mkdir` when a component cannot be made.
    @discardableResult
    package static func create(_ relative: String, under root: String) throws(SystemCallError) -> String {
        let directory = try open(relative, under: root)
        try? directory.close()
        return Paths.joined(root, relative)
    }

    /// Creates `directory`, confined to `root` when it lies below it (`create(_:under:)`), and
    /// otherwise as a root of its own (`mkdir -p`, links allowed: the caller chose it).
    ///
    /// - Parameters:
    ///   - directory: The directory to make.
    ///   - root: The log root it should lie below, if any.
    /// - Throws: `SystemCallError` as `create(_:under:)` does.
    package static func create(_ directory: String, confinedTo root: String?) throws(SystemCallError) {
        if let root, let relative = Paths.relative(directory, below: root) {
            try create(relative, under: root)
        } else {
            try create(".", under: directory)
        }
    }

    /// Creates `relative` under `root` as `create(_:under:)` does, and opens it.
    ///
    /// - Parameters:
    ///   - relative: A path relative to `root`.
    ///   - root: The log root.
    /// - Returns: The last directory, opened read-only (`O_DIRECTORY | O_CLOEXEC`); the caller
    ///   closes it.
    /// - Throws: `SystemCallError` as `create(_:under:)` does.
    package static func open(_ relative: String, under root: String) throws(SystemCallError) -> FileDescriptor {
        let full = Paths.joined(root, relative)
        guard !relative.hasPrefix("/") else { throw SystemCallError("open", path: full, .invalidArgument) }
        let components = relative.split(separator: "/", omittingEmptySubsequences: true).filter { $0 != "." }
        if let up = components.firstIndex(of: "..") {
            throw SystemCallError("open", path: root + "/" + components[...up].joined(separator: "/"), .invalidArgument)
        }
        try makeRoot(root)
        var directory: Int32
        switch valueOrErrno({ Glibc.open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }) {
        case .success(let descriptor): directory = descriptor
        case .failure(let error): throw SystemCallError("open", path: root, error)
        }
        var path = root
        for component in components {
            path += "/" + component
            let name = String(component)
            if case .failure(let error) = valueOrErrno({ mkdirat(directory, name, 0o755) }), error != .fileExists {
                close(directory)
                throw SystemCallError("mkdir", path: path, error)
            }
            switch valueOrErrno({ openat(directory, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }) {
            case .success(let next):
                close(directory)
                directory = next
            case .failure(let error):
                // Linux says "not a directory" for a link opened with O_DIRECTORY: say what it is.
                var status = stat()
                let isLink = fstatat(directory, name, &status, AT_SYMLINK_NOFOLLOW) == 0 && status.st_mode & S_IFMT == S_IFLNK
                close(directory)
                throw SystemCallError("open", path: path, isLink ? .tooManySymbolicLinkLevels : error)
            }
        }
        return FileDescriptor(rawValue: directory)
    }

    /// `mkdir -p` for a root: every missing component is made (mode 0755 less the umask), and
    /// symbolic links on the way are followed, since the root is the caller's to choose.
    ///
    /// - Parameter root: The directory.
    /// - Throws: `SystemCallError` from `mkdir` naming the component that could not be made.
    package static func makeRoot(_ root: String) throws(SystemCallError) {
        var prefix = root.hasPrefix("/") ? "/" : ""
        for component in root.split(separator: "/", omittingEmptySubsequences: true) {
            prefix += component
            if case .failure(let error) = Syscalls.makeDirectory(prefix, mode: 0o755), error != .fileExists {
                throw SystemCallError("mkdir", path: prefix, error)
            }
            prefix += "/"
        }
    }
}
