// The aggregator, the one process of a node that must never stop, driven by a stream of records
// from one producer: each record's bytes are arbitrary, so it meets records the decoder refuses
// and, more to the point, records that decode but carry values no sane trainer sends (a NaN batch
// size, a weight shape past memory, a weight piece past its end). The input is a sequence of
// records, each `type byte (16 + b % 10) · u16 length · payload`; they go into a real ring, and a
// real Aggregator drains it into event files (on the scratch directory), then closes them.
// Refusals and logged errors are fine; a crash, a trap or a hang is a bug.
import FuzzSupport
import Glibc
import Logging
import RingboardAggregator
import RingboardRecords
import RingboardRing

let rings = scratchDirectory + "/rings"
/// A fixed log root, so that the seeds' run directories (absolute, as trainers send them) lie
/// under it; a run anywhere else is refused. Emptied after each input.
let logs = "/tmp/ringboard-fuzz-aggregator/logs"
let quiet = Logger(label: "fuzz", factory: { _ in SwiftLogNoOpLogHandler() })

/// Records in the input format: type, length, payload.
func encode(_ records: [HookRecord]) -> [UInt8] {
    var bytes: [UInt8] = []
    for record in records {
        let payload = record.encoded
        bytes.append(UInt8(record.type - 16))
        bytes += withUnsafeBytes(of: UInt16(payload.count).littleEndian) { Array($0) }
        bytes += payload
    }
    return bytes
}

func writeSeeds(_ directory: String) throws {
    let announce = { (run: UInt32, arguments: TensorBoardArguments) in
        HookRecord.runAnnouncement(run: run, rank: 0, worldSize: 1, policy: .chief, arguments: arguments)
    }
    let model = #"""
        {"name": "m", "layers": [
          {"name": "embedding", "class_name": "Embedding", "weights": [{"name": "embedding/embeddings:0", "shape": [3, 2]}]},
          {"name": "dense", "class_name": "Dense", "weights": [{"name": "dense/kernel:0", "shape": [2, 2]}, {"name": "dense/bias:0", "shape": [2]}]}]}
        """#
    let training: [HookRecord] = [
        announce(0, TensorBoardArguments(logDirectory: logs + "/run", histogramFrequency: 1, writeImages: true, updateFrequency: .samples(2),
                                         profileBatch: 1, embeddingsFrequency: 1, embeddingsMetadata: .all("words.tsv"))),
        .metricName(run: 0, metric: 0, name: "size"),
        .metricName(run: 0, metric: 1, name: "loss"),
        .metricName(run: 0, metric: 2, name: "val_loss"),
        .parameters(run: 0, json: #"{"epochs": 1, "steps": 2, "do_validation": true}"#),
        .model(run: 0, json: model, graphDef: [0x0a, 0x01, 0x78], wallTime: 1_800_000_000_000_000_000),
        .weightValues(run: 0, weight: 0, version: 1, offset: 0, total: 6, values: [1, 2, 3, 4, 5, 6]),
        .weightValues(run: 0, weight: 1, version: 1, offset: 0, total: 4, values: [0.5, -0.5, 0.25, .nan]),
        .weightValues(run: 0, weight: 2, version: 1, offset: 0, total: 2, values: [0, 1]),
        .hook(run: 0, kind: .trainBegin, index: 0, logs: [], wallTime: 1_800_000_000_000_000_000),
        .span(run: 0, name: "step", start: 1_764_000_000_000_000_000, duration: 1000, thread: 1),
        .batch(run: 0, phase: .train, isEnd: true, batch: 0, logs: [MetricValue(metric: 0, value: 2), MetricValue(metric: 1, value: 0.7)], wallTime: 1_800_000_000_000_000_000),
        .batch(run: 0, phase: .train, isEnd: true, batch: 1, logs: [MetricValue(metric: 0, value: 2), MetricValue(metric: 1, value: 0.6)], wallTime: 1_800_000_000_000_000_000),
        .batch(run: 0, phase: .test, isEnd: true, batch: 0, logs: [], wallTime: 1_800_000_000_000_000_000),
        .hook(run: 0, kind: .epochEnd, index: 0, logs: [MetricValue(metric: 1, value: 0.65), MetricValue(metric: 2, value: 0.7)], wallTime: 1_800_000_000_000_000_000),
        .hook(run: 0, kind: .trainEnd, index: 0, logs: [], wallTime: 1_800_000_000_000_000_000),
    ]
    writeFile(directory + "/training", encode(training))
    let ranks: [HookRecord] = [
        HookRecord.runAnnouncement(run: 0, rank: 0, worldSize: 2, policy: .mean, arguments: TensorBoardArguments(logDirectory: logs + "/mean", updateFrequency: .batch)),
        HookRecord.runAnnouncement(run: 1, rank: 1, worldSize: 2, policy: .mean, arguments: TensorBoardArguments(logDirectory: logs + "/mean", updateFrequency: .batch)),
        HookRecord.runAnnouncement(run: 2, rank: 1, worldSize: 2, policy: .perRank, arguments: TensorBoardArguments(logDirectory: logs + "/ranks")),
        .metricName(run: 0, metric: 0, name: "loss"), .metricName(run: 1, metric: 0, name: "loss"), .metricName(run: 2, metric: 0, name: "loss"),
        .batch(run: 0, phase: .train, isEnd: true, batch: 0, logs: [MetricValue(metric: 0, value: 1)], wallTime: 1_800_000_000_000_000_000),
        .batch(run: 1, phase: .train, isEnd: true, batch: 0, logs: [MetricValue(metric: 0, value: 3)], wallTime: 1_800_000_000_000_000_000),
        .hook(run: 2, kind: .epochEnd, index: 0, logs: [MetricValue(metric: 0, value: 3)], wallTime: 1_800_000_000_000_000_000),
        .hook(run: 0, kind: .trainEnd, index: 0, logs: [], wallTime: 1_800_000_000_000_000_000), .hook(run: 1, kind: .trainEnd, index: 0, logs: [], wallTime: 1_800_000_000_000_000_000),
    ]
    writeFile(directory + "/ranks", encode(ranks))
    let writer: [HookRecord] = [
        HookRecord.runAnnouncement(run: 0, rank: 0, worldSize: 1, policy: .chief, arguments: TensorBoardArguments(logDirectory: logs + "/writer", semantics: .summaryWriter)),
        .metricName(run: 0, metric: 0, name: "loss"), .metricName(run: 0, metric: 1, name: "loss_train"),
        .summary(run: 0, tag: 0, directory: nil, step: 1, wallTime: 1_800_000_000, value: .scalar(0.5)),
        .summary(run: 0, tag: 0, directory: 1, step: 1, wallTime: 1_800_000_000, value: .scalar(0.25)),
        .summary(run: 0, tag: 0, directory: nil, step: 1, wallTime: 1_800_000_000, value: .histogram(.float([1, 2, -3]))),
        .summary(run: 0, tag: 0, directory: nil, step: 1, wallTime: 1_800_000_000, value: .image(height: 1, width: 2, channels: 1, pixels: [0, 255])),
        .summary(run: 0, tag: 0, directory: nil, step: 1, wallTime: 1_800_000_000, value: .text("*t*")),
        .summary(run: 0, tag: 0, directory: 1, step: 1, wallTime: 1_800_000_000, value: .hparams(HParamsSet(
            values: [HParamsSet.Entry(name: "lr", value: .number(0.1))], discrete: ["lr": [.number(0.1)]], metrics: ["loss"]))),
        HookRecord.runAnnouncement(run: 1, rank: 1, worldSize: 2, policy: .mean, arguments: TensorBoardArguments(logDirectory: logs + "/means", semantics: .summaryWriter)),
        .metricName(run: 1, metric: 0, name: "loss"),
        .summary(run: 1, tag: 0, directory: nil, step: 1, wallTime: 1_800_000_000, value: .scalar(0.5)),
    ]
    writeFile(directory + "/writer", encode(writer))
}

runFuzzer(writeSeeds: writeSeeds) { input in
    var options = RingWriter.Options()
    options.capacity = 1 << 16
    options.policy = .dropNewest
    guard let writer = try? RingWriter(directory: rings, options: options) else { preconditionFailure("no ring") }
    var at = input.startIndex
    while input.endIndex - at >= 3 {
        let type = 16 + UInt16(input[at] % 10)
        let length = min(Int(input[at + 1]) | Int(input[at + 2]) << 8, input.endIndex - at - 3, writer.maximumPayloadLength)
        let payload = Array(input[(at + 3)..<(at + 3 + length)])
        at += 3 + length
        if case .full = writer.tryAppend(type: type, payload) { break }
    }
    writer.close()
    var aggregatorOptions = Aggregator.Options(logRoot: logs, ringDirectory: rings)
    aggregatorOptions.hostName = "fuzz"
    guard let aggregator = try? Aggregator(options: aggregatorOptions, logger: quiet) else { preconditionFailure("no aggregator") }
    for _ in 0..<16 where !aggregator.isIdle {
        aggregator.step(timeout: .nanoseconds(1))
    }
    precondition(aggregator.isIdle, "the ring of a closed producer was not retired")
    aggregator.finishAll()
    removeTree(logs)
}
