// swift-tools-version: 6.2
import PackageDescription

// libFuzzer targets for what Ringboard reads from others: hook records, ring files, event files
// and replay traces. A package of its own, so the root package never builds with the fuzzer;
// Scripts/fuzz.sh builds it with `-sanitize=fuzzer,address` and runs each target with its seeds
// (Tests/Fuzz/Corpus/<target>, made by `<target> --write-seeds DIRECTORY`).
let package = Package(
    name: "fuzz",
    dependencies: [
        .package(name: "ringboard", path: "../../"),
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
            name: "FuzzReplayTrace",
            dependencies: ["FuzzSupport", .product(name: "Ringboard", package: "ringboard")]
        ),
    ]
)
