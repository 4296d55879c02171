// The aggregator's checkpoint read back on start: `aggregator.state` and the model file it names,
// `aggregator.model.1.1`, with arbitrary contents, in a ring directory a new `Aggregator` then
// serves. The input is `u8 flags · u32 state length · state · model`; flag 1 gives the state, and
// flag 2 the model, a header (magic, version, length, CRC32C) that matches its body, so that the
// decoders get past the checksum; without it the bytes are the whole file. A resumed aggregator
// steps once and finishes its runs. Refusals are fine; a crash, a trap or a hang is a bug.
import FuzzSupport
import Glibc
import Logging
import RingboardAggregator
import RingboardFormat
import RingboardRecords
import RingboardRing

let rings = scratchDirectory + "/state-rings"
/// A fixed log root, so that the seeds' run directories and event files (absolute paths in the
/// state) lie under it at every run; a checkpointed run anywhere else is refused.
let logs = "/tmp/ringboard-fuzz-aggregator-state/logs"
let modelName = "aggregator.model.1.1"
let quiet = Logger(label: "fuzz", factory: { _ in SwiftLogNoOpLogHandler() })

/// What `StateEncoder.file(magic:)` writes before a body.
func header(_ magic: String, _ body: ArraySlice<UInt8>) -> [UInt8] {
    var bytes = Array(magic.utf8)
    withUnsafeBytes(of: UInt32(5).littleEndian) { bytes += $0 }  // StateEncoder.version
    withUnsafeBytes(of: UInt64(body.count).littleEndian) { bytes += $0 }
    withUnsafeBytes(of: CRC32C.checksum(Array(body)).littleEndian) { bytes += $0 }
    return bytes
}

let headerSize = 24

func resume() {
    var options = Aggregator.Options(logRoot: logs, ringDirectory: rings)
    options.hostName = "fuzz"
    guard let aggregator = try? Aggregator(options: options, logger: quiet) else { return }
    aggregator.step(timeout: .nanoseconds(1))
    aggregator.finishAll()
}

func writeSeeds(_ directory: String) throws {
    let announce = { (run: UInt32, rank: UInt32, worldSize: UInt32, policy: RankPolicy, name: String) in
        HookRecord.runAnnouncement(run: run, rank: rank, worldSize: worldSize, policy: policy,
                                   arguments: TensorBoardArguments(logDirectory: logs + "/" + name, histogramFrequency: 1, updateFrequency: .batch))
    }
    let model = #"""
        {"name": "m", "layers": [
          {"name": "dense", "class_name": "Dense", "weights": [{"name": "dense/kernel:0", "shape": [2, 2]}, {"name": "dense/bias:0", "shape": [2]}]}]}
        """#
    let wallTime: Int64 = 1_800_000_000_000_000_000
    let chief: [HookRecord] = [
        announce(0, 0, 1, .chief, "chief"),
        .metricName(run: 0, metric: 0, name: "loss"),
        .model(run: 0, json: model, graphDef: [0x0a, 0x01, 0x78], wallTime: wallTime),
        .weightValues(run: 0, weight: 0, version: 1, offset: 0, total: 4, values: [0.5, -0.5, 0.25, 1]),
        .weightValues(run: 0, weight: 1, version: 1, offset: 0, total: 2, values: [0, 1]),
        .hook(run: 0, kind: .trainBegin, index: 0, logs: [], wallTime: wallTime),
        .batch(run: 0, phase: .train, isEnd: true, batch: 0, logs: [MetricValue(metric: 0, value: 0.7)], wallTime: wallTime),
        .hook(run: 0, kind: .epochEnd, index: 0, logs: [MetricValue(metric: 0, value: 0.65)], wallTime: wallTime),
    ]
    // Rank 1 never sends: rank 0's hooks wait in the group, and go into the checkpoint.
    let mean: [HookRecord] = [
        announce(0, 0, 2, .mean, "mean"), announce(1, 1, 2, .mean, "mean"),
        .metricName(run: 0, metric: 0, name: "loss"),
        .batch(run: 0, phase: .train, isEnd: true, batch: 0, logs: [MetricValue(metric: 0, value: 1)], wallTime: wallTime),
        .hook(run: 0, kind: .epochEnd, index: 0, logs: [MetricValue(metric: 0, value: 1)], wallTime: wallTime),
    ]
    for (name, records) in [("chief", chief), ("mean", mean)] {
        removeTree(rings)
        removeTree(logs)
        var ringOptions = RingWriter.Options()
        ringOptions.capacity = 1 << 16
        let writer = try RingWriter(directory: rings, options: ringOptions)
        for record in records { _ = writer.tryAppend(type: record.type, record.encoded) }
        var options = Aggregator.Options(logRoot: logs, ringDirectory: rings)
        options.hostName = "fuzz"
        do {
            // Records, then a step with none, which flushes and saves the checkpoint.
            let aggregator = try Aggregator(options: options, logger: quiet)
            for _ in 0..<4 { aggregator.step(timeout: .nanoseconds(1)) }
        }
        let state = try readFile(rings + "/aggregator.state")
        let model = (try? readFile(rings + "/" + modelName)) ?? []
        var input: [UInt8] = [3]
        withUnsafeBytes(of: UInt32(state.count - headerSize).littleEndian) { input += $0 }
        input += state.dropFirst(headerSize) + model.dropFirst(headerSize)
        writeFile(directory + "/" + name, input)
        // The same files whole, their checksums and all: flag 0.
        var whole: [UInt8] = [0]
        withUnsafeBytes(of: UInt32(state.count).littleEndian) { whole += $0 }
        writeFile(directory + "/" + name + "-files", whole + state + model)
        writer.close()
    }
    removeTree(rings)
    removeTree(logs)
}

runFuzzer(writeSeeds: writeSeeds) { input in
    removeTree(rings)
    mkdir(rings, 0o700)
    guard input.count >= 5 else { return }
    let flags = input[input.startIndex]
    let length = input[(input.startIndex + 1)..<(input.startIndex + 5)].reversed().reduce(0) { $0 << 8 | Int($1) }
    let state = input.dropFirst(5).prefix(length)
    let model = input.dropFirst(5 + state.count)
    let stateFile = flags & 1 != 0 ? header("RBAGGST1", Array(state)[...]) + state : Array(state)
    let modelFile = flags & 2 != 0 ? header("RBAGGMD1", Array(model)[...]) + model : Array(model)
    writeFile(rings + "/aggregator.state", stateFile)
    if !model.isEmpty { writeFile(rings + "/" + modelName, modelFile) }
    resume()
    removeTree(logs)
}
