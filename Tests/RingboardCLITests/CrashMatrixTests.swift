import Foundation
import RingboardFormat
import RingboardTestSupport
import Testing

/// Trainers killed at random points and an aggregator stopped under load, with real processes.
/// `RINGBOARD_TRAINER_KILLS` and `RINGBOARD_STOP_SECONDS` scale them up (Scripts/soak.sh).
@Suite(.serialized) struct CrashMatrixTests {
    static let trainerKills = ProcessInfo.processInfo.environment["RINGBOARD_TRAINER_KILLS"].flatMap(Int.init) ?? 3
    static let stopSeconds = ProcessInfo.processInfo.environment["RINGBOARD_STOP_SECONDS"].flatMap(Double.init) ?? 4

    /// Two trainers (`per_rank`, so two runs); rank 1 is killed with `kill -9` at a random point
    /// each round. Its run holds exactly a prefix of what an uninterrupted rank 1 writes, at
    /// least every epoch it had sent, in files that read strictly to a clean end; its ring is
    /// retired; rank 0's run is untouched.
    @Test func killedTrainersLoseNothingTheyCommitted() throws {
        let directory = TemporaryDirectory("ringboard-trainer-kill")
        let epochs = 120
        let reference = try TrainerHarness.uninterruptedRun(directory.appending("reference"), policy: "per-rank", procs: 2, epochs: epochs)
        try TrainerHarness.expectWhole(reference, epochs: epochs)
        var random = SeededGenerator(seed: 20261128)
        for round in 0..<Self.trainerKills {
            let rings = directory.appending("rings-\(round)"), logs = directory.appending("logs-\(round)")
            let aggregator = try TrainerHarness.startAggregator(logs: logs, rings: rings, exitWhenIdle: true)
            let bystander = try TrainerHarness.startTrainer(rank: 0, procs: 2, policy: "per-rank", epochs: epochs, rings: rings, logs: logs)
            let output = Pipe()
            let victim = try TrainerHarness.startTrainer(rank: 1, procs: 2, policy: "per-rank", epochs: epochs, rings: rings, logs: logs, output: output)
            usleep(UInt32(100_000 + random.next() % 1_200_000))
            kill(victim.processIdentifier, SIGKILL)
            victim.waitUntilExit()
            let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            let sentEpochs = printed.split(separator: "\n").filter { $0.hasSuffix(" sent") }.count
            bystander.waitUntilExit()
            #expect(bystander.terminationStatus == 0)
            let deadline = Date().addingTimeInterval(60)
            while aggregator.isRunning && Date() < deadline { usleep(20_000) }
            #expect(!aggregator.isRunning, "round \(round): the aggregator did not retire the killed trainer's ring")
            if aggregator.isRunning { aggregator.terminate() }
            #expect(TrainerHarness.ringFiles(rings) == 0)

            let streams = try TrainerHarness.eventStreams(logs)
            for run in ["rank_0/train", "rank_0/validation"] {
                #expect(streams[run] == reference[run], "round \(round): the bystander's \(run) changed")
            }
            let written = streams["rank_1/train"] ?? []
            let expected = reference["rank_1/train"] ?? []
            #expect(written.count < expected.count, "round \(round): the kill came after the trainer was done")
            #expect(written.count <= expected.count && Array(expected.prefix(written.count)) == written,
                    "round \(round): the killed run is not a prefix of the uninterrupted one")
            let epochSteps = written.filter { event in
                if case .summary(let summary) = event.what { return summary.values.first?.tag == "epoch_loss" }
                return false
            }.count
            #expect(epochSteps >= sentEpochs, "round \(round): \(sentEpochs) epochs sent before the kill, \(epochSteps) written")
            // Sent: everything up to the last epoch the trainer said it had sent.
            var epochsSeen = 0
            let sent = expected.firstIndex { event in
                if case .summary(let summary) = event.what, summary.values.first?.tag == "epoch_loss" { epochsSeen += 1 }
                return epochsSeen == sentEpochs
            }.map { $0 + 1 } ?? 0
            let (lost, _) = TrainerHarness.lostAndDuplicated(expected: Array(expected.prefix(sent)), written: written)
            let (_, duplicated) = TrainerHarness.lostAndDuplicated(expected: expected, written: written)
            TrainerHarness.report("trainer-kill", faults: 1, sent: sent, written: written.count, lost: lost, duplicated: duplicated)
        }
    }

    /// The aggregator stopped (SIGSTOP) under load: the trainer, on a small ring, never blocks —
    /// it finishes while the aggregator is still stopped, spilling — and after SIGCONT every
    /// event arrives, exactly as without the stop.
    @Test func aStoppedAggregatorNeverBlocksTrainers() throws {
        let directory = TemporaryDirectory("ringboard-sigstop")
        let epochs = 60, capacity = 64 << 10
        let reference = try TrainerHarness.uninterruptedRun(
            directory.appending("reference"), policy: "chief", procs: 1, epochs: epochs, ringCapacity: capacity)
        let rings = directory.appending("rings"), logs = directory.appending("logs")
        let aggregator = try TrainerHarness.startAggregator(logs: logs, rings: rings, exitWhenIdle: true)
        usleep(200_000)
        kill(aggregator.processIdentifier, SIGSTOP)
        let stopped = Date()
        let trainer = try TrainerHarness.startTrainer(rank: 0, procs: 1, policy: "chief", epochs: epochs, rings: rings, logs: logs, ringCapacity: capacity)
        // The trainer finishes while the aggregator stays stopped, however long a loaded machine
        // makes it take (it alone takes about a second): it never waits for the aggregator. A
        // trainer that did would still be running when the bound is reached.
        let bound = max(Self.stopSeconds, 60)
        while trainer.isRunning && Date().timeIntervalSince(stopped) < bound { usleep(10_000) }
        let finishedWhileStopped = !trainer.isRunning
        let spilled = ((try? FileManager.default.contentsOfDirectory(atPath: rings)) ?? []).filter { $0.contains(".spill.") }.count
        while Date().timeIntervalSince(stopped) < Self.stopSeconds { usleep(10_000) }
        kill(aggregator.processIdentifier, SIGCONT)
        #expect(finishedWhileStopped, "the trainer was still running \(bound) s into the stop")
        #expect(spilled > 0, "the trainer never spilled")
        trainer.waitUntilExit()
        #expect(trainer.terminationStatus == 0)
        let deadline = Date().addingTimeInterval(60)
        while aggregator.isRunning && Date() < deadline { usleep(20_000) }
        #expect(!aggregator.isRunning)
        if aggregator.isRunning { aggregator.terminate() }
        try TrainerHarness.expectSameEvents(logs, as: reference, epochs: epochs, family: "aggregator-sigstop", faults: 1)
    }
}
