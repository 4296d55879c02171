internal import RingboardSystem
import Foundation
import Glibc
import RingboardRing
import Synchronization

/// Starts `ringboard aggregate` for a ring directory that no aggregator serves, so that a
/// trainer that makes a callback sees its events on disk with no daemon started first.
///
/// The aggregator is found in `RINGBOARD_AGGREGATE_BIN`, beside the running executable, or on
/// `PATH`. It is started as `ringboard aggregate --detach`, which leaves the trainer's session
/// and process group (a killed trainer, or its process group, does not take it down) and exits
/// once every ring is retired and it has been idle for `idleSeconds`. It logs to `aggregator.log`
/// in the ring directory. The directory's consumer lock keeps it to one: of two trainers racing
/// to start one, one aggregator stays. `RINGBOARD_AGGREGATE=off` turns this off.
enum AggregatorLauncher {
    /// Seconds an aggregator started here stays once it has nothing to do.
    static let idleSeconds = 60

    /// When this process last started an aggregator for each directory: not started again while
    /// that one may still be on its way to taking the lock.
    private static let started = Mutex<[String: ContinuousClock.Instant]>([:])

    /// How long an aggregator just started is given to take the directory's lock.
    static let startingTime: Duration = .seconds(10)

    /// The log root of the aggregator serving `ringDirectory`: `.some(nil)` when it has none,
    /// `nil` when no aggregator serves the directory.
    static func servingLogRoot(_ ringDirectory: String) -> String?? {
        guard RingDirectory.isServed(ringDirectory) else { return nil }
        return .some(AggregatorInfo.read(in: ringDirectory)?.logRoot)
    }

    /// Starts an aggregator for `ringDirectory` unless one serves it, this process started one
    /// already, `start` is false or the environment says `RINGBOARD_AGGREGATE=off`.
    ///
    /// - Parameters:
    ///   - ringDirectory: The ring directory, prepared.
    ///   - start: Whether to start one.
    ///   - executable: The `ringboard` executable to start; `nil` to look for one (`executable()`).
    /// - Returns: `nil`, or why none serves the directory and none was started.
    static func startIfUnserved(ringDirectory: String, start: Bool, executable given: String? = nil) -> String? {
        guard start, ProcessInfo.processInfo.environment["RINGBOARD_AGGREGATE"] != "off",
              !RingDirectory.isServed(ringDirectory)
        else { return nil }
        return started.locked { started -> String? in
            if let last = started[ringDirectory], ContinuousClock.now - last < startingTime { return nil }
            if let given, access(given, X_OK) != 0 {
                return "\(given) is not an executable file"
            }
            guard let executable = given ?? executable() else {
                return "no `ringboard` executable: set RINGBOARD_AGGREGATE_BIN, or put it beside this program or on PATH"
            }
            let arguments = [executable, "aggregate", "--detach", "--ring-dir", ringDirectory,
                             "--exit-when-idle", "\(idleSeconds)", "--started-by", "\(getpid())"]
            if let failure = spawnAndWait(arguments, log: ringDirectory + "/aggregator.log") { return failure }
            started[ringDirectory] = .now
            return nil
        }
    }

    /// The `ringboard` executable to start.
    static func executable() -> String? {
        let environment = ProcessInfo.processInfo.environment
        if let named = environment["RINGBOARD_AGGREGATE_BIN"], !named.isEmpty {
            return access(named, X_OK) == 0 ? named : nil
        }
        var candidates: [String] = []
        let running = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        candidates.append(running.deletingLastPathComponent().appendingPathComponent("ringboard").path)
        for directory in (environment["PATH"] ?? "").split(separator: ":") where !directory.isEmpty {
            candidates.append(directory + "/ringboard")
        }
        return candidates.first { access($0, X_OK) == 0 && !isDirectory($0) }
    }

    private static func isDirectory(_ path: String) -> Bool {
        var status = stat()
        return stat(path, &status) == 0 && status.st_mode & S_IFMT == S_IFDIR
    }

    /// Runs `arguments` with standard input from `/dev/null` and its output appended to `log`,
    /// and waits for it (`aggregate --detach` returns once the aggregator is on its way).
    ///
    /// - Returns: `nil`, or why it failed.
    private static func spawnAndWait(_ arguments: [String], log: String) -> String? {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // The trainer's blocked signals and ignored ones are not the aggregator's.
        var signals = sigset_t()
        sigemptyset(&signals)
        posix_spawnattr_setsigmask(&attributes, &signals)
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var child: pid_t = 0
        let status = posix_spawn(&child, arguments[0], &actions, &attributes, &argv, environ)
        guard status == 0 else { return "cannot start \(arguments[0]): \(String(cString: strerror(status)))" }
        var exit: Int32 = 0
        while waitpid(child, &exit, 0) == -1 && errno == EINTR {}
        // WIFEXITED and WEXITSTATUS, which Swift does not import.
        guard exit & 0x7f == 0, (exit >> 8) & 0xff == 0 else {
            return "\(arguments[0]) aggregate --detach failed (status \(exit)); see \(log)"
        }
        return nil
    }
}
