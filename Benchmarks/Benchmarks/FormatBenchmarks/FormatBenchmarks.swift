import Benchmark
import Foundation
import RingboardFormat

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration.thresholds = regressionTolerances()
    crc32cBenchmarks()
    eventBenchmarks()
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

// MARK: - CRC32C

/// CRC32C over 64 B (a small record header or event), 4 KiB and 1 MiB, on the path
/// `CRC32C.checksum` picks for this machine (see `CRC32C.hardwareAccelerated`).
///
/// `.throughput` counts checksums per second; multiplied by the size it gives bytes per second.
/// The portable path can't be chosen through the public API, so it isn't measured here; the tests
/// check it against the hardware path, and `Scripts/bench-crc32c.sh` compares this path with the
/// Python `google-crc32c` package.
func crc32cBenchmarks() {
    let sizes: [(name: String, count: Int, scalingFactor: BenchmarkScalingFactor)] = [
        ("64 B", 64, .kilo),
        ("4 KiB", 4096, .kilo),
        ("1 MiB", 1 << 20, .one),
    ]
    for size in sizes {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<size.count).map { _ in UInt8.random(in: 0...255, using: &generator) }
        Benchmark(
            "CRC32C \(size.name)",
            configuration: .init(
                metrics: [.throughput, .wallClock],
                warmupIterations: 10,
                scalingFactor: size.scalingFactor,
                maxDuration: .seconds(1),
                maxIterations: 100_000
            )
        ) { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(CRC32C.checksum(bytes.span.bytes))
            }
        }
    }
}

// MARK: - Scalar events

/// Scalar events encoded as `Event` protobufs, framed as TFRecords (two CRC32Cs each) and
/// written to a real file through `EventFileWriter`: the path every scalar the aggregator logs
/// takes. `.throughput` is events per second; `.mallocCountTotal` must stay 0 once the writer's
/// buffer has reached its working size (the warm-up iterations get it there). The custom metric
/// `bytes per event` is the file's size growth per event: what a scalar costs on disk.
func eventBenchmarks() {
    let directory = NSTemporaryDirectory() + "/ringboard-bench-\(getpid())"
    let bytesPerEvent = BenchmarkMetric.custom("bytes per event", polarity: .prefersSmaller, useScalingFactor: false)
    writerBenchmark("Scalar event encode+frame+write", metrics: [bytesPerEvent], in: directory) { benchmark, writer in
        var step: Int64 = 0
        let before = writer.writtenBytes + Int64(writer.pendingBytes)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            try writer.appendScalar(tag: "batch_loss", value: Float(step & 1023) * 0.001, step: step, wallTime: 1_764_000_000.125 + Double(step) * 1e-6)
            step += 1
        }
        benchmark.stopMeasurement()
        let after = writer.writtenBytes + Int64(writer.pendingBytes)
        benchmark.measurement(bytesPerEvent, Int((after - before) / max(step, 1)))
    }

    // The aggregator's batch hooks: four scalars a step, handed over every 50 steps with
    // `appendScalars` and encoded on the writer's queue; the closing `flush()` waits for the
    // encoding, so the time covers it. `.mallocCountTotal` must not grow with the scalars.
    let table = ["batch_loss", "batch_accuracy", "batch_lr", "batch_grad_norm"].map(ScalarTag.init)
    let tags: [Int32] = [0, 1, 2, 3]
    let positions: [Int32] = [0, 1, 2, 3]
    writerBenchmark("Scalar batch appendScalars, 4 per step", in: directory) { benchmark, writer in
        var batch = EventFileWriter.ScalarBatch()
        var values: [Double] = [0.5, 0.25, 0.001, 3]
        var step: Int64 = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            values[0] = Double(step & 1023) * 0.001
            batch.append(tags, values, at: positions, step: step, wallTime: 1_764_000_000.125 + Double(step) * 1e-6)
            step += 1
            if step % 50 == 0 { try writer.appendScalars(table, &batch) }
        }
        try writer.appendScalars(table, &batch)
        try writer.flush()
        benchmark.stopMeasurement()
    }

    Benchmark(
        "Scalar Event.serializedBytes (general path)",
        configuration: .init(
            metrics: [.throughput, .wallClock, .mallocCountTotal],
            warmupIterations: 3,
            scalingFactor: .kilo,
            maxDuration: .seconds(1),
            maxIterations: 100_000
        )
    ) { benchmark in
        var bytes = 0
        for k in benchmark.scaledIterations {
            let event = Event(wallTime: 1_764_000_000.125, step: Int64(k), what: .summary(Summary(values: [.init(tag: "batch_loss", kind: .simpleValue(0.5))])))
            bytes &+= event.serializedBytes().count
        }
        blackHole(bytes)
    }

    // The reading side: one scalar event's bytes decoded back into an `Event`, as
    // `EventFileReader.nextEvent` and `ringboard inspect` decode every record.
    let scalarBytes = Event(wallTime: 1_764_000_000.125, step: 12_345,
                            what: .summary(Summary(values: [.init(tag: "batch_loss", kind: .simpleValue(0.5))]))).serializedBytes()
    Benchmark(
        "Scalar event decode",
        configuration: .init(
            metrics: [.throughput, .wallClock, .mallocCountTotal],
            warmupIterations: 3,
            scalingFactor: .kilo,
            maxDuration: .seconds(1),
            maxIterations: 100_000
        )
    ) { benchmark in
        var steps: Int64 = 0
        for _ in benchmark.scaledIterations {
            steps &+= try Event(serializedBytes: scalarBytes).step
        }
        blackHole(steps)
    }
}

/// A benchmark of appends to a new `EventFileWriter` in `directory`, which is removed afterwards:
/// throughput, wall clock and malloc counts, plus `metrics`.
func writerBenchmark(
    _ name: String, metrics: [BenchmarkMetric] = [], in directory: String,
    _ body: @escaping (Benchmark, EventFileWriter) throws -> Void
) {
    Benchmark(
        name,
        configuration: .init(
            metrics: [.throughput, .wallClock, .mallocCountTotal] + metrics,
            warmupIterations: 3,
            scalingFactor: .kilo,
            maxDuration: .seconds(2),
            maxIterations: 100_000
        )
    ) { benchmark in
        let writer = try EventFileWriter(directory: directory)
        defer {
            try? writer.close()
            try? FileManager.default.removeItem(atPath: directory)
        }
        try body(benchmark, writer)
    }
}
