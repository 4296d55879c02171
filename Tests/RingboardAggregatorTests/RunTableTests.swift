import Foundation
@testable import RingboardAggregator
import RingboardFormat
import RingboardRecords
import Testing

/// Routing under the rank policies, `.mean` merging, and restart from a checkpoint, driven
/// in-process (DESIGN §3).
@Suite struct RunTableTests {
    typealias H = RunTableHarness

    /// `ranks` rings training one run under `policy`: batch `b` of rank `r` has loss `b + r` and
    /// size `r + 1` (rank 0 first at each step unless `rankZeroLast`).
    func train(_ harness: H, ranks: Int, policy: RankPolicy, batches: Int, rankZeroLast: Bool = false) {
        for rank in 0..<ranks {
            harness.announce("ring-\(rank)", rank: UInt32(rank), worldSize: UInt32(ranks), policy: policy, harness.arguments("run"))
            harness.name("ring-\(rank)", ["size", "loss"])
        }
        let order = rankZeroLast ? Array((0..<ranks).reversed()) : Array(0..<ranks)
        for batch in 0..<batches {
            for rank in order {
                harness.batch("ring-\(rank)", Int64(batch), [Double(rank + 1), Double(batch + rank)], at: H.wallTime(batch * 10 + rank))
            }
        }
        harness.flush()
    }

    @Test func chiefWritesRankZerosHooksOnly() {
        let harness = H()
        train(harness, ranks: 3, policy: .chief, batches: 2)
        #expect(harness.scalars("run/train").map(\.description) == ["batch_loss@0=0.0", "batch_loss@1=1.0"])
        #expect(!FileManager.default.fileExists(atPath: harness.logs + "/run/rank_1"))
    }

    @Test func perRankWritesEachRankToItsOwnRun() {
        let harness = H()
        train(harness, ranks: 2, policy: .perRank, batches: 2)
        #expect(harness.scalars("run/rank_0/train").map(\.description) == ["batch_loss@0=0.0", "batch_loss@1=1.0"])
        #expect(harness.scalars("run/rank_1/train").map(\.description) == ["batch_loss@0=1.0", "batch_loss@1=2.0"])
    }

    @Test func meanWritesTheSizeWeightedMeanOnceEveryRankReported() {
        let harness = H()
        train(harness, ranks: 2, policy: .mean, batches: 3, rankZeroLast: true)
        // (1 × b + 2 × (b + 1)) / 3 at step b; the merged hook fired when its last rank's did.
        let scalars = harness.scalars("run/train")
        #expect(scalars.map(\.step) == [0, 1, 2])
        let means: [Float] = (0..<3).map { (batch: Int) -> Float in Float((Double(batch) + 2 * Double(batch + 1)) / 3) }
        #expect(scalars.map(\.value) == means)
        #expect(scalars.map(\.wallTime) == (0..<3).map { HookClock.seconds(H.wallTime($0 * 10 + 1)) })
    }

    @Test func meanHoldsAStepBackUntilTheSlowestLiveRankReportsIt() {
        let harness = H()
        for rank in 0..<2 {
            harness.announce("ring-\(rank)", rank: UInt32(rank), worldSize: 2, policy: .mean, harness.arguments("run"))
            harness.name("ring-\(rank)", ["loss"])
        }
        for batch in 0..<4 { harness.batch("ring-0", Int64(batch), [1], at: H.wallTime(batch)) }
        harness.batch("ring-1", 0, [3], at: H.wallTime(0))
        harness.flush()
        #expect(harness.scalars("run/train").map(\.description) == ["batch_loss@0=2.0"])
        // Rank 1 is gone: the rest is merged without it.
        harness.table.retire(ring: "ring-1", now: harness.now)
        harness.flush()
        #expect(harness.scalars("run/train").map(\.description) == ["batch_loss@0=2.0", "batch_loss@1=1.0", "batch_loss@2=1.0", "batch_loss@3=1.0"])
    }

    @Test func meanWaitsForARankNeverSeenOnlyForItsGrace() {
        let harness = H()
        harness.announce("ring-0", rank: 0, worldSize: 2, policy: .mean, harness.arguments("run"))
        harness.name("ring-0", ["loss"])
        harness.batch("ring-0", 0, [1], at: H.wallTime(0))
        harness.table.retire(ring: "ring-0", now: harness.now)
        harness.flush()
        #expect(harness.scalars("run/train").isEmpty)
        harness.now += MeanMerger.unseenRankGrace - .milliseconds(1)
        harness.flush()
        #expect(harness.scalars("run/train").isEmpty)
        harness.now += .milliseconds(1)
        harness.flush()
        #expect(harness.scalars("run/train").map(\.description) == ["batch_loss@0=1.0"])
        // Every rank gone: the run is finished.
        let finished = harness.table.runs.map(\.finished)
        #expect(finished == [true])
    }

    @Test func aRunOutsideTheLogRootIsRefused() {
        let harness = H()
        var arguments = harness.arguments("run")
        arguments.logDirectory = harness.directory.path + "/elsewhere"
        harness.announce("ring", arguments)
        harness.name("ring", ["loss"])
        harness.batch("ring", 0, [1], at: H.wallTime(0))
        harness.flush()
        #expect(harness.table.refusedRuns == 1)
        #expect(!FileManager.default.fileExists(atPath: harness.directory.path + "/elsewhere"))
    }

    @Test func hooksOfARunNeverAnnouncedAreCountedNotWritten() {
        let harness = H()
        harness.name("ring", ["loss"])
        harness.batch("ring", 0, [1], at: H.wallTime(0))
        harness.flush()
        #expect(harness.table.invalidRecords == 2)
        #expect(harness.table.runs.isEmpty)
    }

    /// The events of `body` run straight through, and run with a checkpoint-and-restart after
    /// `cut` of its steps: identical.
    func expectRestartChangesNothing(policy: RankPolicy, steps: Int, cut: Int, subdirectory: String) throws {
        func play(_ harness: H, restartAfter cut: Int?) throws {
            for rank in 0..<2 {
                harness.announce("ring-\(rank)", rank: UInt32(rank), worldSize: 2, policy: policy, harness.arguments("run"))
                harness.name("ring-\(rank)", ["size", "loss", "val_loss"])
            }
            for step in 0..<steps {
                if step == cut { try harness.restart() }
                // Rank 1 runs two steps ahead, so a `.mean` group holds its hooks at the cut.
                for rank in [1, 0] {
                    let batch = rank == 1 ? step + 2 : step
                    guard batch < steps else { continue }
                    harness.batch("ring-\(rank)", Int64(batch), [2, Double(batch) / 7, 0.5], at: H.wallTime(batch * 10 + rank))
                }
                if step == 0 {
                    for batch in 0..<2 { harness.batch("ring-1", Int64(batch), [2, Double(batch) / 7, 0.5], at: H.wallTime(batch * 10 + 1)) }
                }
                if step % 4 == 3 {
                    for rank in 0..<2 { harness.hook("ring-\(rank)", .epochEnd, Int64(step / 4), [nil, 1, 2], at: H.wallTime(step * 10 + 5)) }
                }
            }
            harness.flush()
        }
        let straight = H(), restarted = H()
        try play(straight, restartAfter: nil)
        try play(restarted, restartAfter: cut)
        let expected = straight.scalars(subdirectory)
        #expect(!expected.isEmpty)
        #expect(restarted.scalars(subdirectory) == expected)
        #expect(restarted.scalars("run/validation") == straight.scalars("run/validation"))
    }

    @Test func restartFromACheckpointWritesWhatAnUninterruptedRunWrites() throws {
        try expectRestartChangesNothing(policy: .chief, steps: 12, cut: 5, subdirectory: "run/train")
        try expectRestartChangesNothing(policy: .perRank, steps: 12, cut: 7, subdirectory: "run/rank_1/train")
    }

    @Test func restartOfAMeanGroupKeepsTheHooksItHeld() throws {
        try expectRestartChangesNothing(policy: .mean, steps: 12, cut: 6, subdirectory: "run/train")
    }

    /// Weights in a weight segment, read where the trainer wrote them, give the same histogram
    /// and image events as the same weights in `weightValues` records; under `.mean` too, whose
    /// queue holds them as a record.
    @Test(arguments: [RankPolicy.chief, .mean])
    func weightsBySegmentWriteWhatWeightsByRecordsWrite(policy: RankPolicy) throws {
        let ring = "1-1.ring"
        func events(bySegment: Bool) throws -> [Event] {
            let harness = H()
            var arguments = harness.arguments("run", updateFrequency: .epoch, histogramFrequency: 1)
            arguments.writeImages = true
            harness.announce(ring, policy: policy, arguments)
            let model = #"{"name":"m","layers":[{"name":"dense","class_name":"Dense","weights":[{"name":"dense/kernel:0","shape":[4,6]},{"name":"dense/bias:0","shape":[6]}]}]}"#
            harness.table.deliver(.model(run: 0, json: model, graphDef: [], wallTime: H.wallTime(0)), from: ring)
            for epoch in 0..<3 {
                let weights: [[Float]] = [(0..<24).map { Float($0 * (epoch + 1)) / 7 - 1 }, (0..<6).map { Float(epoch - $0) }]
                if bySegment {
                    try harness.weightsBySegment(ring, version: UInt64(epoch + 1), weights)
                } else {
                    harness.weightsByRecords(ring, version: UInt64(epoch + 1), weights)
                }
                harness.hook(ring, .epochEnd, Int64(epoch), at: H.wallTime(epoch + 1))
            }
            harness.flush()
            return harness.events("run/train")
        }
        let byRecords = try events(bySegment: false)
        let kinds = byRecords.compactMap { event -> String? in
            guard case .summary(let summary) = event.what else { return nil }
            return switch summary.values[0].kind {
            case .histogram: "histogram"
            case .image: "image"
            default: nil
            }
        }
        // Each epoch: the kernel's histogram and image, then the bias's histogram and image.
        #expect(kinds == Array(repeating: ["histogram", "image", "histogram", "image"], count: 3).flatMap { $0 })
        #expect(try events(bySegment: true) == byRecords)
    }
}
