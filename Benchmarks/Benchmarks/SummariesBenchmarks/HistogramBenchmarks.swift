import Benchmark
import Foundation
import RingboardFormat
@_spi(Benchmarks) import RingboardSummaries

/// Histogram benchmarks over 1 Mi values (4 MiB of Float32): what the aggregator spends on one
/// weight tensor of a layer at every `histogram_freq` epoch.
///
/// - "Histogram TF buckets 1M Float32": `Histogram.tensorFlow` (TensorFlow's default buckets, sums,
///   min, max, encoding) on the widest vector path this CPU runs, then on each path by name.
/// - "Histogram TF buckets 1M Float64": the same for doubles.
/// - "Histogram scalar reference 1M Float32": the reference the kernels are tested against, a
///   binary search per value as histogram.cc does it, and exact sums.
/// - "Histogram reductions only 1M Float32": sum, sum of squares, min and max alone.
/// - "Histogram TensorBoard 30 buckets 1M Float32": `Histogram.tensorBoard`, `tf.summary.histogram`'s form.
/// - "memcpy 4 MiB": copying the same 4 MiB, for the memory bandwidth the values stream at.
///
/// `M values/s` is the custom metric to read: 10^6 input values per second over the iteration's
/// calls. Run with `Scripts/benchmark.sh --filter 'Histogram.*|memcpy.*'`.
func histogramBenchmarks() {
    let count = 1 << 20
    let floats = weights(count: count)
    let doubles = floats.map { Double($0) }
    let valuesPerSecond = BenchmarkMetric.custom("M values/s", polarity: .prefersLarger, useScalingFactor: false)
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock, .throughput, valuesPerSecond, .mallocCountTotal],
        warmupIterations: 3,
        scalingFactor: .one,
        maxDuration: .seconds(2),
        maxIterations: 10_000
    )

    /// Registers a benchmark that runs `body` once per scaled iteration, `count` values each.
    func measure(_ name: String, _ body: @escaping @Sendable () throws -> Double) {
        Benchmark(name, configuration: configuration) { benchmark in
            let clock = ContinuousClock()
            let start = clock.now
            for _ in benchmark.scaledIterations {
                blackHole(try body())
            }
            let elapsed = start.duration(to: clock.now).components
            let seconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) * 1e-18
            let calls = Double(benchmark.scaledIterations.count)
            benchmark.measurement(valuesPerSecond, Int(Double(count) * calls / seconds / 1e6))
        }
    }

    measure("Histogram TF buckets 1M Float32") { try Histogram.tensorFlow(floats, tag: "dense/kernel_0").sum }
    for path in Histogram.VectorPath.available.reversed() {
        measure("Histogram TF buckets 1M Float32 (\(path))") {
            try Histogram.tensorFlow(floats.span, tag: "dense/kernel_0", path: path).sum
        }
    }
    measure("Histogram TF buckets 1M Float64") { try Histogram.tensorFlow(doubles, tag: "dense/kernel_0").sum }
    measure("Histogram scalar reference 1M Float32") {
        try Histogram.tensorFlowReference(floats.span, tag: "dense/kernel_0").sum
    }
    measure("Histogram reductions only 1M Float32") { Histogram.tensorFlowTotals(floats.span)?.sum ?? 0 }
    measure("Histogram TensorBoard 30 buckets 1M Float32") {
        let value = try Histogram.tensorBoard(floats, tag: "dense/kernel_0")
        guard case .tensor(let tensor) = value.kind else { return 0 }
        return Double(tensor.tensorContent.count)
    }

    // Both buffers live for the whole run.
    let source = UnsafeMutableRawBufferPointer.allocate(byteCount: count * 4, alignment: 64)
    let target = UnsafeMutableRawBufferPointer.allocate(byteCount: count * 4, alignment: 64)
    floats.withUnsafeBytes { source.copyMemory(from: $0) }
    nonisolated(unsafe) let buffers = (source: source, target: target)
    measure("memcpy 4 MiB") {
        memcpy(buffers.target.baseAddress!, buffers.source.baseAddress!, count * 4)
        return Double(buffers.target[count])
    }
}

/// 0.05 × standard normal values (Box-Muller over SplitMix64, seed 42): weights of a dense layer,
/// the same values `Tools/HistogramSideBySide` uses.
private func weights(count: Int) -> [Float] {
    var state: UInt64 = 42
    func next() -> Double {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Double((z ^ (z >> 31)) >> 11) * 0x1p-53
    }
    return (0..<count).map { _ in
        let u = Swift.max(next(), Double.ulpOfOne), v = next()
        return Float(0.05 * (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v))
    }
}
