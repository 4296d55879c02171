import Benchmark
import Foundation
import RingboardSummaries

/// Image benchmarks: PNG encoding of a weight image, and TensorFlow's float → uint8 conversion.
///
/// - `PNG encode 1024x1024 gray`: `PNGEncoder` with its defaults (TensorFlow's: libpng's adaptive
///   filters, zlib level 6, memLevel 9) on a smooth, weight-like 8-bit image; `… filter None` is
///   the same without filtering. `.throughput` is encodes per second; the custom metrics give the
///   raw pixel rate (`raw pixel MB/s`, 10^6 bytes of pixels per second, timed per encode and
///   rounded; the wall-clock time gives it more exactly) and the PNG's size (`output bytes`). zlib's deflate is most of the time; `Scripts/bench-png.sh`
///   compares the same encodes with Python writers over zlib.
/// - `Image float→uint8 512x512`: `ImageSummary.images` on a 512×512 float image (1 MiB of
///   input), the vector path; `… reference path` has one NaN pixel, which sends the image down
///   the scalar transcription of TensorFlow's loops. `float input MB/s` is 10^6 input bytes per
///   second, timed per call.
func imageBenchmarks() {
    pngBenchmarks()
    conversionBenchmarks()
}

/// A weight-like float field: smooth waves plus a little noise, from a fixed seed.
private func weightLikeValues(width: Int, height: Int) -> [Float] {
    var state: UInt64 = 2024
    func next() -> UInt64 {  // SplitMix64
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    var values = [Float](repeating: 0, count: width * height)
    for y in 0..<height {
        for x in 0..<width {
            let wave = sin(Float(x) * 0.013) * cos(Float(y) * 0.021) + 0.25 * sin(Float(x + 2 * y) * 0.005)
            let noise = Float(next() >> 40) / Float(1 << 24) * 0.04 - 0.02
            values[y * width + x] = 0.05 * (wave + noise)
        }
    }
    return values
}

private func seconds(_ duration: Duration) -> Double {
    let components = duration.components
    return Double(components.seconds) + Double(components.attoseconds) * 1e-18
}

private func pngBenchmarks() {
    let width = 1024
    let height = 1024
    let values = weightLikeValues(width: width, height: height)
    let pixels = try! ImageSummary.images(tag: "dense/kernel_0", shape: [1, height, width, 1], values: values)[0].pixels
    let rawRate = BenchmarkMetric.custom("raw pixel MB/s", polarity: .prefersLarger, useScalingFactor: false)
    let outputBytes = BenchmarkMetric.custom("output bytes", polarity: .prefersSmaller, useScalingFactor: false)
    let variants: [(suffix: String, strategy: PNGEncoder.FilterStrategy)] = [("", .adaptive), (" filter None", .only(.none))]
    for variant in variants {
        Benchmark(
            "PNG encode 1024x1024 gray\(variant.suffix)",
            configuration: .init(
                metrics: [.wallClock, .throughput, .mallocCountTotal, rawRate, outputBytes],
                warmupIterations: 1,
                scalingFactor: .one,
                maxDuration: .seconds(3),
                maxIterations: 100
            )
        ) { benchmark in
            let encoder = PNGEncoder(filterStrategy: variant.strategy)
            let clock = ContinuousClock()
            for _ in benchmark.scaledIterations {
                let start = clock.now
                let png = try encoder.encode(pixels, width: width, height: height, colorType: .grayscale)
                let elapsed = seconds(start.duration(to: clock.now))
                benchmark.measurement(rawRate, Int((Double(pixels.count) / elapsed / 1e6).rounded()))
                benchmark.measurement(outputBytes, png.count)
                blackHole(png)
            }
        }
    }
}

private func conversionBenchmarks() {
    let side = 512
    let values = weightLikeValues(width: side, height: side)
    var withNaN = values
    withNaN[side * side / 2 + 7] = .nan
    let inputRate = BenchmarkMetric.custom("float input MB/s", polarity: .prefersLarger, useScalingFactor: false)
    let variants: [(suffix: String, values: [Float])] = [("", values), (" reference path", withNaN)]
    for variant in variants {
        Benchmark(
            "Image float→uint8 512x512\(variant.suffix)",
            configuration: .init(
                metrics: [.wallClock, .throughput, .mallocCountTotal, inputRate],
                warmupIterations: 10,
                scalingFactor: .one,
                maxDuration: .seconds(2),
                maxIterations: 10_000
            )
        ) { benchmark in
            let clock = ContinuousClock()
            for _ in benchmark.scaledIterations {
                let start = clock.now
                let images = try ImageSummary.images(tag: "w", shape: [1, side, side, 1], values: variant.values)
                let elapsed = seconds(start.duration(to: clock.now))
                benchmark.measurement(inputRate, Int(Double(side * side * MemoryLayout<Float>.size) / elapsed / 1e6))
                blackHole(images)
            }
        }
    }
}
