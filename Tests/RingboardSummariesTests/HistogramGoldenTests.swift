import Foundation
import RingboardFormat
import RingboardTestSupport
import Testing
@testable @_spi(Benchmarks) import RingboardSummaries

/// One case of `Fixtures/tf_histograms.json`: what TensorFlow 2.21 (CPU) computed with
/// `tf.compat.v1.summary.histogram` (histogram.cc) for the given values.
struct GoldenHistogram: Sendable, CustomTestStringConvertible {
    var name: String
    /// `float32` or `float64`.
    var dtype: String
    var values: [Double]
    var expected: HistogramProto

    var testDescription: String { "\(name) (\(dtype), \(values.count) values)" }

    /// The values as TensorFlow saw them.
    var floats: [Float] { values.map { Float($0) } }

    func reference() throws(SummaryError) -> HistogramProto {
        if dtype == "float32" {
            let floats = floats
            return try Histogram.tensorFlowReference(floats.span, tag: name)
        }
        return try Histogram.tensorFlowReference(values.span, tag: name)
    }

    func histogram(path: Histogram.VectorPath) throws(SummaryError) -> HistogramProto {
        if dtype == "float32" {
            let floats = floats
            return try Histogram.tensorFlow(floats.span, tag: name, path: path)
        }
        return try Histogram.tensorFlow(values.span, tag: name, path: path)
    }

    /// The fixture's cases. Read with `JSONDecoder`, which parses numbers exactly; `JSONSerialization`
    /// turns long ones into `NSDecimalNumber`, whose `doubleValue` can be an ulp off.
    static let all: [GoldenHistogram] = {
        struct Fixture: Decodable {
            var cases: [Case]
        }
        struct Case: Decodable {
            var name: String
            var dtype: String
            var values: [Double]
            var min, max, num, sum, sum_squares: Double
            var bucket_limit, bucket: [Double]
        }
        let path = packageRoot + "/Tests/RingboardSummariesTests/Fixtures/tf_histograms.json"
        let fixture = try! JSONDecoder().decode(Fixture.self, from: FileManager.default.contents(atPath: path)!)
        return fixture.cases.map { entry in
            GoldenHistogram(
                name: entry.name, dtype: entry.dtype, values: entry.values,
                expected: HistogramProto(
                    min: entry.min, max: entry.max, num: entry.num, sum: entry.sum, sumSquares: entry.sum_squares,
                    bucketLimit: entry.bucket_limit, bucket: entry.bucket))
        }
    }()
}

/// How closely two sums must agree.
enum SumAgreement {
    /// Bit for bit.
    case exact
    /// Within 1e-12 relative: TensorFlow's sequential double sums against exact ones.
    case relative

    func holds(sum actual: Double, _ expected: Double) -> Bool { holds(actual, expected) }

    func holds(sumOfSquares actual: Double, _ expected: Double) -> Bool { holds(actual, expected) }

    private func holds(_ actual: Double, _ expected: Double) -> Bool {
        switch self {
        case .exact: actual.bitPattern == expected.bitPattern
        case .relative: abs(actual - expected) <= 1e-12 * abs(expected)
        }
    }
}

/// Expects two histograms to agree: min, max (with the sign of zero), num and every bucket bit for
/// bit, sums as `sums` says.
func expectSameHistogram(
    _ actual: HistogramProto, _ expected: HistogramProto, sums: SumAgreement, _ context: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(actual.min.bitPattern == expected.min.bitPattern, "min \(actual.min) != \(expected.min): \(context)",
            sourceLocation: sourceLocation)
    #expect(actual.max.bitPattern == expected.max.bitPattern, "max \(actual.max) != \(expected.max): \(context)",
            sourceLocation: sourceLocation)
    #expect(actual.num == expected.num, "num: \(context)", sourceLocation: sourceLocation)
    #expect(actual.bucketLimit.map(\.bitPattern) == expected.bucketLimit.map(\.bitPattern),
            "bucket_limit: \(context)", sourceLocation: sourceLocation)
    #expect(actual.bucket == expected.bucket, "bucket: \(context)", sourceLocation: sourceLocation)
    #expect(sums.holds(sum: actual.sum, expected.sum), "sum \(actual.sum) vs \(expected.sum): \(context)",
            sourceLocation: sourceLocation)
    #expect(sums.holds(sumOfSquares: actual.sumSquares, expected.sumSquares),
            "sum_squares \(actual.sumSquares) vs \(expected.sumSquares): \(context)", sourceLocation: sourceLocation)
}

@Suite struct HistogramGoldenTests {
    @Test func fixtureIsComplete() {
        let names = Set(GoldenHistogram.all.map(\.name))
        for name in ["empty", "all_zero", "all_equal", "signed_zeros_subnormals", "subnormals_f64", "float_extremes",
                     "on_limits_f32", "around_limits_f32", "on_limits_f64", "around_limits_f64"] {
            #expect(names.contains(name), "missing golden case \(name)")
        }
        for golden in GoldenHistogram.all where golden.dtype == "float32" {
            #expect(golden.values.allSatisfy { Double(Float($0)) == $0 }, "\(golden.name): not float32 values")
        }
    }

    /// The reference implementation gives TensorFlow's min, max, num and buckets to the last bit.
    /// Its sums are exact, and TensorFlow's sequential double sums are within 1e-12 of them.
    @Test(arguments: GoldenHistogram.all)
    func referenceMatchesTensorFlow(_ golden: GoldenHistogram) throws {
        let histogram = try golden.reference()
        expectSameHistogram(histogram, golden.expected, sums: .relative, golden.name)
    }

    /// Every vector path gives TensorFlow's min, max, num and buckets exactly, its sums to 1e-12,
    /// and the reference's exact sums bit for bit.
    @Test(arguments: GoldenHistogram.all)
    func everyPathMatchesTensorFlow(_ golden: GoldenHistogram) throws {
        let reference = try golden.reference()
        for path in Histogram.VectorPath.available {
            let histogram = try golden.histogram(path: path)
            expectSameHistogram(histogram, golden.expected, sums: .relative, "\(golden.name) on \(path)")
            expectSameHistogram(histogram, reference, sums: .exact, "\(golden.name) on \(path), against the reference")
        }
    }

    /// The public entry points (the best path) agree too.
    @Test(arguments: GoldenHistogram.all)
    func publicFunctionsMatchTensorFlow(_ golden: GoldenHistogram) throws {
        let histogram = golden.dtype == "float32"
            ? try Histogram.tensorFlow(golden.values.map { Float($0) }, tag: golden.name)
            : try Histogram.tensorFlow(golden.values, tag: golden.name)
        expectSameHistogram(histogram, golden.expected, sums: .relative, golden.name)
    }

    /// Our limits are TensorFlow's: every limit the golden data names is one of ours, bit for bit.
    @Test func limitsAreTensorFlows() {
        let limits = Histogram.TensorFlowBuckets.shared.limits
        #expect(limits.count == 1551)
        #expect(limits[775] == 0)
        #expect(limits.first == -Double.greatestFiniteMagnitude && limits.last == Double.greatestFiniteMagnitude)
        #expect(limits[776] == 1e-12)
        #expect(zip(limits, limits.dropFirst()).allSatisfy { $0 < $1 })
        let ours = Set(limits.map(\.bitPattern))
        for golden in GoldenHistogram.all {
            for limit in golden.expected.bucketLimit {
                #expect(ours.contains(limit.bitPattern), "\(golden.name): \(limit) is not a default limit")
            }
        }
    }
}
