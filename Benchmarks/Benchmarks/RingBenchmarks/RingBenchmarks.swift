import Benchmark
import Foundation
import RingboardRecords
import RingboardRing

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration.thresholds = regressionTolerances()
    ringBenchmarks()
}

/// Tolerances `Scripts/benchmark.sh --check` allows against the p90 thresholds committed in
/// Benchmarks/Thresholds (which hold wall clock and malloc counts only): wall clock may take twice
/// as long (its p90 moves by more than half between runs on a shared 2-core VM), malloc counts may
/// not grow at all.
func regressionTolerances() -> [BenchmarkMetric: BenchmarkThresholds] {
    [
        .wallClock: .init(relative: [.p90: 100]),
        .mallocCountTotal: .init(absolute: [.p90: 0]),
    ]
}

/// The ring's hot paths, one thread each: a producer appending 32-byte records (the size of a
/// batch-end hook with a few metrics), the consumer draining and committing them, and 64 KiB
/// records through both, next to a plain memcpy of the same size. Each sample is 1000 records;
/// the consumer's work between samples is outside the producer's measurement.
func ringBenchmarks() {
    // Memory-backed, as rings are in use (/dev/shm); a disk-backed file would measure writeback.
    let directory = "/dev/shm/ringboard-ring-bench-\(getpid())"
    let type = RingRecordType.firstUser

    // One ring for every sample, warmed by two full laps: a ring in use has its pages mapped, and
    // first-touch page faults are not what these measure.
    var smallOptions = RingWriter.Options()
    smallOptions.capacity = 1 << 20
    let smallWriter = try! RingWriter(directory: directory, options: smallOptions)
    let smallReader = try! RingReader(path: smallWriter.path)
    // The mappings are all the benchmarks use: the files go now, so that no run (the benchmark
    // tool starts a process per benchmark) leaves its rings in /dev/shm.
    try? FileManager.default.removeItem(atPath: directory)
    for _ in 0..<(2 * smallOptions.capacity / 40) {
        _ = smallWriter.tryAppend(type: type, [UInt8](repeating: 1, count: 32))
        try! smallReader.poll { _ in }
        try! smallReader.commit()
    }

    Benchmark(
        "Ring append 32 B",
        configuration: .init(metrics: [.wallClock, .throughput, .mallocCountTotal], warmupIterations: 10, scalingFactor: .kilo,
                             maxDuration: .seconds(2), maxIterations: 200_000)
    ) { benchmark in
        var value: UInt64 = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            _ = smallWriter.tryClaim(type: type, length: 32) { payload in
                payload.storeBytes(of: value, as: UInt64.self)
                payload.storeBytes(of: value, toByteOffset: 8, as: UInt64.self)
                payload.storeBytes(of: value, toByteOffset: 16, as: UInt64.self)
                payload.storeBytes(of: value, toByteOffset: 24, as: UInt64.self)
            }
            value &+= 1
        }
        benchmark.stopMeasurement()
        try smallReader.poll { _ in }
        try smallReader.commit()
    }

    // A batch-end hook with 4 metrics (batch, size, loss, accuracy), encoded straight into the
    // claimed space: what a trainer pays per `on_train_batch_end`.
    let metricNumbers: [UInt32] = [0, 1, 2, 3]
    Benchmark(
        "Ring batch-end record, 4 metrics",
        configuration: .init(metrics: [.wallClock, .throughput, .mallocCountTotal], warmupIterations: 10, scalingFactor: .kilo,
                             maxDuration: .seconds(2), maxIterations: 200_000)
    ) { benchmark in
        var values: [Double] = [0, 32, 0.69, 0.5]
        let length = HookRecord.batchLength(metricCount: 4)
        benchmark.startMeasurement()
        for batch in benchmark.scaledIterations {
            values[0] = Double(batch)
            _ = smallWriter.append(type: RecordType.batch, length: length) { payload in
                HookRecord.encodeBatch(into: payload, run: 0, phase: .train, isEnd: true, batch: Int64(batch),
                                       metrics: metricNumbers.span, values: values.span)
            }
        }
        benchmark.stopMeasurement()
        try smallReader.poll { _ in }
        try smallReader.commit()
    }

    // The aggregator's side of that hook: the record validated and decoded (`HookRecord(type:payload:)`,
    // which every drained record goes through before the run's state machine sees it).
    let batchPayload = HookRecord.batch(run: 0, phase: .train, isEnd: true, batch: 77,
                                        logs: metricNumbers.map { MetricValue(metric: $0, value: 0.5) }, wallTime: 1_800_000_000_000_000_000).encoded
    Benchmark(
        "Hook record decode, batch-end, 4 metrics",
        configuration: .init(metrics: [.wallClock, .throughput, .mallocCountTotal], warmupIterations: 10, scalingFactor: .kilo,
                             maxDuration: .seconds(1), maxIterations: 200_000)
    ) { benchmark in
        var batches: Int64 = 0
        batchPayload.withUnsafeBytes { payload in
            for _ in benchmark.scaledIterations {
                if case .batch(_, _, _, let batch, _, _) = try! HookRecord(type: RecordType.batch, payload: payload) { batches &+= batch }
            }
        }
        blackHole(batches)
    }

    Benchmark(
        "Ring drain 32 B",
        configuration: .init(metrics: [.wallClock, .throughput, .mallocCountTotal], warmupIterations: 10, scalingFactor: .kilo,
                             maxDuration: .seconds(2), maxIterations: 200_000)
    ) { benchmark in
        let payload = [UInt8](repeating: 1, count: 32)
        for _ in benchmark.scaledIterations {
            _ = smallWriter.tryAppend(type: type, payload)
        }
        var sum: UInt64 = 0
        benchmark.startMeasurement()
        try smallReader.poll { record in sum &+= record.payload.load(as: UInt64.self) }
        try smallReader.commit()
        benchmark.stopMeasurement()
        blackHole(sum)
    }

    let large = [UInt8](repeating: 7, count: 64 << 10)
    // One ring for every sample, warmed by a full lap first: a ring in use has its pages mapped,
    // and first-touch page faults are not what this measures.
    var largeOptions = RingWriter.Options()
    largeOptions.capacity = 1 << 20  // the smallest ring that takes 64 KiB records (an eighth of it)
    let largeWriter = try! RingWriter(directory: directory + "-large", options: largeOptions)
    let largeReader = try! RingReader(path: largeWriter.path)
    try? FileManager.default.removeItem(atPath: directory + "-large")
    for _ in 0..<(2 * largeOptions.capacity / large.count) {
        _ = largeWriter.tryAppend(type: type, large)
        try! largeReader.poll { _ in }
        try! largeReader.commit()
    }
    Benchmark(
        "Ring append+drain 64 KiB",
        configuration: .init(metrics: [.wallClock, .throughput], warmupIterations: 5, scalingFactor: .one,
                             maxDuration: .seconds(2), maxIterations: 100_000)
    ) { benchmark in
        var sum: UInt64 = 0
        for _ in benchmark.scaledIterations {
            _ = largeWriter.tryAppend(type: type, large)
            try largeReader.poll { record in sum &+= UInt64(record.payload[record.payload.count - 1]) }
            try largeReader.commit()
        }
        blackHole(sum)
    }

    Benchmark(
        "memcpy 64 KiB",
        configuration: .init(metrics: [.wallClock, .throughput], warmupIterations: 5, scalingFactor: .one,
                             maxDuration: .seconds(1), maxIterations: 100_000)
    ) { benchmark in
        var destination = [UInt8](repeating: 0, count: 64 << 10)
        for _ in benchmark.scaledIterations {
            destination.withUnsafeMutableBytes { to in large.withUnsafeBytes { from in to.copyMemory(from: from) } }
            blackHole(destination[100])
        }
    }
}
