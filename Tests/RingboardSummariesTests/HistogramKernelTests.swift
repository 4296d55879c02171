import Foundation
import RingboardFormat
import RingboardTestSupport
import Testing
@testable @_spi(Benchmarks) import RingboardSummaries

/// Inputs that probe the bucket lookup, the flush-to-zero handling and the tails of the vector loops.
enum HistogramInputs {
    static var limits: [Double] { Histogram.TensorFlowBuckets.shared.limits }

    /// Every finite nonzero limit as the nearest float and one float ulp either side, both signs;
    /// zeros, subnormals, the extremes, and values beyond the first and last limits.
    static let adversarialFloats: [Float] = {
        var values: [Float] = []
        for limit in limits where limit.isFinite && limit != 0 && abs(limit) < 1e30 {
            let nearest = Float(limit)
            values += [nearest, nearest.nextUp, nearest.nextDown]
        }
        let specials: [Float] = [
            0, -0.0, .leastNonzeroMagnitude, .leastNormalMagnitude, Float.leastNormalMagnitude.nextDown,
            Float(bitPattern: 0x0040_0000), .greatestFiniteMagnitude, Float.greatestFiniteMagnitude.nextDown,
            1e-13, 1e-20, 1e-38, 9.99e-13, 1e20, 1.0001e20, 1e21, 1e30, 1, 0.75, 2,
        ]
        return values + specials + specials.map { -$0 }
    }()

    /// Every finite nonzero limit and one double ulp either side, both signs (the negative limits are
    /// among the limits already); zeros, subnormals, the extremes, values beyond the limits, and
    /// doubles at float boundaries.
    static let adversarialDoubles: [Double] = {
        var values: [Double] = []
        for limit in limits where limit != 0 {
            values += [limit, limit.nextUp, limit.nextDown].filter(\.isFinite)
        }
        let specials: [Double] = [
            0, .leastNonzeroMagnitude, .leastNormalMagnitude, Double.leastNormalMagnitude.nextDown,
            Double(bitPattern: 0x0008_0000_0000_0000), .greatestFiniteMagnitude, 0x1p-1030, 1e-300, 1e-200, 1e-13,
            9.999999999999999e-13, 1e20, 1e21, 1e100, 1e300, Double(Float.greatestFiniteMagnitude),
            Double(Float.leastNonzeroMagnitude), Double(Float.leastNormalMagnitude), 1, 0.75,
        ]
        return values + specials + specials.map { -$0 }
    }()

    /// `count` values drawn from `pool` in a seeded order.
    static func sample<Value>(_ pool: [Value], count: Int, seed: UInt64) -> [Value] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in pool[Int.random(in: 0..<pool.count, using: &generator)] }
    }

    /// Normally distributed values (Box-Muller) with the given mean and scale.
    static func gaussian(count: Int, mean: Double = 0, scale: Double, seed: UInt64) -> [Double] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in
            let u = Double.random(in: Double.ulpOfOne..<1, using: &generator)
            let v = Double.random(in: 0..<1, using: &generator)
            return mean + scale * (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
        }
    }

    /// Magnitudes spread evenly in log scale from 1e-15 to 1e25, random signs.
    static func logUniform(count: Int, seed: UInt64) -> [Double] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in
            let magnitude = exp(Double.random(in: -15...25, using: &generator) * log(10.0))
            return Bool.random(using: &generator) ? magnitude : -magnitude
        }
    }

    /// Uniformly random finite float bit patterns: every exponent, subnormals included.
    static func floatBits(count: Int, seed: UInt64) -> [Float] {
        var generator = SeededGenerator(seed: seed)
        var values: [Float] = []
        while values.count < count {
            let value = Float(bitPattern: UInt32.random(in: 0...UInt32.max, using: &generator))
            if value.isFinite { values.append(value) }
        }
        return values
    }

    /// Uniformly random finite double bit patterns.
    static func doubleBits(count: Int, seed: UInt64) -> [Double] {
        var generator = SeededGenerator(seed: seed)
        var values: [Double] = []
        while values.count < count {
            let value = Double(bitPattern: UInt64.random(in: 0...UInt64.max, using: &generator))
            if value.isFinite { values.append(value) }
        }
        return values
    }
}

/// Checks every vector path (and chunked calls) against the reference for `values`, sums included,
/// bit for bit.
func expectPathsMatchReference(_ values: [Float], _ context: String, chunkLengths: [Int] = []) throws {
    let expected = try Histogram.tensorFlowReference(values.span, tag: "t")
    for path in Histogram.VectorPath.available {
        let actual = try Histogram.tensorFlow(values.span, tag: "t", path: path)
        expectSameHistogram(actual, expected, sums: .exact, "\(context) on \(path)")
        for chunkLength in chunkLengths {
            let chunked = try Histogram.tensorFlow(values.span, tag: "t", path: path, chunkLength: chunkLength)
            expectSameHistogram(chunked, expected, sums: .exact, "\(context) on \(path) in chunks of \(chunkLength)")
        }
    }
}

/// `expectPathsMatchReference` for doubles.
func expectPathsMatchReference(_ values: [Double], _ context: String, chunkLengths: [Int] = []) throws {
    let expected = try Histogram.tensorFlowReference(values.span, tag: "t")
    for path in Histogram.VectorPath.available {
        let actual = try Histogram.tensorFlow(values.span, tag: "t", path: path)
        expectSameHistogram(actual, expected, sums: .exact, "\(context) on \(path)")
        for chunkLength in chunkLengths {
            let chunked = try Histogram.tensorFlow(values.span, tag: "t", path: path, chunkLength: chunkLength)
            expectSameHistogram(chunked, expected, sums: .exact, "\(context) on \(path) in chunks of \(chunkLength)")
        }
    }
}

@Suite struct HistogramKernelTests {
    /// The widest path the kernel's own CPU check picks is the one Linux's CPU flags call for, and
    /// the one `RINGBOARD_EXPECT_VECTOR_PATH` names when set; every path up to it is tested below.
    @Test func bestPathIsTheWidestTheCPURuns() {
        let flags = cpuFlags
        let expectedFromFlags: Histogram.VectorPath =
            flags.isSuperset(of: ["avx512f", "avx512bw", "avx512dq", "avx512vl"]) ? .avx512
            : flags.isSuperset(of: ["avx2", "fma"]) ? .avx2 : .portable
        let best = Histogram.VectorPath.best
        #expect(best == expectedFromFlags, "the kernel picks \(best), /proc/cpuinfo's flags call for \(expectedFromFlags)")
        if let expectedVectorPath {
            #expect(best.description == expectedVectorPath, "RINGBOARD_EXPECT_VECTOR_PATH=\(expectedVectorPath), but this machine's best histogram path is \(best)")
        }
        print("histogram kernel paths covered: \(Histogram.VectorPath.available.map(\.description).joined(separator: ", "))")
    }

    /// The cell table gives upper_bound's bucket for every limit and its neighbours.
    @Test func tableAgreesWithBinarySearchAtEveryLimit() throws {
        let buckets = Histogram.TensorFlowBuckets.shared
        for (index, limit) in buckets.limits.enumerated() {
            #expect(buckets.upperBound(limit) == Swift.min(index + 1, buckets.count - 1))
            #expect(buckets.upperBound(limit.nextDown) == index)
        }
        try expectPathsMatchReference(HistogramInputs.adversarialDoubles, "every limit and neighbour (double)")
        try expectPathsMatchReference(HistogramInputs.adversarialFloats, "every limit and neighbour (float)")
    }

    /// The first, middle and last float of every cell of the float table (every sign, exponent and
    /// top 4 mantissa bits), and the first and last double of every cell of the double table and
    /// of the magnitudes clamped into its end cells.
    @Test func everyCellAtItsEdges() throws {
        var floats: [Float] = []
        for cell in UInt32(0)..<(1 << 13) where (cell >> 4) & 0xff != 0xff {
            floats += [cell << 19, cell << 19 | 0x4_0000, cell << 19 | 0x7_ffff].map { Float(bitPattern: $0) }
        }
        try expectPathsMatchReference(floats, "every float cell")
        var doubles: [Double] = []
        for exponent in -1074...1023 {
            for top in 0..<UInt64(16) {
                let start = Double(sign: .plus, exponent: exponent, significand: 1).bitPattern & ~((1 << 52) - 1) | top << 48
                doubles += [start, start | 0x8000_0000_0000, start | 0xffff_ffff_ffff].map { Double(bitPattern: $0) }
            }
        }
        doubles = doubles.filter(\.isFinite)
        try expectPathsMatchReference(doubles + doubles.map { -$0 }, "every double cell")
    }

    @Test func adversarialFloatsOfEveryLength() throws {
        let pool = HistogramInputs.adversarialFloats
        for count in 0...100 {
            try expectPathsMatchReference(
                HistogramInputs.sample(pool, count: count, seed: UInt64(count)), "adversarial floats, \(count) values")
        }
        try expectPathsMatchReference(
            HistogramInputs.sample(pool, count: 4099, seed: 7), "adversarial floats, 4099 values", chunkLengths: [1, 5, 16, 1000])
    }

    @Test func adversarialDoublesOfEveryLength() throws {
        let pool = HistogramInputs.adversarialDoubles
        for count in 0...100 {
            try expectPathsMatchReference(
                HistogramInputs.sample(pool, count: count, seed: UInt64(count)), "adversarial doubles, \(count) values")
        }
        try expectPathsMatchReference(
            HistogramInputs.sample(pool, count: 4099, seed: 7), "adversarial doubles, 4099 values", chunkLengths: [1, 5, 16, 1000])
    }

    /// Lengths around the kernels' blocks of 512 values. The vector paths count a block's values
    /// while they bin the next, and flush the last block after the loop: each block here lands in
    /// buckets of its own (values scaled by the block's index), so that a block counted twice, or
    /// not at all, shows in the buckets.
    @Test func lengthsAroundBlocks() throws {
        for count in [496, 511, 512, 513, 527, 1024, 1040, 1535, 1536, 1543, 2560 + 9] {
            let gaussian = HistogramInputs.gaussian(count: count, scale: 1, seed: UInt64(count))
            let floats = gaussian.enumerated().map { index, value in Float(value * 1e-3 * Double(1 << (2 * (index / 512)))) }
            try expectPathsMatchReference(floats, "\(count) floats, a scale per block")
            try expectPathsMatchReference(
                floats, "\(count) floats, a scale per block, cut into calls", chunkLengths: [17, 512, 600])
            try expectPathsMatchReference(floats.map { Double($0) }, "\(count) doubles, a scale per block")
        }
    }

    @Test func randomFloats() throws {
        for (seed, count) in [(1, 1000), (2, 1023), (3, 10_001)] as [(UInt64, Int)] {
            for scale in [1e-3, 1, 1e3] {
                let values = HistogramInputs.gaussian(count: count, scale: scale, seed: seed).map { Float($0) }
                try expectPathsMatchReference(values, "gaussian floats × \(scale), seed \(seed)")
            }
            try expectPathsMatchReference(
                HistogramInputs.logUniform(count: count, seed: seed).map { Float($0) }, "log-uniform floats, seed \(seed)")
            try expectPathsMatchReference(HistogramInputs.floatBits(count: count, seed: seed), "random float bits, seed \(seed)")
        }
    }

    @Test func randomDoubles() throws {
        for (seed, count) in [(1, 1000), (2, 1023), (3, 10_001)] as [(UInt64, Int)] {
            try expectPathsMatchReference(HistogramInputs.gaussian(count: count, scale: 1, seed: seed), "gaussian doubles, seed \(seed)")
            try expectPathsMatchReference(HistogramInputs.logUniform(count: count, seed: seed), "log-uniform doubles, seed \(seed)")
            try expectPathsMatchReference(HistogramInputs.doubleBits(count: count, seed: seed), "random double bits, seed \(seed)")
        }
    }

    /// Uniform inputs of every length up to 100: one bucket, zeros of both signs, subnormals only.
    @Test func uniformInputsOfEveryLength() throws {
        for count in 0...100 {
            try expectPathsMatchReference([Float](repeating: 0.75, count: count), "\(count) × 0.75")
            try expectPathsMatchReference([Float](repeating: -3e-13, count: count), "\(count) × -3e-13")
            try expectPathsMatchReference([Float](repeating: 0, count: count), "\(count) zeros")
            try expectPathsMatchReference([Double](repeating: -Double.greatestFiniteMagnitude, count: count), "\(count) × -DBL_MAX")
            // Zeros and subnormals of both signs: min and max are the first of them, as TF keeps it.
            let zeros = HistogramInputs.sample([0, -0.0, Float.leastNonzeroMagnitude, -Float.leastNormalMagnitude.nextDown],
                                               count: count, seed: UInt64(count))
            try expectPathsMatchReference(zeros, "\(count) float zeros and subnormals")
            let doubleZeros = HistogramInputs.sample([0, -0.0, Double.leastNonzeroMagnitude, -0x1p-1030],
                                                     count: count, seed: UInt64(count))
            try expectPathsMatchReference(doubleZeros, "\(count) double zeros and subnormals")
        }
    }

    /// Which zero TF reports as min or max, on inputs where it shows.
    @Test func zeroExtremesAreTheFirstZero() throws {
        for path in Histogram.VectorPath.available {
            var histogram = try Histogram.tensorFlow([Float](arrayLiteral: -0.0, 1, 0).span, tag: "t", path: path)
            #expect(histogram.min.bitPattern == (-0.0).bitPattern && histogram.max == 1)
            histogram = try Histogram.tensorFlow([Float](arrayLiteral: -(Float.leastNormalMagnitude / 4), 0, -2).span, tag: "t", path: path)
            #expect(histogram.max.bitPattern == (-0.0).bitPattern && histogram.min == -2)
            // A double subnormal keeps its bits.
            let doubles: [Double] = [3, -0x1p-1030, .leastNonzeroMagnitude, 2]
            let doubleHistogram = try Histogram.tensorFlow(doubles.span, tag: "t", path: path)
            #expect(doubleHistogram.min == -0x1p-1030 && doubleHistogram.max == 3)
            #expect(doubleHistogram.bucketLimit.contains(1e-12))
        }
    }

    /// The vector sums are the reference's exact sums, and the totals-only pass gives the same.
    @Test func vectorSumsAreTheReferenceSums() throws {
        let offsets: [Double] = [0, 0.5, -3]
        for (index, mean) in offsets.enumerated() {
            let values = HistogramInputs.gaussian(count: 200_003, mean: mean, scale: 1, seed: 40 + UInt64(index)).map { Float($0) }
            let reference = try Histogram.tensorFlowReference(values.span, tag: "t")
            for path in Histogram.VectorPath.available {
                let vector = try Histogram.tensorFlow(values.span, tag: "t", path: path)
                #expect(vector.sum.bitPattern == reference.sum.bitPattern, "sum on \(path), mean \(mean)")
                #expect(vector.sumSquares.bitPattern == reference.sumSquares.bitPattern, "sum of squares on \(path), mean \(mean)")
                let computed = Histogram.tensorFlowTotals(values.span, path: path)
                let totals = try #require(computed)
                #expect(totals.sum == vector.sum && totals.sumSquares == vector.sumSquares)
                #expect(totals.min == vector.min && totals.max == vector.max)
            }
        }
    }

    /// Inputs that don't start on a vector boundary.
    @Test func unalignedInputs() throws {
        let values = HistogramInputs.sample(HistogramInputs.adversarialFloats, count: 300, seed: 99)
        let doubles = HistogramInputs.sample(HistogramInputs.adversarialDoubles, count: 300, seed: 99)
        for offset in 0..<16 {
            let part = Array(values[offset...]), doublePart = Array(doubles[offset...])
            let expected = try Histogram.tensorFlowReference(part.span, tag: "t")
            let expectedDoubles = try Histogram.tensorFlowReference(doublePart.span, tag: "t")
            for path in Histogram.VectorPath.available {
                let span = values.span.extracting(offset...), doubleSpan = doubles.span.extracting(offset...)
                expectSameHistogram(try Histogram.tensorFlow(span, tag: "t", path: path), expected,
                                    sums: .exact, "floats from \(offset) on \(path)")
                expectSameHistogram(try Histogram.tensorFlow(doubleSpan, tag: "t", path: path), expectedDoubles,
                                    sums: .exact, "doubles from \(offset) on \(path)")
            }
        }
    }

    /// NaN or infinity anywhere, on every path and in the tail of every vector loop, is refused
    /// with the tag; as by the reference.
    @Test func nonFiniteValuesAreRefused() {
        let floats: [Float] = [.nan, -.nan, .infinity, -.infinity, Float(bitPattern: 0x7fc0_1234), .signalingNaN]
        let doubles: [Double] = [.nan, -.nan, .infinity, -.infinity, .signalingNaN]
        for count in 1...40 {
            for position in Set([0, count / 2, count - 1]) {
                for bad in floats {
                    var values = [Float](repeating: 0.5, count: count)
                    values[position] = bad
                    for path in Histogram.VectorPath.available {
                        #expect(throws: SummaryError.nonFiniteValues(tag: "dense/kernel_0")) {
                            try Histogram.tensorFlow(values.span, tag: "dense/kernel_0", path: path)
                        }
                        let totals = Histogram.tensorFlowTotals(values.span, path: path)
                        #expect(totals == nil)
                    }
                    #expect(throws: SummaryError.nonFiniteValues(tag: "dense/kernel_0")) {
                        try Histogram.tensorFlowReference(values.span, tag: "dense/kernel_0")
                    }
                }
                for bad in doubles {
                    var values = [Double](repeating: -2, count: count)
                    values[position] = bad
                    for path in Histogram.VectorPath.available {
                        #expect(throws: SummaryError.nonFiniteValues(tag: "w")) {
                            try Histogram.tensorFlow(values.span, tag: "w", path: path)
                        }
                    }
                    #expect(throws: SummaryError.nonFiniteValues(tag: "w")) { try Histogram.tensorFlow(values, tag: "w") }
                }
            }
        }
    }

    @Test func emptyInputIsTensorFlowsEmptyHistogram() throws {
        for path in Histogram.VectorPath.available {
            let histogram = try Histogram.tensorFlow([Float]().span, tag: "t", path: path)
            #expect(histogram == HistogramProto(
                min: .greatestFiniteMagnitude, max: -.greatestFiniteMagnitude, num: 0, sum: 0, sumSquares: 0,
                bucketLimit: [.greatestFiniteMagnitude], bucket: [0]))
            #expect(try Histogram.tensorFlow([Double]().span, tag: "t", path: path) == histogram)
        }
    }
}
