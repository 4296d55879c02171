// Measures histogram throughput through RingboardSummaries, for Scripts/bench-histogram.sh.
//
// Usage: HistogramSideBySide [seconds per measurement] [--values PATH]
//   (default 0.5 s). With --values, the 1 Mi Float32 inputs are also written to PATH (little-endian),
//   so that the script can run NumPy on exactly the same data.
//
// Prints one line per measurement, for example
//     histogram kind=tf-buckets path=avx512 values=1048576 calls=812 seconds=0.501 values_per_second=1700000000
// Kinds: `tf-buckets` (Histogram.tensorFlow, TensorFlow's default buckets, on each vector path this
// CPU runs), `tf-buckets-f64` (the same values as Float64, on each path), `tf-reference` (the scalar reference: a binary search per value, exact sums),
// `tf-reductions` (sum, sum of squares, min and max only), `tensorboard-30` (Histogram.tensorBoard,
// 30 equal-width buckets, what numpy.histogram(values, bins=30) also computes) and `memcpy` (copying
// the 4 MiB of values, for the memory bandwidth they are read at).

@_spi(Benchmarks) import RingboardSummaries

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

var arguments = Array(CommandLine.arguments.dropFirst())
var valuesPath: String?
if let index = arguments.firstIndex(of: "--values"), index + 1 < arguments.count {
    valuesPath = arguments[index + 1]
    arguments.removeSubrange(index...index + 1)
}
let secondsPerMeasurement = arguments.first.flatMap(Double.init) ?? 0.5
let count = 1 << 20

/// 0.05 × standard normal values (Box-Muller over SplitMix64, seed 42): weights of a dense layer,
/// the same values the ordo benchmarks use.
func weights(count: Int) -> [Float] {
    var state: UInt64 = 42
    func next() -> Double {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Double((z ^ (z >> 31)) >> 11) * 0x1p-53
    }
    return (0..<count).map { _ in
        let u = Swift.max(next(), Double.ulpOfOne), v = next()
        return Float(0.05 * (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v))
    }
}

let values = weights(count: count)
if let valuesPath {
    let file = fopen(valuesPath, "wb")!
    values.withUnsafeBytes { _ = fwrite($0.baseAddress!, 1, $0.count, file) }
    fclose(file)
}

let clock = ContinuousClock()
var sink = 0.0

/// Calls `body` back to back for at least `secondsPerMeasurement` (after one warm-up call) and
/// prints the rate.
@MainActor func measure(_ kind: String, path: String, _ body: () -> Double) {
    sink += body()
    var calls = 0
    let start = clock.now
    var elapsed = Duration.zero
    repeat {
        sink += body()
        calls += 1
        elapsed = start.duration(to: clock.now)
    } while elapsed < .nanoseconds(Int64(secondsPerMeasurement * 1e9))
    let components = elapsed.components
    let seconds = Double(components.seconds) + Double(components.attoseconds) * 1e-18
    let rate = Double(count) * Double(calls) / seconds
    print("histogram kind=\(kind) path=\(path) values=\(count) calls=\(calls)",
          "seconds=\(Int(seconds * 1000))e-3 values_per_second=\(Int(rate))")
}

for path in Histogram.VectorPath.available.reversed() {
    measure("tf-buckets", path: "\(path)") { try! Histogram.tensorFlow(values.span, tag: "w", path: path).sum }
}
let doubles = values.map { Double($0) }
for path in Histogram.VectorPath.available.reversed() {
    measure("tf-buckets-f64", path: "\(path)") { try! Histogram.tensorFlow(doubles.span, tag: "w", path: path).sum }
}
for path in Histogram.VectorPath.available.reversed() {
    measure("tf-reductions", path: "\(path)") { Histogram.tensorFlowTotals(values.span, path: path)!.sum }
}
measure("tf-reference", path: "scalar") { try! Histogram.tensorFlowReference(values.span, tag: "w").sum }
measure("tensorboard-30", path: "scalar") {
    if case .tensor(let tensor) = try! Histogram.tensorBoard(values.span, tag: "w").kind { return Double(tensor.tensorContent[0]) }
    return 0
}
var copy = [Float](repeating: 0, count: count)
measure("memcpy", path: "libc") {
    copy.withUnsafeMutableBytes { target in values.withUnsafeBytes { source in _ = memcpy(target.baseAddress!, source.baseAddress!, source.count) } }
    return Double(copy[Int(sink) & (count - 1)])
}

// Keeps the results observable so the calls can't be optimised away.
if sink == 0x5EED { print("histogram sink=\(sink)") }
