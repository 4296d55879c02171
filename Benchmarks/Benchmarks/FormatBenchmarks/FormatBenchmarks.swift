import Benchmark
import RingboardFormat

let benchmarks: @Sendable () -> Void = {
    crc32cBenchmarks()
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
