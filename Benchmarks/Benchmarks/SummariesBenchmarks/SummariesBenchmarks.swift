import Benchmark

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration.thresholds = regressionTolerances()
    histogramBenchmarks()
    imageBenchmarks()
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
