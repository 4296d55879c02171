@testable import RingboardAggregator
import RingboardFormat
import RingboardRecords
import Testing

/// Keras 3's callback (`Semantics.keras3`), driven in-process hook by hook: batch counts from 1,
/// tensor-form scalars, and the recording condition an integer `update_freq` pushes.
@Suite struct Keras3RunMachineTests {
    typealias H = RunTableHarness

    /// `epochs` epochs of `batches` train batches (losses 1, 2, …), each followed by a validation
    /// of one test batch; the test end carries `iterations` (the batches so far, or -1).
    func fit(_ harness: H, epochs: Int, batches: Int, withOptimizer: Bool = true) {
        harness.name("ring", ["loss", "val_loss", "learning_rate"])
        var tick = 0, trained = 0
        harness.hook("ring", .trainBegin, at: H.wallTime(tick))
        for epoch in 0..<epochs {
            harness.hook("ring", .epochBegin, Int64(epoch), at: H.wallTime(tick))
            for batch in 0..<batches {
                tick += 1
                trained += 1
                harness.batch("ring", end: false, Int64(batch), [], at: H.wallTime(tick))
                harness.batch("ring", Int64(batch), [Double(trained)], at: H.wallTime(tick))
            }
            harness.hook("ring", .testBegin, at: H.wallTime(tick))
            harness.batch("ring", phase: .test, end: false, 0, [], at: H.wallTime(tick))
            harness.batch("ring", phase: .test, 0, [0.5], at: H.wallTime(tick))
            harness.hook("ring", .testEnd, withOptimizer ? Int64(trained) : -1, [Double(epoch) + 0.25], at: H.wallTime(tick))
            harness.hook("ring", .epochEnd, Int64(epoch), [Double(epoch), Double(epoch) + 0.25, 0.01], at: H.wallTime(tick))
        }
        harness.hook("ring", .trainEnd, at: H.wallTime(tick))
        harness.flush()
    }

    @Test func anIntegerUpdateFreqCountsBatchesAndConditionsEverySummary() {
        let harness = H()
        harness.announce("ring", harness.arguments("run", updateFrequency: .samples(2), semantics: .keras3))
        fit(harness, epochs: 3, batches: 3)
        let train = harness.scalars("run/train").map(\.description)
        // Batch counts 1…9: written at 2, 4, 6, 8. Epochs end on batches 3, 6, 9: only epoch 1's
        // summaries are recorded (its condition, 6 % 2 == 0, is the innermost when it ends).
        #expect(train == ["batch_loss@2=2.0", "batch_loss@4=4.0", "batch_loss@6=6.0", "epoch_loss@1=1.0",
                          "epoch_learning_rate@1=0.01", "batch_loss@8=8.0"])
        // Test batches count 1, 2, 3 across validations: the evaluation summaries of the second
        // (at 6 iterations); the validation epoch scalar follows the train condition again.
        let validation = harness.scalars("run/validation").map(\.description)
        #expect(validation == ["evaluation_loss_vs_iterations@6=1.25", "epoch_loss@1=1.25"])
    }

    @Test func updateFreqEpochRecordsEveryEpochAndNoBatch() {
        let harness = H()
        harness.announce("ring", harness.arguments("run", updateFrequency: .epoch, semantics: .keras3))
        fit(harness, epochs: 2, batches: 2)
        #expect(harness.scalars("run/train").map(\.description) == [
            "epoch_loss@0=0.0", "epoch_learning_rate@0=0.01", "epoch_loss@1=1.0", "epoch_learning_rate@1=0.01"])
        #expect(harness.scalars("run/validation").map(\.description) == [
            "evaluation_loss_vs_iterations@2=0.25", "epoch_loss@0=0.25", "evaluation_loss_vs_iterations@4=1.25", "epoch_loss@1=1.25"])
    }

    @Test func withoutAnOptimizerNoEvaluationSummaries() {
        let harness = H()
        harness.announce("ring", harness.arguments("run", updateFrequency: .batch, semantics: .keras3))
        fit(harness, epochs: 1, batches: 2, withOptimizer: false)
        #expect(harness.scalars("run/validation").map(\.description) == ["epoch_loss@0=0.25"])
        // "batch": every batch, at its count from 1, every name as batch_<name> (no cleaning, no
        // val_ split).
        #expect(harness.scalars("run/train").filter { $0.tag.hasPrefix("batch_") }.map(\.description) == [
            "batch_loss@1=1.0", "batch_loss@2=2.0"])
    }
}
