import RingboardFormat
import Testing
@testable @_spi(Benchmarks) import RingboardSummaries

/// `sum` and `sum_squares` are the exact sums of the values as doubles, correctly rounded, on every
/// vector path, in chunked calls, in the totals-only pass and in the scalar reference.
///
/// The expected sums of the named inputs were computed with Python's `math.fsum` over the same
/// values (float32 values through `numpy.float32`, squares as `x * x` in double).
@Suite struct HistogramSumTests {
    /// 1000 values around ±1e16 with `FLT_MAX` and `-FLT_MAX` next to each other near the start:
    /// the extremes cancel, and every other value must still count.
    static let cancellingExtremes: [Float] = {
        var values: [Float] = []
        for k in 0..<1000 {
            let sign: Double = k % 2 == 0 ? 1 : -0.5
            values.append(Float(sign * 1e16 * (1 + Double(k) / 997)))
        }
        values[1] = .greatestFiniteMagnitude
        values[2] = -.greatestFiniteMagnitude
        return values
    }()

    /// 1e20, 1, -1e20, 1, … for 2^20 values: the sum is the 2^19 ones.
    static func alternating<Value: BinaryFloatingPoint>(_: Value.Type) -> [Value] {
        let pattern: [Value] = [1e20, 1, -1e20, 1]
        return (0..<(1 << 20)).map { pattern[$0 % 4] }
    }

    /// A million values between 1 and 2 with 1e20 among them.
    static func oneHugeAmongSmall<Value: BinaryFloatingPoint>(_: Value.Type) -> [Value] {
        var values = (0..<1_000_000).map { Value(1 + Double($0 % 1000) / 1024) }
        values[123_457] = 1e20
        return values
    }

    /// Chunk lengths the chunked calls are tried with.
    static let chunkLengths = [1000, 4099]

    @Test func cancellingExtremesKeepMidSizeValues() throws {
        let floats = Self.cancellingExtremes
        // The sequential double sum (histogram.cc's) gives 3.733731193980453e18: it drops values[0].
        try expectExactSums(floats, sum: 0x1.9fa33d7dp+61, sumSquares: 0x1.fffffc000002p+256, "±FLT_MAX with ±1e16 (float)")
        try expectExactSums(floats.map(Double.init), sum: 0x1.9fa33d7dp+61, sumSquares: 0x1.fffffc000002p+256,
                            "±FLT_MAX with ±1e16 (double)")
    }

    @Test func alternatingCancellationOfAMillionValues() throws {
        try expectExactSums(Self.alternating(Float.self), sum: 524_288, sumSquares: 0x1.d632a058664p+151,
                            "1e20, 1, -1e20, 1, … (float)")
        try expectExactSums(Self.alternating(Double.self), sum: 524_288, sumSquares: 0x1.d6329f1c35ca5p+151,
                            "1e20, 1, -1e20, 1, … (double)")
    }

    @Test func oneHugeValueAmongAMillionSmallOnes() throws {
        try expectExactSums(Self.oneHugeAmongSmall(Float.self), sum: 0x1.5af1d8000005bp+66, sumSquares: 0x1.d632a058664p+132,
                            "1e20 among a million values in [1, 2) (float)")
        try expectExactSums(Self.oneHugeAmongSmall(Double.self), sum: 0x1.5af1d78b58c9bp+66, sumSquares: 1e40,
                            "1e20 among a million values in [1, 2) (double)")
    }

    /// The same input through every path, chunked or not, gives the reference's sums bit for bit:
    /// random inputs of every length up to 100 and of lengths around the block and vector sizes.
    @Test func everyPathGivesTheSameSums() throws {
        let lengths = Array(0...100) + [127, 511, 512, 513, 1000, 1023, 4099, 65_537]
        for (index, count) in lengths.enumerated() {
            let seed = UInt64(index)
            let floatInputs: [(String, [Float])] = [
                ("gaussian", HistogramInputs.gaussian(count: count, mean: 0.01, scale: 0.05, seed: seed).map { Float($0) }),
                ("log-uniform", HistogramInputs.logUniform(count: count, seed: seed).map { Float($0) }),
                ("float bits", HistogramInputs.floatBits(count: count, seed: seed)),
                ("adversarial", HistogramInputs.sample(HistogramInputs.adversarialFloats, count: count, seed: seed)),
            ]
            for (name, values) in floatInputs {
                try expectSameSumsOnEveryPath(values, "\(name) floats, \(count) values")
            }
            let doubleInputs: [(String, [Double])] = [
                ("gaussian", HistogramInputs.gaussian(count: count, mean: -3, scale: 1, seed: seed)),
                ("log-uniform", HistogramInputs.logUniform(count: count, seed: seed)),
                ("double bits", HistogramInputs.doubleBits(count: count, seed: seed)),
                ("adversarial", HistogramInputs.sample(HistogramInputs.adversarialDoubles, count: count, seed: seed)),
            ]
            for (name, values) in doubleInputs {
                try expectSameSumsOnEveryPath(values, "\(name) doubles, \(count) values")
            }
        }
        try expectSameSumsOnEveryPath(Self.cancellingExtremes, "±FLT_MAX with ±1e16")
        try expectSameSumsOnEveryPath(Self.alternating(Float.self), "alternating floats")
        try expectSameSumsOnEveryPath(Self.alternating(Double.self), "alternating doubles")
    }

    /// Doubles whose sums leave the double range: the sum of squares of values above 1.3e154 is
    /// `+inf` (each square is), and a sum is `±inf` only when the exact sum rounds beyond `DBL_MAX`,
    /// however its partial sums go.
    @Test func doubleSumsNearTheTopOfTheRange() throws {
        let max = Double.greatestFiniteMagnitude
        for path in Histogram.VectorPath.available {
            for count in [1, 2, 6, 7, 8, 9, 40, 1001] {
                // max, max, -max, -max, …: the partial sums overflow, the exact sum is 0 or max.
                let values = (0..<count).map { $0 % 4 < 2 ? max : -max }
                let histogram = try Histogram.tensorFlow(values.span, tag: "t", path: path)
                let expected = [0, max, 2 * max, max][count % 4]
                #expect(histogram.sum == expected, "\(count) values on \(path)")
                #expect(histogram.sumSquares == .infinity, "\(count) values on \(path)")
            }
            let overflowing = try Histogram.tensorFlow([max, max.ulp / 2, 1].span, tag: "t", path: path)
            #expect(overflowing.sum == .infinity && overflowing.sumSquares == .infinity, "on \(path)")
            let negative = try Histogram.tensorFlow([Double](repeating: -max, count: 100).span, tag: "t", path: path)
            #expect(negative.sum == -.infinity, "on \(path)")
            let justBelow = try Histogram.tensorFlow([max, max.ulp / 2, -1].span, tag: "t", path: path)
            #expect(justBelow.sum == max, "on \(path)")
        }
    }
}

/// Expects the reference and every path, whole and in chunks, to give exactly `sum` and `sumSquares`.
func expectExactSums(
    _ values: [Float], sum: Double, sumSquares: Double, _ context: String,
    sourceLocation: SourceLocation = #_sourceLocation
) throws {
    var results = [("reference", try Histogram.tensorFlowReference(values.span, tag: "t"))]
    for path in Histogram.VectorPath.available {
        results.append(("\(path)", try Histogram.tensorFlow(values.span, tag: "t", path: path)))
    }
    for (name, histogram) in results {
        #expect(histogram.sum.bitPattern == sum.bitPattern, "sum \(histogram.sum) != \(sum): \(context), \(name)",
                sourceLocation: sourceLocation)
        #expect(histogram.sumSquares.bitPattern == sumSquares.bitPattern,
                "sum_squares \(histogram.sumSquares) != \(sumSquares): \(context), \(name)", sourceLocation: sourceLocation)
    }
}

/// `expectExactSums` for doubles.
func expectExactSums(
    _ values: [Double], sum: Double, sumSquares: Double, _ context: String,
    sourceLocation: SourceLocation = #_sourceLocation
) throws {
    var results = [("reference", try Histogram.tensorFlowReference(values.span, tag: "t"))]
    for path in Histogram.VectorPath.available {
        results.append(("\(path)", try Histogram.tensorFlow(values.span, tag: "t", path: path)))
    }
    for (name, histogram) in results {
        #expect(histogram.sum.bitPattern == sum.bitPattern, "sum \(histogram.sum) != \(sum): \(context), \(name)",
                sourceLocation: sourceLocation)
        #expect(histogram.sumSquares.bitPattern == sumSquares.bitPattern,
                "sum_squares \(histogram.sumSquares) != \(sumSquares): \(context), \(name)", sourceLocation: sourceLocation)
    }
}

/// Expects every path, whole and in chunks, and the totals-only pass to give the reference's sums
/// bit for bit.
func expectSameSumsOnEveryPath(
    _ values: [Float], _ context: String, sourceLocation: SourceLocation = #_sourceLocation
) throws {
    let expected = try Histogram.tensorFlowReference(values.span, tag: "t")
    try expectSameSums(as: expected, count: values.count, context, sourceLocation: sourceLocation) { path, chunkLength in
        try Histogram.tensorFlow(values.span, tag: "t", path: path, chunkLength: chunkLength)
    }
    for path in Histogram.VectorPath.available {
        let computed = Histogram.tensorFlowTotals(values.span, path: path)
        let totals = try #require(computed, sourceLocation: sourceLocation)
        #expect(totals.sum.bitPattern == expected.sum.bitPattern && totals.sumSquares.bitPattern == expected.sumSquares.bitPattern,
                "totals: \(context) on \(path)", sourceLocation: sourceLocation)
    }
}

/// `expectSameSumsOnEveryPath` for doubles (there is no totals-only pass for doubles).
func expectSameSumsOnEveryPath(
    _ values: [Double], _ context: String, sourceLocation: SourceLocation = #_sourceLocation
) throws {
    let expected = try Histogram.tensorFlowReference(values.span, tag: "t")
    try expectSameSums(as: expected, count: values.count, context, sourceLocation: sourceLocation) { path, chunkLength in
        try Histogram.tensorFlow(values.span, tag: "t", path: path, chunkLength: chunkLength)
    }
}

/// Expects `histogram(path, chunkLength)` of `count` values to give `expected`'s sums bit for bit
/// on every path, whole and in chunks.
private func expectSameSums(
    as expected: HistogramProto, count: Int, _ context: String, sourceLocation: SourceLocation,
    _ histogram: (Histogram.VectorPath, Int) throws -> HistogramProto
) throws {
    for path in Histogram.VectorPath.available {
        var results = [("whole", try histogram(path, Histogram.defaultChunkLength))]
        for chunkLength in HistogramSumTests.chunkLengths where chunkLength < count {
            results.append(("chunks of \(chunkLength)", try histogram(path, chunkLength)))
        }
        for (name, result) in results {
            #expect(result.sum.bitPattern == expected.sum.bitPattern,
                    "sum \(result.sum) != \(expected.sum): \(context) on \(path), \(name)", sourceLocation: sourceLocation)
            #expect(result.sumSquares.bitPattern == expected.sumSquares.bitPattern,
                    "sum_squares \(result.sumSquares) != \(expected.sumSquares): \(context) on \(path), \(name)",
                    sourceLocation: sourceLocation)
        }
    }
}
