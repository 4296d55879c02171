/// Path text, taken apart and put together without touching the file system.
package enum Paths {
    /// The directory part of `path`, as `dirname` gives it: `/` for `/x`, `.` for `x`, `a` for
    /// `a/x`. Trailing slashes are not stripped first (`a/` gives `a`).
    ///
    /// - Parameter path: A path.
    /// - Returns: The directory `path`'s last component lies in.
    package static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let directory = path[..<slash]
        // `/x` and `//x`: the root.
        return directory.allSatisfy { $0 == "/" } ? "/" : String(directory)
    }

    /// The part of `path` after its last `/`, or the whole path when it has none.
    ///
    /// - Parameter path: A path.
    /// - Returns: Its last component (empty for a path ending in `/`).
    package static func lastComponent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    /// `directory/name`, without doubling a `/` that ends `directory`.
    ///
    /// - Parameters:
    ///   - directory: A directory.
    ///   - name: A name or relative path in it.
    /// - Returns: The joined path.
    package static func joined(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    /// The part of `path` below `root`, or `nil` when `path` does not lie below it (or is it).
    ///
    /// - Parameters:
    ///   - path: A path.
    ///   - root: A directory.
    /// - Returns: The relative path, without a leading `/`.
    package static func relative(_ path: String, below root: String) -> String? {
        let prefix = root.hasSuffix("/") ? root : root + "/"
        guard path.hasPrefix(prefix), path.count > prefix.count else { return nil }
        return String(path.dropFirst(prefix.count))
    }
}
