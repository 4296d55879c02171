import Foundation
import RingboardFormat
import RingboardRing
import RingboardTestSupport
import Testing

/// A trainer that makes a callback when no aggregator serves its ring directory starts one:
/// real `ringboard demo-trainer` processes, the aggregator they start, and the files it writes.
@Suite(.serialized) struct AggregatorStartTests {
    static let ringboard = productsDirectory + "/ringboard"

    /// This process's environment without the variables that steer the start.
    static var startingEnvironment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["RINGBOARD_AGGREGATE"] = nil
        environment["RINGBOARD_AGGREGATE_BIN"] = nil
        return environment
    }

    /// A demo trainer of `epochs` epochs writing its run to `logs`.
    static func trainer(
        rings: String, logs: String, epochs: Int, environment: [String: String] = startingEnvironment, output: Pipe? = nil,
        errors: Pipe? = nil
    ) throws -> Process {
        let trainer = Process()
        trainer.executableURL = URL(fileURLWithPath: ringboard)
        trainer.arguments = ["demo-trainer", "--rank", "0", "--procs", "1", "--epochs", "\(epochs)", "--steps", "20",
                             "--ring-dir", rings, "--logdir", logs] + (output != nil ? ["--print-epochs"] : [])
        trainer.environment = environment
        trainer.standardOutput = output ?? FileHandle.nullDevice
        trainer.standardError = errors ?? FileHandle.nullDevice
        try trainer.run()
        return trainer
    }

    /// The `ringboard aggregate` processes serving `rings` (not counting `--detach` ones on their
    /// way out).
    static func aggregators(serving rings: String) -> [Int32] {
        let pids = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { Int32($0) }
        return pids.filter { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            return arguments.contains("aggregate") && arguments.contains(rings) && !arguments.contains("--detach")
        }
    }

    /// Waits up to `seconds` for `condition`.
    @discardableResult
    static func wait(_ seconds: Double, until condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition() {
            if Date() > deadline { return false }
            usleep(20_000)
        }
        return true
    }

    static func ringFiles(_ rings: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: rings)) ?? []).filter { $0.hasSuffix(".ring") }
    }

    /// The `epoch_loss` steps a demo run of `epochs` epochs writes: the samples seen (its
    /// update_freq is 'batch'), 20 batches of 32 an epoch.
    static func epochSteps(_ epochs: Int) -> [Int64] {
        (0..<epochs).map { Int64(($0 + 1) * 20 * 32) }
    }

    /// The `epoch_loss` steps in the event files under `run`, every file read CRC by CRC.
    static func epochLossSteps(_ run: String) throws -> [Int64] {
        var steps: [Int64] = []
        let files = ((try? FileManager.default.subpathsOfDirectory(atPath: run)) ?? []).filter { $0.contains("tfevents") }
        for file in files {
            let reader = try EventFileReader(path: run + "/" + file)
            while case .event(let event, _) = try reader.nextEvent() {
                if case .summary(let summary) = event.what, summary.values.contains(where: { $0.tag == "epoch_loss" }),
                   file.hasPrefix("train/") {
                    steps.append(event.step)
                }
            }
        }
        return steps.sorted()
    }

    /// Stops an aggregator (SIGTERM: it flushes, closes and exits) and waits for it to be gone.
    static func stop(_ pid: Int32) {
        kill(pid, SIGTERM)
        wait(30) { kill(pid, 0) != 0 }
    }

    @Test func aTrainerWithNoAggregatorStartsOne() throws {
        let directory = TemporaryDirectory("ringboard-start")
        let rings = directory.appending("rings"), logs = directory.appending("logs")
        let trainer = try Self.trainer(rings: rings, logs: logs, epochs: 3)
        trainer.waitUntilExit()
        #expect(trainer.terminationStatus == 0)
        let aggregators = Self.aggregators(serving: rings)
        #expect(aggregators.count == 1, "\(aggregators)")
        guard let aggregator = aggregators.first else { return }
        defer { Self.stop(aggregator) }
        // The trainer's ring is drained, its run written and the ring retired, with no one the wiser.
        #expect(Self.wait(60) { Self.ringFiles(rings).isEmpty }, "\(Self.ringFiles(rings))")
        #expect(try Self.epochLossSteps(logs) == Self.epochSteps(3))
        // It says who started it, in its own session (a signal to the trainer's group misses it).
        let info = try #require(AggregatorInfo.read(in: rings))
        #expect(info.processID == aggregator)
        #expect(info.startedBy == trainer.processIdentifier)
        #expect(info.logRoot == nil)
        #expect(info.logFile == rings + "/aggregator.log")
        #expect(getsid(aggregator) != getsid(0) && getpgid(aggregator) != getpgid(0))
        let status = try run(Self.ringboard, ["status", "--ring-dir", rings])
        #expect(status.standardOutput.contains(
            "aggregator: pid \(aggregator), no log root (each run in its log_dir), started by trainer \(trainer.processIdentifier)"),
            "\(status.standardOutput)")
        let log = try String(contentsOfFile: rings + "/aggregator.log", encoding: .utf8)
        #expect(log.contains("serving"), "\(log)")
        Self.stop(aggregator)
        #expect(AggregatorInfo.read(in: rings) == nil)
    }

    /// Killed (`kill -9`) right after it started the aggregator: the aggregator goes on, drains
    /// what the trainer committed, finishes its run cleanly and retires its ring.
    @Test func aTrainerKilledRightAfterStartingItLeavesItFinishing() throws {
        let directory = TemporaryDirectory("ringboard-start")
        let rings = directory.appending("rings"), logs = directory.appending("logs")
        let output = Pipe()
        let trainer = try Self.trainer(rings: rings, logs: logs, epochs: 100_000, output: output)
        var printed = ""
        #expect(Self.wait(60) {
            printed += String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
            return printed.contains("epoch 1 sent")
        })
        kill(trainer.processIdentifier, SIGKILL)
        trainer.waitUntilExit()
        let aggregators = Self.aggregators(serving: rings)
        #expect(aggregators.count == 1, "\(aggregators)")
        guard let aggregator = aggregators.first else { return }
        defer { Self.stop(aggregator) }
        #expect(Self.wait(60) { Self.ringFiles(rings).isEmpty }, "\(Self.ringFiles(rings))")
        #expect(kill(aggregator, 0) == 0, "the aggregator went down with its trainer")
        let steps = try Self.epochLossSteps(logs)
        #expect(steps.count >= 2 && steps == Self.epochSteps(steps.count), "\(steps)")
    }

    /// Two trainers on one ring directory, started together, each find it unserved: two
    /// aggregators start, the directory lock keeps one, and it writes both runs.
    @Test func twoTrainersRacingToStartItEndWithOne() throws {
        let directory = TemporaryDirectory("ringboard-start")
        let rings = directory.appending("rings"), logs = directory.appending("logs")
        let trainers = try ["a", "b"].map { try Self.trainer(rings: rings, logs: logs + "/" + $0, epochs: 2) }
        for trainer in trainers {
            trainer.waitUntilExit()
            #expect(trainer.terminationStatus == 0)
        }
        #expect(Self.wait(60) { Self.ringFiles(rings).isEmpty }, "\(Self.ringFiles(rings))")
        // The one that lost the lock says so in the log and leaves.
        #expect(Self.wait(30) { Self.aggregators(serving: rings).count == 1 }, "\(Self.aggregators(serving: rings))")
        let aggregators = Self.aggregators(serving: rings)
        defer { aggregators.forEach(Self.stop) }
        #expect(AggregatorInfo.read(in: rings)?.processID == aggregators.first)
        #expect(try Self.epochLossSteps(logs + "/a") == Self.epochSteps(2))
        #expect(try Self.epochLossSteps(logs + "/b") == Self.epochSteps(2))
    }

    /// `RINGBOARD_AGGREGATE=off`: nothing is started; the records wait in the ring for an
    /// aggregator started later, which writes them all.
    @Test func turnedOffTheRecordsWait() throws {
        let directory = TemporaryDirectory("ringboard-start")
        let rings = directory.appending("rings"), logs = directory.appending("logs")
        let trainer = try Self.trainer(rings: rings, logs: logs, epochs: 2,
                                       environment: Self.startingEnvironment.merging(["RINGBOARD_AGGREGATE": "off"]) { $1 })
        trainer.waitUntilExit()
        #expect(trainer.terminationStatus == 0)
        #expect(Self.aggregators(serving: rings).isEmpty)
        #expect(Self.ringFiles(rings).count == 1)
        #expect(!FileManager.default.fileExists(atPath: logs))
        let aggregate = try run(Self.ringboard, ["aggregate", "--ring-dir", rings, "--exit-when-idle", "0"], timeout: 120)
        #expect(aggregate.status == 0, "\(aggregate.standardError)")
        #expect(try Self.epochLossSteps(logs) == Self.epochSteps(2))
    }

    /// An aggregator with a log root: a trainer whose `log_dir` lies elsewhere is refused when
    /// the callback is made, with an error naming both; one under the root is written.
    @Test func aRunOutsideTheServingAggregatorsRootIsRefusedAtOnce() throws {
        let directory = TemporaryDirectory("ringboard-start")
        let rings = directory.appending("rings"), logs = directory.appending("logs")
        let aggregator = Process()
        aggregator.executableURL = URL(fileURLWithPath: Self.ringboard)
        aggregator.arguments = ["aggregate", "--logdir", logs, "--ring-dir", rings]
        aggregator.standardError = FileHandle.nullDevice
        try aggregator.run()
        defer { Self.stop(aggregator.processIdentifier) }
        #expect(Self.wait(30) { AggregatorInfo.read(in: rings) != nil })
        #expect(AggregatorInfo.read(in: rings)?.logRoot == logs)

        let errors = Pipe()
        let elsewhere = directory.appending("elsewhere/run")
        let refused = try Self.trainer(rings: rings, logs: elsewhere, epochs: 1, errors: errors)
        refused.waitUntilExit()
        #expect(refused.terminationStatus != 0)
        let said = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(said.contains("run directory \(elsewhere) is outside \(logs), the log root of the aggregator serving \(rings)"), "\(said)")
        #expect(!FileManager.default.fileExists(atPath: directory.appending("elsewhere")))

        let fine = try Self.trainer(rings: rings, logs: logs + "/run", epochs: 1)
        fine.waitUntilExit()
        #expect(fine.terminationStatus == 0)
        #expect(Self.wait(60) { Self.ringFiles(rings).isEmpty })
        #expect(try Self.epochLossSteps(logs + "/run") == Self.epochSteps(1))
        #expect(Self.aggregators(serving: rings) == [aggregator.processIdentifier])
    }

    /// `--exit-when-idle SECONDS`: with no ring to serve, the aggregator leaves after that long.
    @Test func anIdleAggregatorExits() throws {
        let directory = TemporaryDirectory("ringboard-start")
        let started = Date()
        let result = try run(Self.ringboard, ["aggregate", "--ring-dir", directory.appending("rings"), "--exit-when-idle", "1"], timeout: 60)
        #expect(result.status == 0, "\(result.standardError)")
        #expect(Date().timeIntervalSince(started) >= 1)
        #expect(AggregatorInfo.read(in: directory.appending("rings")) == nil)
    }

    /// A ring directory removed and made again under a running aggregator (`rm -rf` of a
    /// workspace): its lock is no longer the directory's, so a trainer's next aggregator may serve
    /// the new one, and two must never read one ring. The old one says so and exits.
    @Test func anAggregatorWhoseRingDirectoryIsReplacedExits() throws {
        let directory = TemporaryDirectory("ringboard-start")
        let rings = directory.appending("rings")
        let aggregator = Process()
        aggregator.executableURL = URL(fileURLWithPath: Self.ringboard)
        aggregator.arguments = ["aggregate", "--ring-dir", rings, "--exit-when-idle", "60"]
        let errors = Pipe()
        aggregator.standardError = errors
        aggregator.standardOutput = FileHandle.nullDevice
        try aggregator.run()
        defer { if aggregator.isRunning { aggregator.terminate() } }
        let serving = Date().addingTimeInterval(30)
        while AggregatorInfo.read(in: rings) == nil && Date() < serving { usleep(20_000) }
        try #require(AggregatorInfo.read(in: rings) != nil, "the aggregator never served \(rings)")
        try FileManager.default.removeItem(atPath: rings)
        try FileManager.default.createDirectory(atPath: rings, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        let deadline = Date().addingTimeInterval(20)
        while aggregator.isRunning && Date() < deadline { usleep(20_000) }
        #expect(!aggregator.isRunning, "the aggregator still serves a directory that is gone")
        aggregator.waitUntilExit()
        let log = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(log.contains("ring directory \(rings) lost"), "\(log)")
        // Nothing of it in the new directory: no checkpoint, no info of a served directory.
        #expect(!FileManager.default.fileExists(atPath: rings + "/aggregator.state") && AggregatorInfo.read(in: rings) == nil)
    }
}
