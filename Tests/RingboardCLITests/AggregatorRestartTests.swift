import Foundation
import RingboardFormat
import RingboardTestSupport
import Testing

/// The aggregator killed (`kill -9`) at random points while trainers run, and restarted each
/// time: what TensorBoard reads is what an uninterrupted aggregator wrote, event for event, and
/// every file reads strictly (no torn tail is left behind).
@Suite(.serialized) struct AggregatorRestartTests {
    /// Kills per test; `RINGBOARD_AGGREGATOR_KILLS` raises it (Scripts/soak.sh does).
    static let kills = ProcessInfo.processInfo.environment["RINGBOARD_AGGREGATOR_KILLS"].flatMap(Int.init) ?? 8

    /// Each policy; the last with 64 KiB rings, so that the trainers spill while the aggregator
    /// is down, and restarts land in the middle of spill segments.
    @Test(arguments: [("chief", 1, nil), ("mean", 2, nil), ("per-rank", 2, 64 << 10)])
    func killedAndRestartedAggregatorWritesTheSameEvents(policy: String, procs: Int, ringCapacity: Int?) throws {
        let directory = TemporaryDirectory("ringboard-restart")
        let epochs = max(150, Self.kills * 20)  // long enough that the kills land while the rings are busy
        let reference = try TrainerHarness.uninterruptedRun(directory.appending("reference"), policy: policy, procs: procs, epochs: epochs, ringCapacity: ringCapacity)

        let rings = directory.appending("rings"), logs = directory.appending("logs")
        let trainers = try (0..<procs).map { rank in
            try TrainerHarness.startTrainer(rank: rank, procs: procs, policy: policy, epochs: epochs, rings: rings, logs: logs, ringCapacity: ringCapacity)
        }
        var random = SeededGenerator(seed: UInt64(procs) &* 7919 &+ UInt64(policy.utf8.count))
        var aggregator = try TrainerHarness.startAggregator(logs: logs, rings: rings, exitWhenIdle: false)
        var killed = 0, killedWhileBusy = 0, sawSpill = false
        while killed < Self.kills {
            usleep(UInt32(30_000 + random.next() % 250_000))
            if TrainerHarness.ringFiles(rings) > 0 { killedWhileBusy += 1 }
            sawSpill = sawSpill || ((try? FileManager.default.contentsOfDirectory(atPath: rings)) ?? []).contains { $0.contains(".spill.") }
            kill(aggregator.processIdentifier, SIGKILL)
            aggregator.waitUntilExit()
            killed += 1
            if random.next() % 2 == 0 { usleep(UInt32(random.next() % 100_000)) }
            // The trainers spill while no aggregator drains their rings.
            sawSpill = sawSpill || ((try? FileManager.default.contentsOfDirectory(atPath: rings)) ?? []).contains { $0.contains(".spill.") }
            aggregator = try TrainerHarness.startAggregator(logs: logs, rings: rings, exitWhenIdle: false)
        }
        for trainer in trainers {
            trainer.waitUntilExit()
            #expect(trainer.terminationStatus == 0)
        }
        #expect(killedWhileBusy * 2 >= killed, "only \(killedWhileBusy) of \(killed) kills found records in flight")
        if ringCapacity != nil { #expect(sawSpill, "the small rings never spilled") }
        // Every ring drained and retired, then a graceful stop.
        let deadline = Date().addingTimeInterval(120)
        while TrainerHarness.ringFiles(rings) > 0 && Date() < deadline { usleep(20_000) }
        #expect(TrainerHarness.ringFiles(rings) == 0, "rings left undrained")
        aggregator.terminate()
        aggregator.waitUntilExit()
        #expect(aggregator.terminationStatus == 0)
        let messages = (try? String(contentsOfFile: rings + ".log", encoding: .utf8)) ?? ""
        let problems = messages.split(separator: "\n").filter { $0.contains("error") || $0.contains("warning") || $0.contains("ringboard aggregate:") }
        #expect(problems.isEmpty, "the aggregators said: \(problems.prefix(10).joined(separator: "\n"))")

        try TrainerHarness.expectSameEvents(logs, as: reference, epochs: epochs, family: "aggregator-kill-\(policy)\(ringCapacity == nil ? "" : "-spill")",
                                            faults: killed)
        // One profile trace per profiled run, as without kills.
        #expect(TrainerHarness.profileRuns(logs) == TrainerHarness.profileRuns(directory.appending("reference/logs")))
    }

    /// A `.mean` group's queued hooks are in the checkpoint. Rank 0 runs to its end before rank 1
    /// starts, so every one of its records waits in the group; once its ring is retired (after the
    /// checkpoint that holds them) the aggregator is killed. Rank 1 then runs, and the restarted
    /// aggregator merges its hooks with rank 0's from the checkpoint: the same events as when
    /// both ran side by side.
    @Test func queuedMeanHooksSurviveARestart() throws {
        let directory = TemporaryDirectory("ringboard-restart")
        let epochs = 3
        let reference = try TrainerHarness.uninterruptedRun(directory.appending("reference"), policy: "mean", procs: 2, epochs: epochs,
                                                            trainersFirst: true)
        let rings = directory.appending("rings"), logs = directory.appending("logs")
        let first = try TrainerHarness.startAggregator(logs: logs, rings: rings, exitWhenIdle: false)
        let rank0 = try TrainerHarness.startTrainer(rank: 0, procs: 2, policy: "mean", epochs: epochs, rings: rings, logs: logs)
        rank0.waitUntilExit()
        #expect(rank0.terminationStatus == 0)
        let deadline = Date().addingTimeInterval(30)
        while TrainerHarness.ringFiles(rings) > 0 && Date() < deadline { usleep(5_000) }
        #expect(TrainerHarness.ringFiles(rings) == 0, "rank 0's ring was not retired")
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        // Nothing merged yet (rank 1 holds every step back): the model's graph, and no scalar.
        let early = try TrainerHarness.eventStreams(logs)
        let tags = early.values.flatMap { $0.compactMap { event in if case .summary(let summary) = event.what { summary.values.first?.tag } else { nil } } }
        #expect(tags == ["keras"], "written before rank 1 started: \(tags)")

        // Rank 1 runs to its end (its ring waits for the aggregator), then the aggregator restarts.
        let rank1 = try TrainerHarness.startTrainer(rank: 1, procs: 2, policy: "mean", epochs: epochs, rings: rings, logs: logs)
        rank1.waitUntilExit()
        #expect(rank1.terminationStatus == 0)
        let second = try TrainerHarness.startAggregator(logs: logs, rings: rings, exitWhenIdle: true)
        second.waitUntilExit()
        #expect(second.terminationStatus == 0)
        try TrainerHarness.expectSameEvents(logs, as: reference, epochs: epochs, family: "aggregator-kill-mean-queued", faults: 1)
    }

    /// A checkpoint made under one log root is not silently applied to another.
    @Test func aCheckpointForAnotherLogRootIsRefused() throws {
        let directory = TemporaryDirectory("ringboard-restart")
        let rings = directory.appending("rings"), logs = directory.appending("a")
        let trainer = try TrainerHarness.startTrainer(rank: 0, procs: 1, policy: "chief", epochs: 100_000, rings: rings, logs: logs)
        defer {
            kill(trainer.processIdentifier, SIGKILL)
            trainer.waitUntilExit()
        }
        let first = try TrainerHarness.startAggregator(logs: directory.appending("a"), rings: rings, exitWhenIdle: false)
        let deadline = Date().addingTimeInterval(30)
        while !FileManager.default.fileExists(atPath: rings + "/aggregator.state") && Date() < deadline { usleep(20_000) }
        usleep(200_000)
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        let second = try run(TrainerHarness.ringboard, ["aggregate", "--logdir", directory.appending("b"), "--ring-dir", rings], timeout: 60)
        #expect(second.status == 2)
        #expect(second.standardError.contains("holds runs in progress under the log root \(directory.appending("a"))"), "\(second.standardError)")
    }
}
