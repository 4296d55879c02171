import SystemPackage

/// A system call that failed: its name, the path it concerned when there is one, and its error
/// number. Each module maps it into its own public error (`RingError.systemCall`,
/// `EventFileError.systemCall`, …), keeping the same three parts.
package struct SystemCallError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The call's name, as in its manual page: `open`, `mkdir`, `rename`.
    package var call: String
    /// The path the call concerned, or `nil` for a call on a descriptor alone.
    package var path: String?
    /// What the call returned in `errno`.
    package var errno: Errno

    /// A failed call.
    ///
    /// - Parameters:
    ///   - call: The call's name.
    ///   - path: The path it concerned, if any.
    ///   - errno: Its error number.
    package init(_ call: String, path: String? = nil, _ errno: Errno) {
        self.call = call
        self.path = path
        self.errno = errno
    }

    /// What failed and why, without the path: `rename failed: No such file or directory (errno 2)`.
    package var reason: String {
        "\(call) failed: \(errno.description) (errno \(errno.rawValue))"
    }

    /// One line naming the path first, when there is one: `/logs/run: mkdir failed: Permission
    /// denied (errno 13)`.
    package var description: String {
        path.map { "\($0): \(reason)" } ?? reason
    }
}
