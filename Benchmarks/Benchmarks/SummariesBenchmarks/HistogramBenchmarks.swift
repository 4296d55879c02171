import Benchmark

/// Histogram benchmarks (TF-bucket histograms, reductions, memcpy reference).
func histogramBenchmarks() {}
