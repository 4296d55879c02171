import Foundation
import Ringboard
import RingboardFormat
import RingboardRing
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

    /// The aggregator killed once it has read a histogram epoch's weight segment (it maps it:
    /// `/proc/<pid>/maps` shows it) and before a checkpoint names it: the restart resumes from
    /// the previous checkpoint, whose model names the previous segment (still there), reads the
    /// epoch's records again and maps the segment again. The events are those of an
    /// uninterrupted aggregator, and once the ring is retired every segment is gone.
    @Test func killedAfterReadingWeightSegmentsBeforeTheirCheckpoint() throws {
        let directory = TemporaryDirectory("ringboard-restart")
        let epochs = 10
        let reference = directory.appending("reference")
        try Self.trainWithWeights(rings: reference + "/rings", logs: reference + "/logs", epochs: epochs)
        let first = try TrainerHarness.startAggregator(logs: reference + "/logs", rings: reference + "/rings", exitWhenIdle: true)
        first.waitUntilExit()
        #expect(first.terminationStatus == 0)
        let expected = try TrainerHarness.eventStreams(reference + "/logs")
        let histograms = expected["run/train"]?.filter { event in
            if case .summary(let summary) = event.what, case .histogram = summary.values[0].kind { true } else { false }
        }.count
        #expect(histograms == epochs * Self.layers)

        let rings = directory.appending("rings"), logs = directory.appending("logs")
        var aggregator = try TrainerHarness.startAggregator(logs: logs, rings: rings, exitWhenIdle: false)
        var killedBeforeCheckpoint = 0, kills = 0
        try Self.trainWithWeights(rings: rings, logs: logs, epochs: epochs, around: { epoch, train in
            guard epoch > 0, killedBeforeCheckpoint < 3 else { return train() }
            // The epoch's records wait in the ring until the aggregator is let go.
            kill(aggregator.processIdentifier, SIGSTOP)
            train()
            let ring = try #require(try FileManager.default.contentsOfDirectory(atPath: rings).first { $0.hasSuffix(".ring") })
            let segment = WeightSegment.fileName(ring: ring, sequence: Int64(epoch))
            kill(aggregator.processIdentifier, SIGCONT)
            let deadline = Date().addingTimeInterval(30)
            while !Self.maps(aggregator.processIdentifier, segment) && Date() < deadline { usleep(200) }
            kill(aggregator.processIdentifier, SIGKILL)
            aggregator.waitUntilExit()
            kills += 1
            if try !Self.checkpointNames(rings, ring: ring, sequence: Int64(epoch)) {
                killedBeforeCheckpoint += 1
                // The segment of the checkpoint's model, which the restart maps again.
                #expect(FileManager.default.fileExists(atPath: rings + "/" + WeightSegment.fileName(ring: ring, sequence: Int64(epoch - 1))))
            }
            aggregator = try TrainerHarness.startAggregator(logs: logs, rings: rings, exitWhenIdle: false)
        })
        #expect(killedBeforeCheckpoint > 0, "no kill of \(kills) came between reading a segment and the checkpoint naming it")
        let deadline = Date().addingTimeInterval(60)
        while (TrainerHarness.ringFiles(rings) > 0 || Self.segmentFiles(rings) > 0) && Date() < deadline { usleep(20_000) }
        #expect(TrainerHarness.ringFiles(rings) == 0, "the ring was not retired")
        #expect(Self.segmentFiles(rings) == 0, "weight segments left after their ring retired")
        aggregator.terminate()
        aggregator.waitUntilExit()
        #expect(aggregator.terminationStatus == 0)
        let written = try TrainerHarness.eventStreams(logs)
        #expect(written.keys.sorted() == expected.keys.sorted())
        for (run, events) in expected {
            let other = written[run] ?? []
            #expect(other.count == events.count, "\(run): \(other.count) events after \(kills) kills, \(events.count) without")
            if let first = zip(events, other).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
                Issue.record("\(run): event \(first) differs after \(kills) kills")
            }
        }
    }

    static let layers = 4

    /// A trainer in this process: `layers` weights of 256 Ki values, a histogram of each every
    /// epoch; `around` is handed each epoch's work (its batches, weights and epoch end).
    static func trainWithWeights(
        rings: String, logs: String, epochs: Int, around: (Int, () -> Void) throws -> Void = { $1() }
    ) throws {
        let callback = try TensorBoard(logDir: logs + "/run", histogramFreq: 1, writeGraph: false, profileBatch: 0,
                                       ringDirectory: rings, startAggregator: false)
        func layers(_ epoch: Int) -> [ModelDescription.Layer] {
            (0..<Self.layers).map { layer in
                ModelDescription.Layer(name: "dense_\(layer)", className: "Dense", weights: [.init(
                    name: "dense_\(layer)/kernel:0", shape: [256, 1024],
                    values: (0..<(256 << 10)).map { Float(($0 * (layer + 3) + epoch * 17) % 1013) / 1013 - 0.5 })])
            }
        }
        try callback.setParams(TrainingParameters(batchSize: 8, epochs: epochs, steps: 4, doValidation: true, metrics: ["loss"]))
        try callback.setModel(ModelDescription(name: "model", layers: layers(0)))
        callback.onTrainBegin(logs: [:])
        for epoch in 0..<epochs {
            let weights = layers(epoch + 1)
            try around(epoch) {
                callback.onEpochBegin(epoch, logs: [:])
                for batch in 0..<4 { callback.onTrainBatchEnd(batch, logs: ["loss": Double(epoch * 4 + batch)]) }
                callback.setWeights(weights)
                callback.onEpochEnd(epoch, logs: ["loss": Double(epoch), "val_loss": Double(epoch) / 2])
            }
        }
        callback.onTrainEnd(logs: [:])
        _ = TensorBoard.closeRing(directory: rings)
    }

    /// Whether process `pid` maps a file whose name is `name`.
    static func maps(_ pid: Int32, _ name: String) -> Bool {
        guard let maps = try? String(contentsOfFile: "/proc/\(pid)/maps", encoding: .utf8) else { return false }
        return maps.split(separator: "\n").contains { $0.hasSuffix("/" + name) }
    }

    /// Whether a model file of the aggregator's checkpoint names segment `sequence` of `ring`.
    static func checkpointNames(_ rings: String, ring: String, sequence: Int64) throws -> Bool {
        let reference = Array(ring.utf8) + withUnsafeBytes(of: sequence.littleEndian) { Array($0) }
        for name in try FileManager.default.contentsOfDirectory(atPath: rings) where name.hasPrefix("aggregator.model.") {
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: rings + "/" + name)))
            if bytes.count >= reference.count, (0...(bytes.count - reference.count)).contains(where: { bytes[$0..<($0 + reference.count)].elementsEqual(reference) }) {
                return true
            }
        }
        return false
    }

    static func segmentFiles(_ rings: String) -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: rings)) ?? []).filter { $0.contains(WeightSegment.nameInfix) }.count
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
