// swift-tools-version: 6.2
import PackageDescription

// libFuzzer targets for what Ringboard reads from others: hook records, ring files (as the consumer
// and as `ringboard status` read them), event files and replay traces, the aggregator driven by a
// stream of records, and the aggregator's checkpoint read back on start. A package of its own, so the root package never builds with the fuzzer;
// Scripts/fuzz.sh builds it with `-sanitize=fuzzer,address` and runs each target with its seeds
// (Tests/Fuzz/Corpus/<target>, made by `<target> --write-seeds DIRECTORY`).
let package = Package(
    name: "fuzz",
    dependencies: [
        .package(name: "ringboard", path: "../../"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        .target(name: "CFuzzDriver"),
        .target(name: "FuzzSupport", dependencies: ["CFuzzDriver"]),
        .executableTarget(
            name: "FuzzHookRecord",
            dependencies: ["FuzzSupport", .product(name: "RingboardRecords", package: "ringboard")]
        ),
        .executableTarget(
            name: "FuzzRingFile",
            dependencies: [
                "FuzzSupport",
                .product(name: "RingboardRing", package: "ringboard"),
                .product(name: "RingboardRecords", package: "ringboard"),
            ]
        ),
        .executableTarget(
            name: "FuzzEventFile",
            dependencies: ["FuzzSupport", .product(name: "RingboardFormat", package: "ringboard")]
        ),
        .executableTarget(
            name: "FuzzAggregator",
            dependencies: [
                "FuzzSupport",
                .product(name: "RingboardAggregator", package: "ringboard"),
                .product(name: "RingboardRecords", package: "ringboard"),
                .product(name: "RingboardRing", package: "ringboard"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "FuzzRingStatus",
            dependencies: ["FuzzSupport", .product(name: "RingboardRing", package: "ringboard")]
        ),
        .executableTarget(
            name: "FuzzAggregatorState",
            dependencies: [
                "FuzzSupport",
                .product(name: "RingboardAggregator", package: "ringboard"),
                .product(name: "RingboardFormat", package: "ringboard"),
                .product(name: "RingboardRecords", package: "ringboard"),
                .product(name: "RingboardRing", package: "ringboard"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "FuzzReplayTrace",
            dependencies: ["FuzzSupport", .product(name: "Ringboard", package: "ringboard")]
        ),
    ]
)
