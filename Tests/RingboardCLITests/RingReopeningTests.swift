import Foundation
import Ringboard
import RingboardTestSupport
import Testing

/// A process that closes its ring and then logs again gets a ring of its own: the records of
/// both rings reach their event files, and weight segments of the second ring are made beside it
/// (not refused as existing files of the first).
@Suite struct RingReopeningTests {
    static let ringboard = productsDirectory + "/ringboard"

    @Test func aRingOpenedAfterCloseRingKeepsTheFirstRingsRecords() throws {
        let directory = TemporaryDirectory("ringboard-reopened")
        let rings = directory.appending("rings"), logs = directory.appending("logs")
        let model = ModelDescription(name: "model", layers: [
            .init(name: "dense", className: "Dense", weights: [.init(name: "dense/kernel:0", shape: [4], values: [1, 2, 3, 4])]),
        ])
        var paths: [String] = []
        for run in ["first", "second"] {
            let callback = try TensorBoard(logDir: logs + "/" + run, histogramFreq: 1, writeGraph: false, updateFreq: .batch, profileBatch: 0,
                                           ringDirectory: rings, startAggregator: false)
            try callback.setParams(TrainingParameters(batchSize: 32, epochs: 1, steps: 5, doValidation: true, metrics: ["loss"]))
            try callback.setModel(model)
            callback.onTrainBegin(logs: [:])
            callback.onEpochBegin(0, logs: [:])
            for batch in 0..<5 { callback.onTrainBatchEnd(batch, logs: ["loss": Double(batch)]) }
            callback.onEpochEnd(0, logs: ["loss": 1])
            callback.onTrainEnd(logs: [:])
            paths.append(try #require(TensorBoard.closeRing(directory: rings)))
        }
        #expect(paths[0] != paths[1], "the second ring took the first one's name")
        let result = try run(Self.ringboard, ["aggregate", "--logdir", logs, "--ring-dir", rings, "--exit-when-idle", "0"], timeout: 120)
        #expect(result.status == 0, "\(result.standardError)")
        for run in ["first", "second"] {
            let tags = try HookWallTimeTests.wallTimes("batch_loss", under: logs + "/" + run + "/train")
            #expect(tags.keys.sorted() == [0, 1, 2, 3, 4], "\(run): batch_loss at \(tags.keys.sorted())")
            #expect(try HookWallTimeTests.wallTimes("dense/kernel_0", under: logs + "/" + run + "/train").keys.sorted() == [0], "\(run)")
        }
    }
}
