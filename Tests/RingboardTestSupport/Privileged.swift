import Foundation
import Testing

/// Whether tests that need privileges this process may lack (root, a tmpfs mount, a second user)
/// must run: true when `RINGBOARD_REQUIRE_PRIVILEGED=1`, as `.ci/run` sets it. Such a test then
/// fails, naming what is missing, where it would otherwise be skipped.
public let privilegedTestsRequired: Bool = ProcessInfo.processInfo.environment["RINGBOARD_REQUIRE_PRIVILEGED"] == "1"

/// Why this process is not root, or `nil` when it is.
public let rootProblem: String? = {
    let uid = getuid()
    return uid == 0 ? nil : "not running as root (uid \(uid))"
}()

extension Trait where Self == ConditionTrait {
    /// Runs the test only when nothing is `missing`. Otherwise the test is skipped with `need` as
    /// the reason, or, when ``privilegedTestsRequired``, fails with `need` and what is missing.
    ///
    /// - Parameters:
    ///   - need: What the test needs, such as "needs root to mount a tmpfs".
    ///   - missing: What this process lacks for it, or `nil` when it has everything.
    /// - Returns: A condition trait for a test or a suite.
    public static func privileged(
        _ need: String, missing: @autoclosure @escaping @Sendable () -> String?,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> Self {
        .enabled(Comment(rawValue: need), sourceLocation: sourceLocation) {
            guard let problem = missing() else { return true }
            if privilegedTestsRequired { throw MissingPrivilege(need: need, problem: problem) }
            return false
        }
    }
}

/// A test that needs a privilege this process lacks, while ``privilegedTestsRequired``.
public struct MissingPrivilege: Error, CustomStringConvertible {
    /// What the test needs.
    public var need: String
    /// What is missing.
    public var problem: String

    public var description: String {
        "\(need): \(problem) (RINGBOARD_REQUIRE_PRIVILEGED=1 makes this a failure instead of a skip)"
    }
}
