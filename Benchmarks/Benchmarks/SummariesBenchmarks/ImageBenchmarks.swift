import Benchmark

/// Image benchmarks (float → uint8, PNG encoding).
func imageBenchmarks() {}
