import RingboardFormat

extension Histogram {
    /// `tensorFlow(_:tag:)` the plain way: histogram.cc's `Histogram::Add` for each value in turn (a
    /// binary search over the limits) and then `EncodeToProto`, with flush-to-zero spelled out. The
    /// sums are exact: every value is added to a big integer, which is rounded once at the end.
    /// The vector kernels are tested against it, bit for bit; TensorFlow's sequential double sums
    /// agree with its sums to rounding (1e-12 relative on its golden cases).
    ///
    /// - Parameters:
    ///   - values: The values.
    ///   - tag: The summary tag, for the error.
    /// - Returns: The histogram.
    /// - Throws: `SummaryError.nonFiniteValues(tag:)` when a value is NaN or infinite.
    @_spi(Benchmarks) public static func tensorFlowReference(
        _ values: Span<Float>, tag: String
    ) throws(SummaryError) -> HistogramProto {
        var histogram = ReferenceHistogram()
        for index in values.indices {
            let value = values[index]
            // HistogramSummaryOp: `static_cast<double>(v)`, then the NaN/inf check. With DAZ the
            // conversion reads a subnormal as a zero of its sign.
            guard value.isFinite else { throw .nonFiniteValues(tag: tag) }
            histogram.add(value.isSubnormal ? (value.sign == .minus ? -0.0 : 0.0) : Double(value))
        }
        return histogram.proto
    }

    /// The `Double` counterpart of `tensorFlowReference(_:tag:)` for `Float`.
    ///
    /// - Parameters:
    ///   - values: The values.
    ///   - tag: The summary tag, for the error.
    /// - Returns: The histogram.
    /// - Throws: `SummaryError.nonFiniteValues(tag:)` when a value is NaN or infinite.
    @_spi(Benchmarks) public static func tensorFlowReference(
        _ values: Span<Double>, tag: String
    ) throws(SummaryError) -> HistogramProto {
        var histogram = ReferenceHistogram()
        for index in values.indices {
            guard values[index].isFinite else { throw .nonFiniteValues(tag: tag) }
            histogram.add(values[index])
        }
        return histogram.proto
    }
}

/// histogram.cc's `Histogram` with the default buckets, as the CPU runs it with FTZ and DAZ set.
struct ReferenceHistogram {
    private let buckets = Histogram.TensorFlowBuckets.shared
    // Histogram::Clear.
    private var min = Double.greatestFiniteMagnitude
    private var max = -Double.greatestFiniteMagnitude
    private var num = 0.0
    private var sum = ExactSum()
    private var sumSquares = ExactSum()
    private var counts: [Double]

    init() {
        counts = [Double](repeating: 0, count: buckets.count)
    }

    /// DAZ reads a subnormal operand as a zero of its sign, and FTZ writes a subnormal result as one.
    private static func flushed(_ value: Double) -> Double {
        value.isSubnormal ? (value.sign == .minus ? -0.0 : 0.0) : value
    }

    /// `Histogram::Add(value)`.
    mutating func add(_ value: Double) {
        let operand = Self.flushed(value)
        counts[buckets.upperBound(operand)] += 1
        // Comparisons read both operands through DAZ; the assignment copies the bits.
        if Self.flushed(min) > operand { min = value }
        if Self.flushed(max) < operand { max = value }
        num += 1
        sum.add(operand)
        sumSquares.add(Self.flushed(operand * operand))
    }

    /// `Histogram::EncodeToProto(proto, /*preserve_zero_buckets=*/false)`.
    var proto: HistogramProto {
        let (bucketLimit, bucket) = Histogram.encode(counts, limits: buckets.limits)
        // A sum under FTZ that ends below DBL_MIN is a zero of its sign.
        return HistogramProto(
            min: min, max: max, num: num, sum: Self.flushed(sum.rounded), sumSquares: Self.flushed(sumSquares.rounded),
            bucketLimit: bucketLimit, bucket: bucket)
    }
}

/// An exact sum of doubles: two unsigned big integers in units of 2^-1074 (the positive values and
/// the magnitudes of the negative ones), rounded to the nearest double once, when it is read.
struct ExactSum {
    /// 64-bit words, least significant first: room for 2^2176, well above 2^2098 (`DBL_MAX`) times
    /// any count of values.
    private static let wordCount = 34
    private var positive = [UInt64](repeating: 0, count: wordCount)
    private var negative = [UInt64](repeating: 0, count: wordCount)
    private var positiveInfinity = false, negativeInfinity = false, notANumber = false

    /// Adds `value` exactly.
    mutating func add(_ value: Double) {
        if value.isNaN { notANumber = true; return }
        if value.isInfinite {
            if value < 0 { negativeInfinity = true } else { positiveInfinity = true }
            return
        }
        guard value != 0 else { return }
        // value = significand * 2^(place - 1074)
        let biased = Int(value.exponentBitPattern)
        let significand = value.significandBitPattern | (biased == 0 ? 0 : 1 << 52)
        let place = Swift.max(biased, 1) - 1
        let word = place / 64, shift = place % 64
        let low = significand << UInt64(shift)
        let high = shift == 0 ? 0 : significand >> UInt64(64 - shift)
        if value < 0 {
            Self.add(low, high, at: word, to: &negative)
        } else {
            Self.add(low, high, at: word, to: &positive)
        }
    }

    private static func add(_ low: UInt64, _ high: UInt64, at word: Int, to words: inout [UInt64]) {
        var carry: UInt64
        (words[word], carry) = addingWithCarry(words[word], low, 0)
        (words[word + 1], carry) = addingWithCarry(words[word + 1], high, carry)
        var index = word + 2
        while carry != 0 {
            (words[index], carry) = addingWithCarry(words[index], 0, carry)
            index += 1
        }
    }

    private static func addingWithCarry(_ a: UInt64, _ b: UInt64, _ carry: UInt64) -> (UInt64, UInt64) {
        let (partial, overflow1) = a.addingReportingOverflow(b)
        let (total, overflow2) = partial.addingReportingOverflow(carry)
        return (total, (overflow1 ? 1 : 0) + (overflow2 ? 1 : 0))
    }

    /// The sum rounded to the nearest double, ties to even (`±inf` beyond the double range). An
    /// exact zero is +0.
    var rounded: Double {
        if notANumber || (positiveInfinity && negativeInfinity) { return .nan }
        if positiveInfinity { return .infinity }
        if negativeInfinity { return -.infinity }
        // magnitude = |positive - negative|
        let isNegative = Self.isLess(positive, negative)
        let magnitude = isNegative ? Self.subtracting(positive, from: negative) : Self.subtracting(negative, from: positive)
        guard let top = magnitude.lastIndex(where: { $0 != 0 }) else { return 0 }
        let highest = top * 64 + 63 - magnitude[top].leadingZeroBitCount
        func bit(_ index: Int) -> UInt64 { (magnitude[index / 64] >> UInt64(index % 64)) & 1 }
        // Below 2^-1022 the last bit of a double is 2^-1074, bit 0 here.
        var lowest = Swift.max(highest - 52, 0)
        var significand: UInt64 = 0
        for index in stride(from: highest, through: lowest, by: -1) { significand = significand << 1 | bit(index) }
        if lowest > 0 && bit(lowest - 1) == 1 {
            let sticky = (0..<(lowest - 1)).contains { bit($0) == 1 }
            if sticky || significand & 1 == 1 {
                significand += 1
                if significand == 1 << 53 {
                    significand >>= 1
                    lowest += 1
                }
            }
        }
        // Exact: significand has at most 53 bits; beyond the range this is infinite.
        return Double(sign: isNegative ? .minus : .plus, exponent: lowest - 1074, significand: Double(significand))
    }

    private static func isLess(_ a: [UInt64], _ b: [UInt64]) -> Bool {
        for index in stride(from: a.count - 1, through: 0, by: -1) where a[index] != b[index] {
            return a[index] < b[index]
        }
        return false
    }

    /// `a - b` for `a >= b`.
    private static func subtracting(_ b: [UInt64], from a: [UInt64]) -> [UInt64] {
        var result = a, borrow: UInt64 = 0
        for index in a.indices {
            let (partial, overflow1) = a[index].subtractingReportingOverflow(b[index])
            let (difference, overflow2) = partial.subtractingReportingOverflow(borrow)
            result[index] = difference
            borrow = (overflow1 ? 1 : 0) + (overflow2 ? 1 : 0)
        }
        return result
    }
}
