import Benchmark

let benchmarks: @Sendable () -> Void = {
    histogramBenchmarks()
    imageBenchmarks()
}
