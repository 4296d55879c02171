// swift-tools-version: 6.2
import PackageDescription

// Layers, dependencies pointing down (DESIGN §7):
//   CRingboard (C: CRC32C, futex, writeback, fork count, thread id, ThreadSanitizer annotations), swift-system
//     → RingboardSystem (internal, not a product: syscall wrappers and SystemCallError, directory
//     listing, confined directory creation, atomic file replace, Duration conversions,
//     `Mutex.locked`; `package` declarations only, so none of it reaches a library's public API)
//   CRingboard, RingboardSystem → RingboardFormat (protobuf wire, TFRecord, event files)
//   CRingboard, CLZ4, RingboardSystem → RingboardRing (mmap rings, spill segments, the consumer)
//   RingboardRecords (hook records; no dependencies)
//   CRingboardSIMD (C: vector kernels), CZlib, RingboardSystem → RingboardSummaries (histograms, images, traces, projector)
//   RingboardRecords, RingboardRing, RingboardFormat, RingboardSystem → Ringboard (the trainer API: the
//     TensorBoard callback and SummaryWriter, which checks a graph's bytes with RingboardFormat)
//   System, Records, Ring, Format, Summaries, Logging → RingboardAggregator (the run state machines)
//   → RingboardCLI (the `ringboard` command; it also uses RingboardSystem)
//   CRingboardABI (C: ringboard.h, the per-thread error), Ringboard → RingboardC (the C interface,
//     the dynamic library libringboard.so that the Python package loads)
//
// The aggregator is a pipeline of four stages, data flowing one way (Sources/RingboardAggregator/):
//   1-Read       RecordDecoder: ring records → typed hooks (batch hooks into one reused BatchRecord)
//   2-Contract   RunTable routes each ring's runs under the rank policies to RunMachines (the TF 2.0
//                callback's state machine; MeanMerger merges `.mean` ranks) → SummaryRequests
//   3-Summarize  SummaryMaker makes the events; histograms and images on a SummaryPool
//   4-Write      RunFiles: a run's EventFileWriters frame, checksum and write (on their own threads)
//   Checkpoint   CheckpointStore saves stage 2's state with the rings' positions after every flush
// CZlib and CLZ4 are system libraries (zlib1g-dev, liblz4-dev).
let package = Package(
    name: "ringboard",
    products: [
        .executable(name: "ringboard", targets: ["RingboardCLI"]),
        .library(name: "RingboardFormat", targets: ["RingboardFormat"]),
        .library(name: "RingboardSummaries", targets: ["RingboardSummaries"]),
        .library(name: "RingboardRing", targets: ["RingboardRing"]),
        .library(name: "RingboardRecords", targets: ["RingboardRecords"]),
        .library(name: "Ringboard", targets: ["Ringboard"]),
        .library(name: "RingboardAggregator", targets: ["RingboardAggregator"]),
        // libRingboardC.so: the C interface (ringboard.h), shipped as libringboard.so (Scripts/build-native.sh).
        .library(name: "RingboardC", type: .dynamic, targets: ["RingboardC"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/apple/swift-atomics", from: "1.3.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        .target(
            name: "CRingboard",
            cSettings: [.define("_GNU_SOURCE")]
        ),
        .target(
            name: "CRingboardSIMD",
            cSettings: [.define("_GNU_SOURCE")]
        ),
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        .systemLibrary(
            name: "CLZ4",
            pkgConfig: "liblz4",
            providers: [.apt(["liblz4-dev"])]
        ),
        .target(
            name: "RingboardSystem",
            dependencies: [
                "CRingboard",
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        .target(
            name: "RingboardFormat",
            dependencies: [
                "CRingboard", "RingboardSystem",
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        .target(
            name: "RingboardRing",
            dependencies: [
                "CRingboard", "CLZ4", "RingboardSystem",
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        .target(
            name: "RingboardRecords"
        ),
        .target(
            name: "Ringboard",
            dependencies: ["RingboardRecords", "RingboardRing", "RingboardFormat", "RingboardSystem"]
        ),
        .target(
            name: "RingboardSummaries",
            dependencies: [
                "RingboardFormat", "RingboardSystem", "CRingboardSIMD", "CZlib",
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        .target(
            name: "RingboardAggregator",
            dependencies: [
                "CRingboard", "RingboardSystem", "RingboardRecords", "RingboardRing", "RingboardFormat", "RingboardSummaries",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        .target(
            name: "CRingboardABI"
        ),
        .target(
            name: "RingboardC",
            dependencies: ["CRingboardABI", "Ringboard", "RingboardRecords", "RingboardRing"]
        ),
        .executableTarget(
            name: "RingboardCLI",
            dependencies: [
                "RingboardFormat",
                "RingboardRing",
                "Ringboard",
                "RingboardAggregator",
                "RingboardRecords",
                "RingboardSystem",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        .target(
            name: "RingboardTestSupport",
            path: "Tests/RingboardTestSupport"
        ),
        .testTarget(
            name: "RingboardSystemTests",
            dependencies: ["RingboardSystem", "RingboardTestSupport"]
        ),
        .testTarget(
            name: "RingboardFormatTests",
            dependencies: ["RingboardFormat", "RingboardTestSupport", "CRingboard"],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "RingboardRingTests",
            dependencies: ["RingboardRing", "RingboardTestSupport"]
        ),
        .testTarget(
            name: "RingboardTests",
            dependencies: ["Ringboard", "RingboardRecords", "RingboardRing", "RingboardTestSupport"]
        ),
        .testTarget(
            name: "RingboardRecordsTests",
            dependencies: ["RingboardRecords", "RingboardRing", "RingboardTestSupport"]
        ),
        .testTarget(
            name: "RingboardSummariesTests",
            dependencies: ["RingboardSummaries", "RingboardFormat", "RingboardTestSupport"],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "RingboardAggregatorTests",
            dependencies: ["RingboardAggregator", "RingboardRecords", "RingboardFormat", "RingboardRing", "RingboardSummaries", "RingboardTestSupport",
                           .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "RingboardCLITests",
            dependencies: ["RingboardCLI", "Ringboard", "RingboardFormat", "RingboardRing", "RingboardRecords", "RingboardTestSupport"]
        ),
        .testTarget(
            name: "SystemLibraryTests",
            dependencies: ["CZlib", "CLZ4"]
        ),
    ]
)
