import Foundation
import RingboardFormat
import RingboardTestSupport
import Testing

/// `ringboard aggregate` as a daemon with trainer processes.
@Suite struct AggregateTests {
    static let ringboard = productsDirectory + "/ringboard"

    /// A trainer killed (`kill -9`) mid-epoch: the aggregator writes everything it committed,
    /// closes its run's files cleanly (every record whole, every CRC right), retires its ring
    /// and, with `--exit-when-idle`, exits.
    @Test func aKilledTrainersRunIsFinishedCleanly() throws {
        let directory = TemporaryDirectory("ringboard-aggregate")
        let rings = directory.appending("rings"), logs = directory.appending("logs")
        let aggregator = Process()
        aggregator.executableURL = URL(fileURLWithPath: Self.ringboard)
        aggregator.arguments = ["aggregate", "--logdir", logs, "--ring-dir", rings, "--exit-when-idle", "0"]
        aggregator.standardError = FileHandle.nullDevice
        try aggregator.run()
        let trainer = Process()
        trainer.executableURL = URL(fileURLWithPath: Self.ringboard)
        trainer.arguments = ["demo-trainer", "--rank", "0", "--procs", "1", "--epochs", "1000", "--steps", "50", "--ring-dir", rings,
                             "--logdir", logs]
        trainer.environment = TrainerHarness.trainerEnvironment
        trainer.standardOutput = FileHandle.nullDevice
        try trainer.run()
        // Let it train for a while: a few epochs in, then killed in the middle of one.
        let started = Date()
        while Date().timeIntervalSince(started) < 30 {
            usleep(50_000)
            let files = (try? FileManager.default.subpathsOfDirectory(atPath: logs)) ?? []
            if files.contains(where: { $0.hasPrefix("train/") && $0.contains("tfevents") }) && Date().timeIntervalSince(started) > 1.5 { break }
        }
        kill(trainer.processIdentifier, SIGKILL)
        trainer.waitUntilExit()
        let deadline = Date().addingTimeInterval(30)
        while aggregator.isRunning && Date() < deadline { usleep(20_000) }
        #expect(!aggregator.isRunning, "the aggregator did not exit once the killed trainer's ring was drained")
        if aggregator.isRunning { aggregator.terminate() }

        let trainDirectory = logs + "/train"
        let file = try #require(try FileManager.default.contentsOfDirectory(atPath: trainDirectory).first { $0.contains("tfevents") })
        let reader = try EventFileReader(path: trainDirectory + "/" + file)
        var batchSteps: [Int64] = []
        var last = try reader.nextEvent()
        while case .event(let event, _) = last {
            if case .summary(let summary) = event.what, summary.values.first?.tag == "batch_loss" {
                batchSteps.append(event.step)
            }
            last = try reader.nextEvent()
        }
        #expect(last == .end(offset: reader.offset), "the file must end after a whole record: \(last)")
        #expect(batchSteps.count > 50)
        #expect(batchSteps == (0..<Int64(batchSteps.count)).map { $0 }, "every batch it committed, in order, once")
        #expect(try FileManager.default.contentsOfDirectory(atPath: rings).allSatisfy { !$0.hasSuffix(".ring") })
    }

    @Test func aSecondAggregatorSaysSoAndExits() throws {
        let directory = TemporaryDirectory("ringboard-aggregate")
        let first = Process()
        first.executableURL = URL(fileURLWithPath: Self.ringboard)
        first.arguments = ["aggregate", "--logdir", directory.appending("logs"), "--ring-dir", directory.appending("rings")]
        try first.run()
        defer {
            first.terminate()
            first.waitUntilExit()
        }
        usleep(300_000)
        let second = try run(Self.ringboard, ["aggregate", "--logdir", directory.appending("logs"), "--ring-dir", directory.appending("rings")])
        #expect(second.status == 2)
        #expect(second.standardError == "ringboard aggregate: another consumer is already serving \(directory.appending("rings"))\n")
    }
}
