import Foundation
import Logging
@testable import RingboardAggregator
import RingboardFormat
import RingboardRecords
import RingboardRing
import RingboardTestSupport
import Testing

/// Drives a `RunTable` (stage 2 and what follows it) in-process, as stage 1 would: hook records
/// by ring name, batch hooks decoded into `BatchRecord`s, the clock given by the test. What the
/// runs write lands in a temporary log root, read back event by event.
final class RunTableHarness {
    let directory = TemporaryDirectory("ringboard-aggregator")
    var logs: String { directory.path + "/logs" }
    var table: RunTable
    /// The clock the table is told; tests move it.
    var now = ContinuousClock.now
    /// Every event file and trace the runs made, in order.
    let created = CreatedFiles()
    private var decoded = BatchRecord()

    final class CreatedFiles: @unchecked Sendable {
        var paths: [String] = []
    }

    init() {
        try! FileManager.default.createDirectory(atPath: directory.path + "/logs", withIntermediateDirectories: true)
        table = RunTableHarness.makeTable(logRoot: directory.path + "/logs", created: created)
    }

    static func makeTable(logRoot: String, created: CreatedFiles) -> RunTable {
        let logger = Logger(label: "ringboard.aggregator.test") { _ in SwiftLogNoOpLogHandler() }
        let summaries = SummaryMaker(pool: SummaryPool(), host: "testhost", logger: logger)
        return RunTable(logRoot: logRoot, summaries: summaries, fileCreated: { created.paths.append($0) })
    }

    /// The wall time of the `index`-th hook, in nanoseconds since the Unix epoch.
    static func wallTime(_ index: Int) -> Int64 { 1_765_000_000_000_000_000 + Int64(index) * 1_000_000 }

    /// TensorBoard arguments for a run in `logs/<run>`.
    func arguments(
        _ run: String, updateFrequency: UpdateFrequency = .batch, histogramFrequency: Int64 = 0, semantics: Semantics = .tf20
    ) -> TensorBoardArguments {
        TensorBoardArguments(logDirectory: logs + "/" + run, histogramFrequency: histogramFrequency, writeGraph: false,
                             updateFrequency: updateFrequency, profileBatch: 0, semantics: semantics)
    }

    func announce(_ ring: String, run: UInt32 = 0, rank: UInt32 = 0, worldSize: UInt32 = 1, policy: RankPolicy = .chief,
                  _ arguments: TensorBoardArguments) {
        table.deliver(.runAnnouncement(run: run, rank: rank, worldSize: worldSize, policy: policy, arguments: arguments), from: ring)
    }

    /// Names metrics 0, 1, … of run `run` of `ring`.
    func name(_ ring: String, run: UInt32 = 0, _ names: [String]) {
        for (number, name) in names.enumerated() {
            table.deliver(.metricName(run: run, metric: UInt32(number), name: name), from: ring)
        }
    }

    /// A batch hook of the named metrics 0, 1, …, through the batch path stage 1 takes.
    func batch(_ ring: String, run: UInt32 = 0, phase: BatchPhase = .train, end: Bool = true, _ batch: Int64,
               _ values: [Double], at wallTime: Int64) {
        let record = HookRecord.batch(run: run, phase: phase, isEnd: end, batch: batch,
                                      logs: values.enumerated().map { MetricValue(metric: UInt32($0.offset), value: $0.element) },
                                      wallTime: wallTime)
        let payload = record.encoded
        payload.withUnsafeBytes { try! decoded.decode($0) }
        table.deliver(&decoded, from: ring)
    }

    /// Any other hook, with logs of the named metrics 0, 1, … (`nil` leaves a metric out).
    func hook(_ ring: String, run: UInt32 = 0, _ kind: HookKind, _ index: Int64 = 0, _ values: [Double?] = [], at wallTime: Int64) {
        let logs = values.enumerated().compactMap { entry in entry.element.map { MetricValue(metric: UInt32(entry.offset), value: $0) } }
        table.deliver(.hook(run: run, kind: kind, index: index, logs: logs, wallTime: wallTime), from: ring)
    }

    /// Where weight segments go (a ring directory of the harness).
    var rings: String { directory.path + "/rings" }
    /// Stage 1's weight segments.
    lazy var segments = WeightSegments(directory: rings)

    /// Every weight of run `run` of ring `ring` (a ring file name) as of `version`, in a weight
    /// segment beside the ring, delivered as stage 1 delivers the records that name it.
    func weightsBySegment(_ ring: String, run: UInt32 = 0, version: UInt64, _ weights: [[Float]]) throws {
        try? FileManager.default.createDirectory(atPath: rings, withIntermediateDirectories: true)
        let writer = segmentWriters[ring] ?? WeightSegment.Writer(ringPath: rings + "/" + ring)
        segmentWriters[ring] = writer
        var named: (Int64, [Int]) = (0, [])
        try writer.write(valueCounts: weights.map(\.count), fill: { (index, write) throws(RingError) in
            let values = weights[index]
            try write(values.span)
        }, publish: { named = ($0, $1) })
        for (weight, values) in weights.enumerated() {
            let segment = try segments.named(ring: ring, sequence: named.0)
            let mapped = try #require(WeightValues.inSegment(segment, offset: named.1[weight], count: values.count))
            table.deliverWeight(run: run, weight: UInt32(weight), version: version, values: mapped, from: ring)
        }
    }

    private var segmentWriters: [String: WeightSegment.Writer] = [:]

    /// Every weight of run `run` of ring `ring` as of `version`, in `weightValues` records.
    func weightsByRecords(_ ring: String, run: UInt32 = 0, version: UInt64, _ weights: [[Float]]) {
        for (weight, values) in weights.enumerated() {
            table.deliver(.weightValues(run: run, weight: UInt32(weight), version: version, offset: 0, total: UInt64(values.count), values: values),
                          from: ring)
        }
    }

    /// The end of a poll, then a flush.
    func flush() {
        table.finishPoll()
        precondition(table.flush(now: now), "a flush failed")
    }

    /// Saves the table as a checkpoint would, drops it without closing anything (as a killed
    /// aggregator would), and restores a new table from what was saved.
    func restart() throws {
        flush()
        var state = StateEncoder()
        try table.encode(into: &state) { _ in nil }
        let file = state.file(magic: CheckpointStore.stateMagic)
        table = RunTableHarness.makeTable(logRoot: logs, created: created)
        var decoder = try StateDecoder(file: file, magic: CheckpointStore.stateMagic)
        _ = try table.restore(from: &decoder, now: now, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() },
                              loadModel: { (name: String) throws(AggregatorError) -> RunModel in throw .malformed("no model \(name)") },
                              restored: { _, _ in })
        precondition(decoder.isAtEnd)
    }

    /// One scalar event as read back.
    struct Scalar: Equatable, CustomStringConvertible {
        var tag: String
        var step: Int64
        var value: Float
        var wallTime: Double
        var description: String { "\(tag)@\(step)=\(value)" }
    }

    /// The events of every event file in `logs/<path>`, in file-name order, the file-version
    /// record left out.
    func events(_ path: String) -> [Event] {
        let folder = logs + "/" + path
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
            .filter { $0.hasPrefix("events.out.tfevents.") }.sorted()
        var events: [Event] = []
        for name in names {
            guard let reader = try? EventFileReader(path: folder + "/" + name) else { continue }
            while case .event(let event, _) = try? reader.nextEvent() {
                if case .fileVersion = event.what { continue }
                events.append(event)
            }
        }
        return events
    }

    /// The scalar events of `logs/<path>`.
    func scalars(_ path: String) -> [Scalar] {
        events(path).flatMap { event -> [Scalar] in
            guard case .summary(let summary) = event.what else { return [] }
            return summary.values.compactMap { value in
                switch value.kind {
                case .simpleValue(let scalar): Scalar(tag: value.tag, step: event.step, value: scalar, wallTime: event.wallTime)
                case .tensor(let tensor) where tensor.dtype == .float && tensor.shape.isEmpty && tensor.tensorContent.count == 4
                    && value.metadata?.pluginName == "scalars":
                    // tf.summary.scalar's form (Keras 3).
                    Scalar(tag: value.tag, step: event.step,
                           value: Float(bitPattern: tensor.tensorContent.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)) }),
                           wallTime: event.wallTime)
                default: nil
                }
            }
        }
    }
}
