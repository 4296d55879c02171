import Foundation
import RingboardRecords
import RingboardRing
import RingboardTestSupport
import Testing
@testable import Ringboard

@Suite struct TensorBoardTests {
    /// Every record this process wrote to the ring in `directory`, decoded.
    static func records(in directory: String) throws -> [HookRecord] {
        let name = try #require(try FileManager.default.contentsOfDirectory(atPath: directory).first { $0.hasSuffix(".ring") })
        let reader = try RingReader(path: directory + "/" + name)
        var records: [HookRecord] = []
        var failures: [String] = []
        try reader.poll { record in
            do throws(RecordError) {
                records.append(try HookRecord(type: record.type, payload: record.payload))
            } catch {
                failures.append(error.description)
            }
        }
        _ = try reader.pollUnmarkedSpill { _ in failures.append("spilled") }
        #expect(failures.isEmpty)
        return records
    }

    /// `records` with every wall time set to 0, and the wall times they had.
    static func withoutWallTimes(_ records: [HookRecord]) -> (records: [HookRecord], wallTimes: [Int64]) {
        var wallTimes: [Int64] = []
        let stripped = records.map { record -> HookRecord in
            switch record {
            case .batch(let run, let phase, let isEnd, let batch, let logs, let wallTime):
                wallTimes.append(wallTime)
                return .batch(run: run, phase: phase, isEnd: isEnd, batch: batch, logs: logs, wallTime: 0)
            case .hook(let run, let kind, let index, let logs, let wallTime):
                wallTimes.append(wallTime)
                return .hook(run: run, kind: kind, index: index, logs: logs, wallTime: 0)
            case .model(let run, let json, let graphDef, let wallTime):
                wallTimes.append(wallTime)
                return .model(run: run, json: json, graphDef: graphDef, wallTime: 0)
            default:
                return record
            }
        }
        return (stripped, wallTimes)
    }

    /// The precise clock, in nanoseconds since the Unix epoch.
    static func preciseNow() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }

    @Test func announcesItsRunAndNumbersMetricsOnce() throws {
        let directory = TemporaryDirectory("ringboard-callback")
        let rings = directory.appending("rings")
        let before = Self.preciseNow()
        let callback = try TensorBoard(logDir: "experiment/run1", updateFreq: .samples(64), rank: 1, worldSize: 2,
                                       rankPolicy: .mean, ringDirectory: rings, startAggregator: false)
        callback.onTrainBegin(logs: [:])
        callback.onTrainBatchEnd(0, logs: ["batch": 0, "size": 32, "loss": 0.5])
        callback.onTrainBatchEnd(1, logs: ["batch": 1, "size": 32, "loss": 0.25])
        callback.onEpochEnd(0, logs: ["loss": 0.4, "val_loss": 0.45])
        let after = Self.preciseNow()
        let run = callback.run
        let (records, wallTimes) = Self.withoutWallTimes(try Self.records(in: rings))
        // Stamped when each hook fired, by a clock that is at most a tick (a few ms) behind.
        #expect(wallTimes.count == 4)
        #expect(wallTimes.allSatisfy { $0 >= before - 10_000_000 && $0 <= after }, "\(wallTimes) not in \(before)...\(after)")
        #expect(wallTimes == wallTimes.sorted())
        // log_dir is resolved against the working directory, as Keras does.
        #expect(callback.arguments.logDirectory == FileManager.default.currentDirectoryPath + "/experiment/run1")
        #expect(records == [
            .runAnnouncement(run: run, rank: 1, worldSize: 2, policy: .mean, arguments: TensorBoardArguments(
                logDirectory: FileManager.default.currentDirectoryPath + "/experiment/run1", updateFrequency: .samples(64))),
            .hook(run: run, kind: .trainBegin, index: 0, logs: [], wallTime: 0),
            .metricName(run: run, metric: 0, name: "batch"),
            .metricName(run: run, metric: 1, name: "size"),
            .metricName(run: run, metric: 2, name: "loss"),
            .batch(run: run, phase: .train, isEnd: true, batch: 0, logs: [.init(metric: 0, value: 0), .init(metric: 1, value: 32), .init(metric: 2, value: 0.5)], wallTime: 0),
            .batch(run: run, phase: .train, isEnd: true, batch: 1, logs: [.init(metric: 0, value: 1), .init(metric: 1, value: 32), .init(metric: 2, value: 0.25)], wallTime: 0),
            .metricName(run: run, metric: 3, name: "val_loss"),
            .hook(run: run, kind: .epochEnd, index: 0, logs: [.init(metric: 2, value: 0.4), .init(metric: 3, value: 0.45)], wallTime: 0),
        ])
    }

    /// Under `.chief` a rank other than 0 is written nowhere: it announces its run and sends
    /// nothing else, in either hook form; rank 0 sends everything.
    /// The traced batch (`profileBatch` 2: the second train batch, over both forms of logs) is
    /// stamped to the clock's resolution, so a span timed within it lies between its hooks; the
    /// others to the tick; and no stamp goes back, though a precise one runs ahead of the tick.
    @Test func theTracedBatchIsStampedPreciselyAroundItsSpans() throws {
        let directory = TemporaryDirectory("ringboard-callback")
        let rings = directory.appending("rings")
        let callback = try TensorBoard(logDir: "experiment/run1", updateFreq: .batch, profileBatch: 2, ringDirectory: rings,
                                       startAggregator: false)
        var logs = callback.batchLogs(["loss"])
        callback.onTrainBegin(logs: [:])
        for batch in 0..<4 {
            callback.onTrainBatchBegin(batch, logs: [:])
            callback.span("step \(batch)") { usleep(300) }
            logs[0] = Double(batch)
            if batch.isMultiple(of: 2) { callback.onTrainBatchEnd(batch, logs: logs) } else { callback.onTrainBatchEnd(batch, logs: ["loss": 1]) }
        }
        callback.onEpochEnd(0, logs: ["loss": 0.4])
        let records = try Self.records(in: rings)
        var batches: [Int64: [Int64]] = [:], stamps: [Int64] = []
        var spans: [String: (start: Int64, duration: Int64, thread: UInt64)] = [:]
        for record in records {
            switch record {
            case .batch(_, .train, _, let batch, _, let wallTime):
                batches[batch, default: []].append(wallTime)
                stamps.append(wallTime)
            case .hook(_, _, _, _, let wallTime):
                stamps.append(wallTime)
            case .span(_, let name, let start, let duration, let thread):
                spans[name] = (start, duration, thread)
            default:
                break
            }
        }
        #expect(stamps == stamps.sorted(), "\(stamps)")
        #expect(spans.count == 4 && spans.values.allSatisfy { $0.duration >= 300_000 && $0.thread > 0 }, "\(spans)")
        let traced = try #require(batches[1]), span = try #require(spans["step 1"])
        #expect(traced[0] <= span.start && span.start + span.duration <= traced[1], "\(traced) around \(span)")
        // Every batch sent both its hooks.
        #expect(batches.count == 4 && batches.values.allSatisfy { $0.count == 2 })
    }

    @Test func otherRanksOfAChiefRunSendOnlyTheirAnnouncement() throws {
        for rank in [1, 0] {
            let directory = TemporaryDirectory("ringboard-callback")
            let rings = directory.appending("rings")
            let callback = try TensorBoard(logDir: "run", histogramFreq: 1, rank: rank, worldSize: 2, rankPolicy: .chief, ringDirectory: rings, startAggregator: false)
            try callback.setModel(ModelDescription(name: "m", layers: [.init(name: "d", className: "Dense", weights: [
                .init(name: "d/kernel:0", shape: [2], values: [1, 2])])]))
            callback.onTrainBegin(logs: [:])
            callback.onTrainBatchEnd(0, logs: ["loss": 0.5])
            var logs = callback.batchLogs(["loss"])
            logs[0] = 0.25
            callback.onTrainBatchEnd(1, logs: logs)
            callback.onEpochEnd(0, logs: ["loss": 0.4])
            callback.onTrainEnd(logs: [:])
            let records = try Self.records(in: rings)
            #expect(records.first == .runAnnouncement(run: callback.run, rank: UInt32(rank), worldSize: 2, policy: .chief,
                                                      arguments: callback.arguments))
            if rank > 0 {
                #expect(records.count == 1)
            } else {
                #expect(records.count > 6)
                #expect(records.contains { if case .weightSegment = $0 { true } else { false } })
            }
        }
    }

    /// The hot-loop form writes the same record as the `Logs` form.
    @Test func batchLogsWriteTheSameRecords() throws {
        let directory = TemporaryDirectory("ringboard-callback")
        let rings = directory.appending("rings")
        let callback = try TensorBoard(ringDirectory: rings, startAggregator: false)
        var logs = callback.batchLogs(["batch", "size", "loss", "accuracy"])
        for batch in 0..<3 {
            logs[0] = Double(batch)
            logs[1] = 32
            logs[2] = 1 / Double(batch + 1)
            logs[3] = 0.5
            callback.onTrainBatchEnd(batch, logs: logs)
            callback.onBatchEnd(batch, logs: ["batch": Double(batch), "size": 32, "loss": 1 / Double(batch + 1), "accuracy": 0.5])
        }
        let batches = Self.withoutWallTimes(try Self.records(in: rings)).records.filter { if case .batch = $0 { true } else { false } }
        #expect(batches.count == 6)
        for pair in stride(from: 0, to: 6, by: 2) { #expect(batches[pair] == batches[pair + 1]) }
    }

    /// Weights go into a weight segment beside the ring, named by a record per weight; when the
    /// segment cannot be made (here its name is taken), they go through the ring in pieces
    /// instead, and the next histogram epoch tries a segment again.
    @Test func weightsGoOutBeforeTheEpochsThatUseThem() throws {
        let directory = TemporaryDirectory("ringboard-callback")
        let rings = directory.appending("rings")
        // A small ring: the 1200-value kernel travels in pieces when it goes through the ring.
        var small = RingWriter.Options()
        small.capacity = 1 << 14
        let callback = try TensorBoard(histogramFreq: 2, ringDirectory: rings, ringOptions: small, startAggregator: false)
        let ring = try #require(try FileManager.default.contentsOfDirectory(atPath: rings).first { $0.hasSuffix(".ring") })
        // Segment 0's name taken: the first histogram epoch falls back to records.
        try FileManager.default.createDirectory(atPath: rings + "/" + WeightSegment.fileName(ring: ring, sequence: 0),
                                                withIntermediateDirectories: false)
        try callback.setParams(TrainingParameters(batchSize: 4, epochs: 3, doValidation: true))
        let kernel = (0..<1200).map { Float($0) }
        try callback.setModel(ModelDescription(name: "m", layers: [
            .init(name: "dense", className: "Dense", weights: [.init(name: "dense/kernel:0", shape: [400, 3], values: kernel),
                                                                  .init(name: "dense/bias:0", shape: [3], values: [0, 0, 0])]),
        ]))
        callback.setWeights([.init(name: "dense", className: "Dense", weights: [.init(name: "dense/bias:0", shape: [3], values: [1, 2, 3])])])
        for epoch in 0..<3 { callback.onEpochEnd(epoch, logs: ["loss": 1]) }
        let records = try Self.records(in: rings)
        let kinds: [String] = records.compactMap { record in
            switch record {
            case .weightValues(_, let weight, let version, _, _, _): "w\(weight)v\(version)"
            case .weightSegment(_, let weight, let version, let segment, _, _): "s\(segment)w\(weight)v\(version)"
            case .hook(_, .epochEnd, let epoch, _, _): "epoch\(epoch)"
            default: nil
            }
        }
        // histogram_freq 2: weights before epochs 0 and 2 only; epoch 2's in segment 1.
        #expect(kinds.first == "w0v1")
        #expect(kinds.contains("epoch0") && kinds.contains("epoch2"))
        #expect(kinds.firstIndex(of: "epoch0")! < kinds.firstIndex(of: "epoch1")!)
        let between = kinds[kinds.firstIndex(of: "epoch0")!..<kinds.firstIndex(of: "epoch1")!]
        #expect(!between.contains { $0.hasPrefix("w") || $0.hasPrefix("s") })
        #expect(Array(kinds.suffix(3)) == ["s1w0v2", "s1w1v2", "epoch2"])
        let segment = try WeightSegment(directory: rings, ring: ring, sequence: 1)
        var segmentValues: [[Float]] = []
        for case .weightSegment(_, _, 2, 1, let offset, let count) in records {
            #expect(Int(offset) % WeightSegment.valueAlignment == 0)
            segmentValues.append(segment.withValues(offset: Int(offset), count: Int(count)) { span in
                var values: [Float] = []
                for index in span.indices { values.append(span[index]) }
                return values
            })
        }
        #expect(segmentValues == [kernel, [1, 2, 3]])
        var kernelValues: [Float] = []
        var bias: [Float] = []
        var pieces = 0
        for case .weightValues(_, let weight, 1, let offset, let total, let values) in records {
            if weight == 0 {
                pieces += 1
                #expect(Int(offset) == kernelValues.count && total == 1200)
                kernelValues += values
            } else {
                bias = values
            }
        }
        #expect(kernelValues == kernel)
        #expect(pieces == 3)  // a 16 KiB ring takes 2 KiB records: 494 values a piece
        #expect(bias == [1, 2, 3])
        guard case .model(_, let json, _, _) = records.first(where: { if case .model = $0 { true } else { false } }) else {
            Issue.record("no model record")
            return
        }
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
        let layers = object["layers"] as! [[String: Any]]
        #expect(layers.first?["class_name"] as? String == "Dense")
        #expect((layers.first?["weights"] as? [[String: Any]])?.map { $0["name"] as! String } == ["dense/kernel:0", "dense/bias:0"])
    }

    @Test func usersGetClearErrors() throws {
        let directory = TemporaryDirectory("ringboard-callback")
        let rings = directory.appending("rings")
        let histograms = try TensorBoard(histogramFreq: 1, ringDirectory: rings, startAggregator: false)
        #expect(throws: ConfigurationError.histogramsNeedValidationData(histogramFrequency: 1)) {
            try histograms.setParams(TrainingParameters(epochs: 1, doValidation: false))
        }
        let embeddings = try TensorBoard(embeddingsFreq: 1, embeddingsMetadata: .perLayer(["dense": "a.tsv", "embedding": "b.tsv"]),
                                         ringDirectory: rings, startAggregator: false)
        #expect(throws: ConfigurationError.unrecognizedEmbeddingLayers(["dense"])) {
            try embeddings.setModel(ModelDescription(name: "m", layers: [
                .init(name: "embedding", className: "Embedding"), .init(name: "dense", className: "Dense"),
            ]))
        }
        #expect(ConfigurationError.unrecognizedEmbeddingLayers(["dense"]).description
            == "Unrecognized `Embedding` layer names passed to `keras.callbacks.TensorBoard` `embeddings_metadata` argument: [\"dense\"]")
        #expect(throws: ConfigurationError.self) { _ = try TensorBoard(logDir: "", ringDirectory: rings, startAggregator: false) }
        #expect(throws: ConfigurationError.self) { _ = try TensorBoard(logDir: "a\u{0}b", ringDirectory: rings, startAggregator: false) }
        #expect(throws: ConfigurationError.self) { _ = try TensorBoard(histogramFreq: -1, ringDirectory: rings, startAggregator: false) }
        #expect(throws: ConfigurationError.self) { _ = try TensorBoard(updateFreq: .samples(0), ringDirectory: rings, startAggregator: false) }
        #expect(throws: ConfigurationError.self) { _ = try TensorBoard(rank: 2, worldSize: 2, ringDirectory: rings, startAggregator: false) }
        // Past what a record carries (it used to trap converting to UInt32 past 2^32).
        #expect(throws: ConfigurationError.invalidArgument(name: "worldSize", reason: "8589934592 is not between 1 and 65536")) {
            _ = try TensorBoard(worldSize: 1 << 33, ringDirectory: rings, startAggregator: false)
        }
        let mismatched = try TensorBoard(ringDirectory: rings, startAggregator: false)
        #expect(throws: ConfigurationError.self) {
            try mismatched.setModel(ModelDescription(name: "m", layers: [
                .init(name: "dense", className: "Dense", weights: [.init(name: "k", shape: [2, 2], values: [1, 2, 3])]),
            ]))
        }
        // A shape whose product does not fit in an Int, or with a negative dimension: an error,
        // not an arithmetic overflow trap.
        for shape in [[1 << 40, 1 << 40], [-1, -1], [-1, 1 << 40, 1 << 40]] {
            #expect { try mismatched.setModel(ModelDescription(name: "m", layers: [
                .init(name: "dense", className: "Dense", weights: [.init(name: "k", shape: shape, values: [1])]),
            ])) } throws: { error in
                guard case .invalidArgument(_, let reason) = error as? ConfigurationError else { return false }
                return reason.contains("negative dimension or is too large")
            }
        }
        #expect { try mismatched.setModel(ModelDescription(name: "m", layers: [
            .init(name: "dense", className: "Dense", weights: [.init(name: "k", shape: [Int.max, 2, 0], values: [1])]),
        ])) } throws: { error in
            guard case .invalidArgument(_, let reason) = error as? ConfigurationError else { return false }
            return reason.contains("holds 0 values, but 1 were given")
        }
    }
}
