import Foundation
import RingboardFormat
import RingboardRecords
import RingboardRing
import RingboardTestSupport
import Testing

/// Records that decode (every field in range for its type) but carry values no sane trainer
/// sends: a batch size that is NaN, infinite, negative or past Int64, a weight offset past
/// Int64, a weight shape whose product overflows or would need terabytes, embeddings with no
/// columns or negative dimensions, a NUL in a tensor name. Through the callback's
/// Swift API a NaN size needs only a bug in the caller. The aggregator serves every trainer of
/// the node: it must log such a record and go on, never trap.
@Suite struct AggregatorBadValueTests {
    static let ringboard = productsDirectory + "/ringboard"

    @Test func theAggregatorLogsAndGoesOn() throws {
        let directory = TemporaryDirectory("ringboard-bad-values")
        let rings = directory.appending("rings"), logs = directory.appending("logs")
        var options = RingWriter.Options()
        options.capacity = 1 << 16
        let writer = try RingWriter(directory: rings, options: options)
        func append(_ record: HookRecord) {
            #expect(writer.tryAppend(type: record.type, record.encoded) != .full)
        }
        append(.runAnnouncement(run: 0, rank: 0, worldSize: 1, policy: .chief, arguments: TensorBoardArguments(
            logDirectory: logs + "/run", histogramFrequency: 1, updateFrequency: .batch, embeddingsFrequency: 1)))
        append(.metricName(run: 0, metric: 0, name: "size"))
        append(.metricName(run: 0, metric: 1, name: "loss"))
        let model = #"""
            {"name": "m", "layers": [
              {"name": "huge", "class_name": "Dense", "weights": [{"name": "huge/kernel:0", "shape": [1099511627776, 1099511627776]}]},
              {"name": "big", "class_name": "Dense", "weights": [{"name": "big/kernel:0", "shape": [4294967296, 4096]}]},
              {"name": "dense", "class_name": "Dense", "weights": [{"name": "dense/kernel:0", "shape": [2]}]},
              {"name": "empty", "class_name": "Embedding", "weights": [{"name": "empty/embeddings:0", "shape": [4, 0]}]},
              {"name": "negative", "class_name": "Embedding", "weights": [{"name": "negative/embeddings:0", "shape": [-1, -1]}]},
              {"name": "nul", "class_name": "Embedding", "weights": [{"name": "nul\u0000/../../x:0", "shape": [1, 1]}]},
              {"name": "embedding", "class_name": "Embedding", "weights": [{"name": "embedding/embeddings:0", "shape": [2, 2]}]}]}
            """#
        append(.model(run: 0, json: model, graphDef: [], wallTime: 1_800_000_000_000_000_000))
        append(.weightValues(run: 0, weight: 2, version: 1, offset: 1 << 63, total: .max, values: [1]))
        append(.hook(run: 0, kind: .trainBegin, index: 0, logs: [], wallTime: 1_800_000_000_000_000_000))
        let sizes: [Double] = [.nan, .infinity, -.infinity, -5, 1e300, 9.3e18, 32]
        for (batch, size) in sizes.enumerated() {
            append(.batch(run: 0, phase: .train, isEnd: true, batch: Int64(batch),
                          logs: [MetricValue(metric: 0, value: size), MetricValue(metric: 1, value: Double(batch))], wallTime: 1_800_000_000_000_000_000))
        }
        append(.hook(run: 0, kind: .epochEnd, index: 0, logs: [MetricValue(metric: 1, value: 0.5)], wallTime: 1_800_000_000_000_000_000))
        append(.hook(run: 0, kind: .trainEnd, index: 0, logs: [], wallTime: 1_800_000_000_000_000_000))
        writer.close()

        let result = try run(Self.ringboard, ["aggregate", "--logdir", logs, "--ring-dir", rings, "--exit-when-idle", "0"], timeout: 120)
        #expect(result.status == 0, "\(result.standardError)")
        let train = try FileManager.default.contentsOfDirectory(atPath: logs + "/run/train").filter { $0.contains("tfevents") }
        try #require(train.count == 1)
        let reader = try EventFileReader(path: logs + "/run/train/" + train[0])
        var batchLosses: [Int64] = [], epochLoss = false
        while case .event(let event, _) = try reader.nextEvent() {
            guard case .summary(let summary) = event.what, let tag = summary.values.first?.tag else { continue }
            if tag == "batch_loss" { batchLosses.append(event.step) }
            if tag == "epoch_loss" { epochLoss = true }
        }
        #expect(batchLosses == (0..<Int64(sizes.count)).map { $0 }, "every batch written, at its step")
        #expect(epochLoss)
        #expect(result.standardError.contains("huge/kernel:0"), "\(result.standardError)")
        #expect(result.standardError.contains("big/kernel:0"), "\(result.standardError)")
        // The projector has the one embedding that can be written.
        let projector = try String(contentsOfFile: logs + "/run/projector_config.pbtxt", encoding: .utf8)
        #expect(projector.contains("embedding/embeddings:0") && !projector.contains("empty") && !projector.contains("negative"), "\(projector)")
        // A NUL in a tensor name does not cut its TSV's path short: the file is where the config says.
        #expect(projector.contains(#"tensor_path: "train/nul__.._.._x_0.tsv""#), "\(projector)")
        #expect(FileManager.default.fileExists(atPath: logs + "/run/train/nul__.._.._x_0.tsv"))
        #expect(!FileManager.default.fileExists(atPath: logs + "/run/train/nul"))
    }
}
