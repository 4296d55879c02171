import Foundation

/// A second, real user (`ringboard-intruder`) for tests of what other users leave where only
/// ours should be: made with `useradd` the first time it is needed (a system user: no home, no
/// login shell), and reused afterwards. Only root can make it and act as it.
public enum SecondUser {
    /// The user's name.
    public static let name = "ringboard-intruder"

    /// Why this process cannot make the user and run programs as it (it needs root, `useradd` and
    /// `setpriv`), or `nil` when it can. Tests that need the user are skipped, or fail when
    /// ``privilegedTestsRequired``, with this reason.
    public static let problem: String? = {
        if let rootProblem { return rootProblem }
        for tool in [useradd, setpriv] where !FileManager.default.isExecutableFile(atPath: tool) {
            return "\(tool) is missing"
        }
        return nil
    }()

    /// Whether this process can make the user and run programs as it (``problem`` is `nil`).
    public static var isAvailable: Bool { problem == nil }

    static let useradd = "/usr/sbin/useradd"
    static let setpriv = "/usr/bin/setpriv"

    /// The user's uid and gid, after making the user if it does not exist yet.
    public static func ids() throws -> (uid: uid_t, gid: gid_t) {
        if let existing = lookUp() { return existing }
        let result = try RingboardTestSupport.run(useradd, ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name], timeout: 60)
        // Status 9: another test made it first.
        guard result.status == 0 || result.status == 9, let ids = lookUp() else {
            throw SecondUserError(reason: "useradd \(name) failed with status \(result.status): \(result.standardError)")
        }
        return ids
    }

    private static func lookUp() -> (uid: uid_t, gid: gid_t)? {
        guard let entry = getpwnam(name) else { return nil }
        return (entry.pointee.pw_uid, entry.pointee.pw_gid)
    }

    /// Runs `executable` as the user (its uid and gid, no supplementary groups).
    ///
    /// - Parameters:
    ///   - executable: The program.
    ///   - arguments: Its arguments.
    ///   - timeout: The longest it may run, in seconds.
    /// - Returns: Its exit status and output.
    public static func run(_ executable: String, _ arguments: [String], timeout: Double = 120) throws -> ProcessOutput {
        let (uid, gid) = try ids()
        return try RingboardTestSupport.run(setpriv, ["--reuid=\(uid)", "--regid=\(gid)", "--clear-groups", "--", executable] + arguments,
                                            timeout: timeout)
    }

    /// Gives `path` to the user.
    public static func own(_ path: String) throws {
        let (uid, gid) = try ids()
        guard chown(path, uid, gid) == 0 else { throw SecondUserError(reason: "chown \(path): errno \(errno)") }
    }
}

/// The second user could not be made or used.
public struct SecondUserError: Error, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
}
