import ArgumentParser
import Foundation
import Glibc
import Synchronization
import Logging
import Ringboard
import RingboardAggregator
import RingboardRing
internal import RingboardSystem

extension RingboardCommand {
    /// `ringboard aggregate`: the per-node daemon that turns the trainers' rings into event files.
    struct Aggregate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Serve a ring directory: drain the trainers' hook records into TensorBoard event files.",
            discussion: """
                Trainers start one on their own when none serves their ring directory; run it \
                yourself to confine runs to a log root or to keep it up between jobs.

                Examples:
                  ringboard aggregate --logdir logs
                  ringboard aggregate --exit-when-idle 30 --detach
                """
        )

        @Option(help: ArgumentHelp(
            "Confine runs to this log root: a run whose log_dir is not under it is refused.",
            discussion: "Without it, each run is written to its log_dir, wherever its trainer's user may write."))
        var logdir: String?

        @Option(help: "The ring directory to serve.")
        var ringDir = RingDirectory.defaultPath

        @Option(help: "Flush event files and commit rings every this many milliseconds.")
        var flushMs = 100

        @Option(help: ArgumentHelp(
            "Exit once every ring is retired and nothing has come for this many seconds.",
            discussion: "With 0, exit as soon as every producer seen has finished and its ring is drained.",
            valueName: "seconds"))
        var exitWhenIdle: Int?

        @Flag(help: "Wait for another aggregator serving the ring directory to exit, instead of failing.")
        var wait = false

        @Option(help: .hidden)
        var startedBy: Int32?

        @Flag(help: ArgumentHelp(
            "Start the aggregator in a session of its own and return at once.",
            discussion: "Its output goes where this command's goes; trainers start it this way, logging to aggregator.log in the ring directory."))
        var detach = false

        func validate() throws {
            guard flushMs >= 1, flushMs <= 60_000 else { throw ValidationError("--flush-ms must be between 1 and 60000") }
            if let exitWhenIdle, exitWhenIdle < 0 || exitWhenIdle > 86_400 {
                throw ValidationError("--exit-when-idle must be between 0 and 86400 seconds")
            }
        }

        /// Why this user could not write into `root`, making it first if it is missing, or `nil`:
        /// a component that is no directory, or a directory (the root, or the last one that exists
        /// on the way to it) this user cannot write.
        static func logRootProblem(_ root: String) -> String? {
            var path = root.hasPrefix("/") ? root : FileManager.default.currentDirectoryPath + "/" + root
            while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
            var missing = false
            while true {
                var status = stat()
                if stat(path, &status) == 0 {
                    guard status.st_mode & S_IFMT == S_IFDIR else { return "cannot make the log root \(root): \(path) is not a directory" }
                    guard access(path, W_OK | X_OK) == 0 else {
                        return missing ? "cannot make the log root \(root): \(path) is not writable by this user"
                            : "the log root \(root) is not writable by this user"
                    }
                    return nil
                }
                // Missing, or below a file (ENOTDIR): look at what holds it.
                guard errno == ENOENT || errno == ENOTDIR, let slash = path.lastIndex(of: "/") else {
                    return "cannot reach the log root \(root): \(path): \(String(cString: strerror(errno)))"
                }
                missing = true
                path = slash == path.startIndex ? "/" : String(path[..<slash])
            }
        }

        func run() throws {
            // A log root this user could not make or write is refused now, in one line, not at a
            // run's first file (and before --detach, so the caller sees it). Nothing is made here:
            // the root is made when a run first writes.
            if let logdir, let problem = Self.logRootProblem(logdir) {
                printError("aggregate", "\(problem); pass a --logdir this user can write")
                throw ExitCode(2)
            }
            if detach {
                try Detached.start(droppingFlag: "--detach")
                return
            }
            var logger = Logger(label: "ringboard.aggregate")
            logger.logLevel = .info
            var options = Aggregator.Options(logRoot: logdir, ringDirectory: ringDir)
            options.flushInterval = .milliseconds(flushMs)
            options.waitForLock = wait
            Aggregator.keepLargeBlocksInHeap()
            let aggregator: Aggregator
            do {
                aggregator = try Aggregator(options: options, logger: logger)
            } catch .ring(.consumerRunning) where startedBy != nil {
                // Another trainer's aggregator won the race to serve the directory: it does the work.
                logger.info("another aggregator serves the ring directory", metadata: ["ring directory": "\(ringDir)"])
                return
            } catch {
                printError("aggregate", error.description)
                throw ExitCode(2)
            }
            let info = AggregatorInfo(processID: getpid(), logRoot: aggregator.logRoot, startedBy: startedBy,
                                      logFile: startedBy == nil ? nil : ringDir + "/aggregator.log")
            do {
                try info.write(in: ringDir)
            } catch {
                logger.warning("aggregator.info not written: trainers cannot check their log_dir against the log root",
                               metadata: ["error": "\(error)"])
            }
            // Not from a directory that replaced ours: its info is another aggregator's.
            defer { if aggregator.lostRingDirectory == nil { AggregatorInfo.remove(in: ringDir) } }
            logger.info("serving", metadata: [
                "ring directory": "\(ringDir)", "log root": "\(aggregator.logRoot ?? "(none: each run's log_dir)")",
                "started by": "\(startedBy.map { "trainer \($0)" } ?? "hand")"])
            // SIGTERM and SIGINT end the loop: the event files are flushed, the rings committed
            // and the files closed before the process exits.
            TerminationRequest.install()
            // A restarted aggregator that resumed runs has work even if their rings are gone.
            var sawProducer = aggregator.resumedRuns
            var idleSince: ContinuousClock.Instant?
            // Read once: an option's property wrapper costs a lookup at every step.
            let exitWhenIdle = self.exitWhenIdle
            aggregator.run {
                if TerminationRequest.isRequested { return true }
                // Removed or replaced under it: a trainer's next aggregator serves the new one.
                if aggregator.lostRingDirectory != nil { return true }
                guard let exitWhenIdle else { return false }
                let idle = aggregator.isIdle
                sawProducer = sawProducer || !idle
                guard idle else {
                    idleSince = nil
                    return false
                }
                if exitWhenIdle == 0 { return sawProducer }
                let since = idleSince ?? .now
                idleSince = since
                return ContinuousClock.now - since >= .seconds(exitWhenIdle)
            }
        }
    }

    /// `ringboard replay TRACE.jsonl`: plays a hook trace through the real callback, ring and
    /// aggregator.
    struct Replay: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replay a JSON-lines hook trace through the TensorBoard callback, the ring and the aggregator.",
            discussion: """
                The trace's log_dir is taken as Keras takes it: absolute, or relative to the \
                working directory. Uses the aggregator serving --ring-dir, or runs one of its own \
                (confined to --logdir when given), and returns once every record it appended is in \
                the event files. The whole trace is checked first: a malformed line is reported \
                with its number and nothing is written.

                Examples:
                  ringboard replay trace.jsonl --logdir logs
                  ringboard replay trace.jsonl --procs 4 --ring-dir /tmp/rings
                """
        )

        @Argument(help: "The trace (JSON lines, DESIGN §5).")
        var trace: String

        @Option(help: "Replay as this many processes, rank r of K each.")
        var procs = 1

        @Option(help: "The ring directory.")
        var ringDir = RingDirectory.defaultPath

        @Option(help: "Confine runs to this log root, when replay starts its own aggregator (log_dir is taken as Keras takes it: absolute, or relative to the working directory).")
        var logdir: String?

        @Option(help: "Replay as this rank (set by --procs; not for direct use).")
        var rank: Int?

        func validate() throws {
            guard procs >= 1, procs <= 64 else { throw ValidationError("--procs must be between 1 and 64") }
        }

        func run() throws {
            let contents: Data
            do {
                contents = try Data(contentsOf: URL(fileURLWithPath: trace))
            } catch {
                let reason = FileManager.default.fileExists(atPath: trace) ? (error as NSError).localizedDescription : "no such file"
                printError("replay", "cannot read \(trace): \(reason) (give a JSON-lines hook trace, docs/DESIGN.md §5)")
                throw ExitCode(2)
            }
            var parsed: ReplayTrace
            do {
                parsed = try ReplayTrace(bytes: Array(contents))
            } catch {
                printError("replay", "\(trace): \(error)")
                throw ExitCode(2)
            }
            for warning in parsed.warnings { printError("replay", "warning: \(warning)") }

            if let rank {
                try replay(parsed, rank: rank, worldSize: procs)
                return
            }
            // Our own aggregator unless one already serves the directory.
            var logger = Logger(label: "ringboard.replay")
            logger.logLevel = .warning
            let aggregator: Aggregator?
            do {
                aggregator = try Aggregator(options: Aggregator.Options(logRoot: logdir, ringDirectory: ringDir), logger: logger)
            } catch .ring(.consumerRunning) {
                aggregator = nil  // the one serving the directory writes our records
            } catch {
                printError("replay", error.description)
                throw ExitCode(2)
            }
            let done = StopSignal()
            let thread = aggregator.map { aggregator in
                Thread {
                    aggregator.run { done.isSet }
                    done.finished()
                }
            }
            thread?.start()

            if procs == 1 {
                try replay(parsed, rank: parsed.rank, worldSize: parsed.worldSize)
            } else {
                let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
                let children = try (0..<procs).map { rank -> Process in
                    let process = Process()
                    process.executableURL = executable
                    process.arguments = ["replay", trace, "--procs", "\(procs)", "--rank", "\(rank)", "--ring-dir", ringDir]
                    try process.run()
                    return process
                }
                for child in children {
                    child.waitUntilExit()
                    if child.terminationStatus != 0 { throw ExitCode(child.terminationStatus) }
                }
                // Their rings are retired once drained and flushed.
                while (try? FileManager.default.contentsOfDirectory(atPath: ringDir))?.contains(where: { $0.hasSuffix(".ring") }) == true {
                    usleep(10_000)
                }
            }
            done.set()
            done.waitUntilFinished(if: thread != nil)
        }

        private func replay(_ trace: ReplayTrace, rank: Int, worldSize: Int) throws {
            // On a terminal, one process of the replay draws its progress: long traces take a while.
            var progress = ProgressLine(shown: standardErrorIsTerminal() && (procs == 1 || rank == 0) && trace.steps.count >= 10_000)
            var trace = trace
            trace.rank = rank
            trace.worldSize = worldSize
            let callback: TensorBoard
            do {
                let arguments = trace.arguments
                callback = try TensorBoard(
                    logDir: arguments.logDirectory, histogramFreq: Int(arguments.histogramFrequency), writeGraph: arguments.writeGraph,
                    writeImages: arguments.writeImages, updateFreq: arguments.updateFrequency, profileBatch: Int(arguments.profileBatch),
                    embeddingsFreq: Int(arguments.embeddingsFrequency), embeddingsMetadata: arguments.embeddingsMetadata,
                    rank: rank, worldSize: worldSize, rankPolicy: trace.rankPolicy, ringDirectory: ringDir,
                    startAggregator: false, semantics: arguments.semantics)
                try trace.replay(into: callback) { done, total in
                    progress.update("replay: \(done) of \(total) hooks sent")
                }
            } catch {
                progress.clear()
                printError("replay", "\(error)")
                throw ExitCode(2)
            }
            // Done: the aggregator removes our ring once everything in it is in the event files.
            if let ring = TensorBoard.closeRing(directory: ringDir) {
                progress.update("replay: \(trace.steps.count) hooks sent; waiting for the aggregator to write them", now: true)
                while FileManager.default.fileExists(atPath: ring) { usleep(5_000) }
            }
            progress.clear()
        }
    }
}

/// A flag one thread sets and another reads, and a completion to wait for.
final class StopSignal: @unchecked Sendable {
    private let condition = NSCondition()
    private var value = false
    private var done = false

    var isSet: Bool { condition.withLock { value } }
    func set() { condition.withLock { value = true } }

    func finished() {
        condition.withLock {
            done = true
            condition.broadcast()
        }
    }

    func waitUntilFinished(if running: Bool) {
        guard running else { return }
        condition.withLock { while !done { condition.wait() } }
    }
}

/// Starting the running command again in a session of its own, not waiting for it.
enum Detached {
    /// Starts this executable with this process's arguments less `flag`, in a new session (so
    /// that the caller's process group and terminal signals do not reach it), with this
    /// process's standard input, output and error.
    ///
    /// - Parameter flag: The argument to leave out.
    static func start(droppingFlag flag: String) throws {
        // A new session for this process first: the child inherits it, and leaves with it
        // the caller's process group, so that signals sent to that group do not reach it.
        _ = setsid()
        // Whatever else the caller left open (a pipe its own parent waits on to see it exit,
        // say) must not be held for the aggregator's lifetime.
        closeDescriptors(from: 3)
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        let arguments = [executable] + CommandLine.arguments.dropFirst().filter { $0 != flag }
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var child: pid_t = 0
        let status = posix_spawn(&child, executable, nil, nil, &argv, environ)
        guard status == 0 else {
            printError("aggregate", "cannot start \(executable): \(String(cString: strerror(status)))")
            throw ExitCode(2)
        }
    }
}

/// Closes every open file descriptor numbered `lowest` or above.
private func closeDescriptors(from lowest: Int32) {
    // The listing's own descriptor is among the names, and closed by the time they are back.
    guard let names = try? DirectoryListing.names(in: "/proc/self/fd") else { return }
    for descriptor in names.compactMap({ Int32($0) }) where descriptor >= lowest { close(descriptor) }
}

/// SIGTERM or SIGINT arrived; the aggregator's loop looks at this between steps.
enum TerminationRequest {
    private static let requested = Atomic<Bool>(false)

    static var isRequested: Bool { requested.load(ordering: .relaxed) }

    /// Handles SIGTERM and SIGINT by setting the flag, and unblocks them (a parent may have
    /// started this process with them blocked).
    static func install() {
        signal(SIGTERM) { _ in TerminationRequest.requested.store(true, ordering: .relaxed) }
        signal(SIGINT) { _ in TerminationRequest.requested.store(true, ordering: .relaxed) }
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGTERM)
        sigaddset(&signals, SIGINT)
        pthread_sigmask(SIG_UNBLOCK, &signals, nil)
    }
}
