// swift-tools-version: 6.2
import PackageDescription

// Benchmarks live in their own package so that the root package never builds the benchmark tooling.
// Run them with `cd Benchmarks && swift package benchmark`.
let package = Package(
    name: "benchmarks",
    dependencies: [
        .package(name: "ringboard", path: "../"),  // the name `.product(package:)` uses below
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "FormatBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "RingboardFormat", package: "ringboard"),
            ],
            path: "Benchmarks/FormatBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "SummariesBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "RingboardSummaries", package: "ringboard"),
                .product(name: "RingboardFormat", package: "ringboard"),
            ],
            path: "Benchmarks/SummariesBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "RingBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "RingboardRing", package: "ringboard"),
                .product(name: "RingboardRecords", package: "ringboard"),
            ],
            path: "Benchmarks/RingBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // A plain executable that prints CRC32C throughput in a line format `Scripts/bench-crc32c.sh`
        // parses to compare against the Python `google-crc32c` package. It sits under Tools/ because
        // the benchmark plugin runs every executable target under Benchmarks/ as a benchmark suite.
        .executableTarget(
            name: "CRC32CSideBySide",
            dependencies: [
                .product(name: "RingboardFormat", package: "ringboard"),
            ],
            path: "Tools/CRC32CSideBySide"
        ),
        // Prints PNG encoding throughput and sizes for `Scripts/bench-png.sh`, which compares them
        // with Python writers over zlib on the same pixels; under Tools/ for the same reason.
        .executableTarget(
            name: "PNGSideBySide",
            dependencies: [
                .product(name: "RingboardSummaries", package: "ringboard"),
            ],
            path: "Tools/PNGSideBySide"
        ),
        // Prints histogram throughput lines for `Scripts/bench-histogram.sh`, which sets them beside
        // numpy.histogram on the same values. Under Tools/ for the same reason as CRC32CSideBySide.
        .executableTarget(
            name: "HistogramSideBySide",
            dependencies: [
                .product(name: "RingboardSummaries", package: "ringboard"),
            ],
            path: "Tools/HistogramSideBySide"
        ),
        // Runs one workload of `Scripts/bench-peers.sh` through the TensorBoard callback and a real
        // `ringboard aggregate` process, and prints result lines the script sets beside Python's
        // writers (Tools/Peers/peers.py). Under Tools/ for the same reason as CRC32CSideBySide.
        .executableTarget(
            name: "PeersSideBySide",
            dependencies: [
                .product(name: "Ringboard", package: "ringboard"),
                .product(name: "RingboardFormat", package: "ringboard"),
                .product(name: "RingboardRing", package: "ringboard"),
                .product(name: "RingboardRecords", package: "ringboard"),
            ],
            path: "Tools/PeersSideBySide"
        ),
    ]
)
