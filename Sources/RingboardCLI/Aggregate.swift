import ArgumentParser
import Foundation
import Glibc
import Synchronization
import Logging
import Ringboard
import RingboardAggregator
import RingboardRing

extension RingboardCommand {
    /// `ringboard aggregate`: the per-node daemon that turns the trainers' rings into event files.
    struct Aggregate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Serve a ring directory: drain the trainers' hook records into TensorBoard event files."
        )

        @Option(help: "The log root that run directories (each run's log_dir) are relative to.")
        var logdir = "."

        @Option(help: "The ring directory to serve.")
        var ringDir = RingDirectory.defaultPath

        @Option(help: "Flush event files and commit rings every this many milliseconds.")
        var flushMs = 100

        @Flag(help: "Exit once every producer has finished and its ring is drained.")
        var exitWhenIdle = false

        @Flag(help: "Wait for another aggregator serving the ring directory to exit, instead of failing.")
        var wait = false

        func validate() throws {
            guard flushMs >= 1, flushMs <= 60_000 else { throw ValidationError("--flush-ms must be between 1 and 60000") }
        }

        func run() throws {
            var logger = Logger(label: "ringboard.aggregate")
            logger.logLevel = .info
            var options = Aggregator.Options(logRoot: logdir, ringDirectory: ringDir)
            options.flushInterval = .milliseconds(flushMs)
            options.waitForLock = wait
            Aggregator.keepLargeBlocksInHeap()
            let aggregator: Aggregator
            do {
                aggregator = try Aggregator(options: options, logger: logger)
            } catch {
                printError("aggregate", error.description)
                throw ExitCode(2)
            }
            // SIGTERM and SIGINT end the loop: the event files are flushed, the rings committed
            // and the files closed before the process exits.
            TerminationRequest.install()
            // A restarted aggregator that resumed runs has work even if their rings are gone.
            var sawProducer = aggregator.resumedRuns
            aggregator.run {
                sawProducer = sawProducer || !aggregator.isIdle
                return TerminationRequest.isRequested || (exitWhenIdle && sawProducer && aggregator.isIdle)
            }
        }
    }

    /// `ringboard replay TRACE.jsonl`: plays a hook trace through the real callback, ring and
    /// aggregator.
    struct Replay: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replay a JSON-lines hook trace through the TensorBoard callback, the ring and the aggregator.",
            discussion: """
                Uses the aggregator serving --ring-dir, or starts one writing under --logdir, and \
                returns once every record it appended is in the event files. The whole trace is \
                checked first: a malformed line is reported with its number and nothing is written.
                """
        )

        @Argument(help: "The trace (JSON lines, DESIGN §5).")
        var trace: String

        @Option(help: "Replay as this many processes, rank r of K each.")
        var procs = 1

        @Option(help: "The ring directory.")
        var ringDir = RingDirectory.defaultPath

        @Option(help: "The log root, when replay starts its own aggregator.")
        var logdir = "."

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
                printError("replay", "cannot read \(trace): \((error as NSError).localizedDescription)")
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
                    rank: rank, worldSize: worldSize, rankPolicy: trace.rankPolicy, ringDirectory: ringDir)
                try trace.replay(into: callback)
            } catch {
                printError("replay", "\(error)")
                throw ExitCode(2)
            }
            // Done: the aggregator removes our ring once everything in it is in the event files.
            if let ring = TensorBoard.closeRing(directory: ringDir) {
                while FileManager.default.fileExists(atPath: ring) { usleep(5_000) }
            }
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
