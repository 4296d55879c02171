import Foundation
@testable import RingboardAggregator
import RingboardFormat
import RingboardRecords
import Testing

/// The TF 2.0 state machine of one run, driven in-process hook by hook (DESIGN §2).
@Suite struct RunMachineTests {
    typealias H = RunTableHarness

    /// Two epochs of `batches` batches of `size` samples, losses 0.5, 0.25, …; epoch logs with
    /// `val_loss` when `validation`.
    func fit(_ harness: H, batches: Int, size: Double = 32, validation: Bool = false) {
        harness.name("ring", ["batch", "size", "loss", "val_loss"])
        var tick = 0
        harness.hook("ring", .trainBegin, at: H.wallTime(tick))
        for epoch in 0..<2 {
            harness.hook("ring", .epochBegin, Int64(epoch), at: H.wallTime(tick))
            for batch in 0..<batches {
                tick += 1
                harness.batch("ring", Int64(batch), [Double(batch), size, 1 / Double(tick + 1)], at: H.wallTime(tick))
            }
            harness.hook("ring", .epochEnd, Int64(epoch), [nil, nil, Double(epoch) + 0.5, validation ? Double(epoch) + 0.75 : nil],
                         at: H.wallTime(tick))
        }
        harness.hook("ring", .trainEnd, at: H.wallTime(tick))
        harness.flush()
    }

    @Test func updateFrequencyBatchWritesEveryBatchAtItsIndexAndEpochsAtSamplesSeen() {
        let harness = H()
        harness.announce("ring", harness.arguments("run", updateFrequency: .batch))
        fit(harness, batches: 3)
        let scalars = harness.scalars("run/train")
        let batch = scalars.filter { $0.tag == "batch_loss" }
        // TF 2.0: batch scalars at the total batches seen before the batch, across epochs.
        #expect(batch.map(\.step) == [0, 1, 2, 3, 4, 5])
        #expect(batch.map(\.value) == (1...6).map { Float(1 / Double($0 + 1)) })
        #expect(batch.map(\.wallTime) == (1...6).map { HookClock.seconds(H.wallTime($0)) })
        // With update_freq batch, epoch scalars go at the samples seen.
        let epoch = scalars.filter { $0.tag == "epoch_loss" }
        #expect(epoch.map(\.step) == [96, 192])
        #expect(epoch.map(\.value) == [0.5, 1.5])
        #expect(!scalars.contains { $0.tag.contains("size") || $0.tag.contains("batch_batch") })
    }

    @Test func updateFrequencyEpochWritesNoBatchScalarsAndEpochsAtTheEpoch() {
        let harness = H()
        harness.announce("ring", harness.arguments("run", updateFrequency: .epoch))
        fit(harness, batches: 3)
        let scalars = harness.scalars("run/train")
        #expect(scalars.map(\.description) == ["epoch_loss@0=0.5", "epoch_loss@1=1.5"])
    }

    @Test func updateFrequencyInSamplesWritesOnceThatManySamplesPassed() {
        let harness = H()
        // 32 samples a batch, every 80 samples: after batches 2 (96), 5 (192), then 8 would be next.
        harness.announce("ring", harness.arguments("run", updateFrequency: .samples(80)))
        fit(harness, batches: 4)
        let batch = harness.scalars("run/train").filter { $0.tag == "batch_loss" }
        // Samples seen 32, 64, 96 (write, step 2), 128, 160, 192 (write, step 5), 224, 256 (64 since).
        #expect(batch.map(\.step) == [2, 5])
    }

    @Test func aSizeThatIsNoCountOfSamplesCountsOne() {
        let harness = H()
        harness.announce("ring", harness.arguments("run", updateFrequency: .samples(2)))
        harness.name("ring", ["size", "loss"])
        harness.batch("ring", 0, [.nan, 1], at: H.wallTime(0))
        harness.batch("ring", 1, [-3, 2], at: H.wallTime(1))
        harness.batch("ring", 2, [1, 3], at: H.wallTime(2))
        harness.hook("ring", .epochEnd, 0, [], at: H.wallTime(2))
        harness.flush()
        // 1, 2 (write at step 1), 3.
        #expect(harness.scalars("run/train").filter { $0.tag == "batch_loss" }.map(\.step) == [1])
    }

    @Test func validationMetricsGoToTheValidationRunWithoutTheirPrefix() {
        let harness = H()
        harness.announce("ring", harness.arguments("run", updateFrequency: .epoch))
        fit(harness, batches: 2, validation: true)
        #expect(harness.scalars("run/train").map(\.description) == ["epoch_loss@0=0.5", "epoch_loss@1=1.5"])
        #expect(harness.scalars("run/validation").map(\.description) == ["epoch_loss@0=0.75", "epoch_loss@1=1.75"])
    }

    @Test func batchValidationMetricsGoToValidationAsBatchScalars() {
        let harness = H()
        harness.announce("ring", harness.arguments("run", updateFrequency: .batch))
        harness.name("ring", ["val_acc", "loss"])
        harness.batch("ring", 0, [0.5, 2], at: H.wallTime(0))
        harness.flush()
        #expect(harness.scalars("run/validation").map(\.description) == ["batch_acc@0=0.5"])
        #expect(harness.scalars("run/train").map(\.description) == ["batch_loss@0=2.0"])
    }

    @Test func aMetricNeverNamedIsLeftOutAndTheOthersStillWritten() {
        let harness = H()
        harness.announce("ring", harness.arguments("run"))
        harness.name("ring", ["loss"])
        // Metric 1 was never named.
        harness.batch("ring", 0, [1, 7], at: H.wallTime(0))
        harness.batch("ring", 1, [2, 7], at: H.wallTime(1))
        harness.flush()
        #expect(harness.scalars("run/train").map(\.description) == ["batch_loss@0=1.0", "batch_loss@1=2.0"])
    }

    @Test func trainEndClosesTheFilesAndALaterFitGoesOnCountingInNewFiles() throws {
        let harness = H()
        harness.announce("ring", harness.arguments("run"))
        harness.name("ring", ["loss"])
        harness.batch("ring", 0, [1], at: H.wallTime(0))
        harness.hook("ring", .trainEnd, at: H.wallTime(1))
        harness.batch("ring", 0, [2], at: H.wallTime(2))
        harness.flush()
        let files = try FileManager.default.contentsOfDirectory(atPath: harness.logs + "/run/train").filter { $0.hasPrefix("events") }
        #expect(files.count == 2)
        #expect(harness.scalars("run/train").map(\.description) == ["batch_loss@0=1.0", "batch_loss@1=2.0"])
    }

    @Test func histogramEpochsWriteEveryWeightAtTheEpochInKerasOrder() throws {
        let harness = H()
        harness.announce("ring", harness.arguments("run", updateFrequency: .epoch, histogramFrequency: 2))
        let model = #"{"name":"m","layers":[{"name":"dense","class_name":"Dense","weights":[{"name":"dense/kernel:0","shape":[2,2]},{"name":"dense/bias:0","shape":[2]}]}]}"#
        harness.table.deliver(.model(run: 0, json: model, graphDef: [], wallTime: H.wallTime(0)), from: "ring")
        harness.table.deliver(.weightValues(run: 0, weight: 0, version: 1, offset: 0, total: 4, values: [1, 2, 3, 4]), from: "ring")
        harness.table.deliver(.weightValues(run: 0, weight: 1, version: 1, offset: 0, total: 2, values: [-1, 1]), from: "ring")
        for epoch in 0..<3 { harness.hook("ring", .epochEnd, Int64(epoch), at: H.wallTime(epoch + 1)) }
        harness.flush()
        let histograms = harness.events("run/train").compactMap { event -> (String, Int64, HistogramProto)? in
            guard case .summary(let summary) = event.what, case .histogram(let histogram) = summary.values[0].kind else { return nil }
            return (summary.values[0].tag, event.step, histogram)
        }
        // Epochs 0 and 2; the kernel, then the bias, each time.
        #expect(histograms.map { "\($0.0)@\($0.1)" } == ["dense/kernel_0@0", "dense/bias_0@0", "dense/kernel_0@2", "dense/bias_0@2"])
        #expect(histograms[0].2.num == 4 && histograms[0].2.sum == 10 && histograms[0].2.min == 1 && histograms[0].2.max == 4)
        #expect(histograms[1].2.num == 2 && histograms[1].2.sum == 0)
    }
}
