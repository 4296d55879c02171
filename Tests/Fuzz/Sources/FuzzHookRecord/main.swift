// The hook-record decoder on arbitrary bytes. The first byte picks the record type (15…26: every
// type, and an unknown one on each side); the rest is the payload. Whatever the decoder accepts
// must encode again, and the re-encoded bytes must decode to a record that encodes the same way.
import FuzzSupport
import RingboardRecords

let samples: [HookRecord] = [
    .runAnnouncement(run: 0, rank: 0, worldSize: 1, policy: .chief, arguments: TensorBoardArguments(logDirectory: "/logs")),
    .runAnnouncement(run: 7, rank: 2, worldSize: 4, policy: .mean, arguments: TensorBoardArguments(
        logDirectory: "/data/experiments/run 1", histogramFrequency: 2, writeGraph: false, writeImages: true,
        updateFrequency: .samples(96), profileBatch: 0, embeddingsFrequency: 3, embeddingsMetadata: .all("meta.tsv"))),
    .runAnnouncement(run: 1, rank: 1, worldSize: 2, policy: .perRank, arguments: TensorBoardArguments(
        logDirectory: "/", updateFrequency: .batch, embeddingsMetadata: .perLayer(["embedding": "words.tsv", "e1": "c.tsv"]))),
    .metricName(run: 0, metric: 3, name: "val_accuracy"),
    .batch(run: 0, phase: .train, isEnd: true, batch: 41, logs: [
        MetricValue(metric: 0, value: 41), MetricValue(metric: 1, value: 32), MetricValue(metric: 2, value: 0.6931),
    ], wallTime: 1_800_000_000_000_000_000),
    .batch(run: 1, phase: .test, isEnd: false, batch: 0, logs: [], wallTime: 1_800_000_000_000_000_000),
    .hook(run: 0, kind: .epochEnd, index: 3, logs: [MetricValue(metric: 2, value: .nan), MetricValue(metric: 3, value: -0.0)], wallTime: 1_800_000_000_000_000_000),
    .parameters(run: 0, json: #"{"batch_size": 32, "epochs": 2, "do_validation": true}"#),
    .model(run: 0, json: #"{"name": "m", "layers": []}"#, graphDef: [0x0a, 0x01, 0x78], wallTime: 1_800_000_000_000_000_000),
    .weightValues(run: 0, weight: 5, version: 2, offset: 3, total: 10, values: [1, -2.5, .greatestFiniteMagnitude, 0]),
    .span(run: 0, name: "on_train_batch_end", start: 1_764_000_000_000_000_000, duration: 1500, thread: 9),
    .summary(run: 0, tag: 1, directory: 2, step: 3, wallTime: 1_765_000_000.5, value: .scalar(0.25)),
    .summary(run: 0, tag: 1, directory: nil, step: 3, wallTime: 1, value: .text("**x**")),
    .summary(run: 0, tag: 1, directory: nil, step: 3, wallTime: 1, value: .histogram(.float([1, -2, 0]))),
    .summary(run: 0, tag: 1, directory: nil, step: 3, wallTime: 1, value: .rawHistogram(RawHistogram(
        min: 0, max: 1, num: 2, sum: 1, sumSquares: 1, bucketLimits: [0.5, 1], bucketCounts: [1, 1]))),
    .summary(run: 0, tag: 1, directory: nil, step: 3, wallTime: 1, value: .image(height: 1, width: 1, channels: 3, pixels: [1, 2, 3])),
    .summary(run: 0, tag: 1, directory: 2, step: 0, wallTime: 1, value: .hparams(HParamsSet(
        values: [HParamsSet.Entry(name: "lr", value: .number(0.1)), HParamsSet.Entry(name: "opt", value: .string("sgd"))],
        discrete: ["opt": [.string("sgd"), .string("adam")]], metrics: ["loss"]))),
    .summary(run: 0, tag: 1, directory: nil, step: 3, wallTime: 1, value: .histogram(.segment(sequence: 0, offset: 64, count: 10))),
]

runFuzzer(writeSeeds: { directory in
    for (index, record) in samples.enumerated() {
        writeFile(directory + "/record-\(index)", [UInt8(record.type - 15)] + record.encoded)
    }
}) { input in
    guard let first = input.first else { return }
    let type = 15 + UInt16(first % 12)
    guard let record = try? HookRecord(type: type, payload: UnsafeRawBufferPointer(rebasing: input.dropFirst())) else { return }
    precondition(record.type == type)
    let once = record.encoded
    let again: HookRecord
    do {
        again = try HookRecord(type: type, bytes: once)
    } catch {
        preconditionFailure("a decoded record re-encodes to bytes the decoder refuses: \(error)")
    }
    precondition(again.encoded == once, "re-encoding is not stable")
}
