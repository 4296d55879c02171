import RingboardFormat

extension Histogram {
    /// `tensorFlow(_:tag:)` the plain way: histogram.cc's `Histogram::Add` for each value in turn (a
    /// binary search over the limits, sequential double sums) and then `EncodeToProto`, with
    /// flush-to-zero spelled out. The vector kernels are tested against it; its sums are
    /// TensorFlow's to the last bit.
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
    private var sum = 0.0
    private var sumSquares = 0.0
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
        sum = Self.flushed(sum + operand)
        sumSquares = Self.flushed(sumSquares + Self.flushed(operand * operand))
    }

    /// `Histogram::EncodeToProto(proto, /*preserve_zero_buckets=*/false)`.
    var proto: HistogramProto {
        let (bucketLimit, bucket) = Histogram.encode(counts, limits: buckets.limits)
        return HistogramProto(
            min: min, max: max, num: num, sum: sum, sumSquares: sumSquares, bucketLimit: bucketLimit, bucket: bucket)
    }
}
