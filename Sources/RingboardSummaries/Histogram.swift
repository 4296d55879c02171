import RingboardFormat

/// Histograms of tensor values, in the two forms TensorBoard shows.
///
/// - `tensorFlow(_:tag:)`: a `HistogramProto` with TensorFlow's default buckets, as TensorFlow's
///   histogram summary op (`tf.compat.v1.summary.histogram`, tensorflow/core/lib/histogram/
///   histogram.cc) computes it, bucket for bucket. It goes in a `Summary.Value` as `.histogram`.
/// - `tensorBoard(_:tag:bucketCount:description:)`: the TensorBoard 2.x form (`tf.summary.histogram`),
///   a `[k, 3]` tensor of equal-width buckets, as a whole `Summary.Value` with the histograms
///   plugin's metadata.
///
/// Both take the values by `Span`, without copying them, or as arrays. NaN and infinities are
/// refused with `SummaryError.nonFiniteValues(tag:)`, as TensorFlow refuses them.
public enum Histogram {}

extension Histogram {
    /// The TensorFlow histogram of `values`, with TensorFlow's default bucket limits.
    ///
    /// Each value is converted to `Double` and counted in the first bucket whose limit is greater
    /// than it. The limits grow by 1.1 from 1e-12 to 1e20, then `DBL_MAX`, mirrored for negative
    /// values, with 0 between; runs of empty buckets are merged into one entry carrying the last
    /// limit of the run, as `Histogram::EncodeToProto` does. With no values, `min` is `DBL_MAX`,
    /// `max` is `-DBL_MAX` and there is one `(DBL_MAX, 0)` bucket.
    ///
    /// TensorFlow runs with denormals flushed to zero, and so does this: a subnormal `Float`
    /// becomes a zero of its sign when it is converted to `Double`, so it lands in the bucket above
    /// 0 and adds nothing to the sums.
    ///
    /// `min`, `max`, `num` and the buckets are exactly TensorFlow's. `sum` and `sumSquares` are the
    /// exact sums of the values (and of their squares) as doubles, rounded once to the nearest
    /// double, as Python's `math.fsum` rounds: the same on every CPU and vector path. TensorFlow's
    /// sequential double sums agree with them to rounding (1e-12 relative on its golden cases), and
    /// can lose terms where large values cancel, which these never do. A `Double` square above
    /// `DBL_MAX` is `+inf`, and so is `sumSquares` then; a `sum` is `±inf` only when the exact sum
    /// rounds beyond `DBL_MAX`.
    ///
    /// - Parameters:
    ///   - values: The values, in any order TensorFlow would see them (row-major).
    ///   - tag: The summary tag, for the error.
    /// - Returns: The histogram.
    /// - Throws: `SummaryError.nonFiniteValues(tag:)` when a value is NaN or infinite.
    public static func tensorFlow(_ values: Span<Float>, tag: String) throws(SummaryError) -> HistogramProto {
        try tensorFlow(values, tag: tag, path: .best)
    }

    /// The TensorFlow histogram of `values`, with TensorFlow's default bucket limits.
    ///
    /// As `tensorFlow(_:tag:)` for `Float`, without the conversion. A subnormal `Double` compares
    /// and adds as zero, as under TensorFlow's flush-to-zero mode, but `min` and `max` keep its bits
    /// when it is the first zero-like value in the smallest or largest place.
    ///
    /// - Parameters:
    ///   - values: The values.
    ///   - tag: The summary tag, for the error.
    /// - Returns: The histogram.
    /// - Throws: `SummaryError.nonFiniteValues(tag:)` when a value is NaN or infinite.
    public static func tensorFlow(_ values: Span<Double>, tag: String) throws(SummaryError) -> HistogramProto {
        try tensorFlow(values, tag: tag, path: .best)
    }

    /// The TensorFlow histogram of `values`; see `tensorFlow(_:tag:)` for `Span<Float>`.
    ///
    /// - Parameters:
    ///   - values: The values.
    ///   - tag: The summary tag, for the error.
    /// - Returns: The histogram.
    /// - Throws: `SummaryError.nonFiniteValues(tag:)` when a value is NaN or infinite.
    public static func tensorFlow(_ values: [Float], tag: String) throws(SummaryError) -> HistogramProto {
        try tensorFlow(values.span, tag: tag)
    }

    /// The TensorFlow histogram of `values`; see `tensorFlow(_:tag:)` for `Span<Double>`.
    ///
    /// - Parameters:
    ///   - values: The values.
    ///   - tag: The summary tag, for the error.
    /// - Returns: The histogram.
    /// - Throws: `SummaryError.nonFiniteValues(tag:)` when a value is NaN or infinite.
    public static func tensorFlow(_ values: [Double], tag: String) throws(SummaryError) -> HistogramProto {
        try tensorFlow(values.span, tag: tag)
    }

    /// `tensorFlow(_:tag:)` on a chosen vector path, for benchmarks and tests.
    ///
    /// - Parameters:
    ///   - values: The values.
    ///   - tag: The summary tag, for the error.
    ///   - path: The path; one this CPU lacks falls back to the next narrower.
    /// - Returns: The histogram.
    /// - Throws: `SummaryError.nonFiniteValues(tag:)` when a value is NaN or infinite.
    @_spi(Benchmarks) public static func tensorFlow(
        _ values: Span<Float>, tag: String, path: VectorPath
    ) throws(SummaryError) -> HistogramProto {
        try tensorFlow(values, tag: tag, path: path, chunkLength: defaultChunkLength)
    }

    /// `tensorFlow(_:tag:)` on a chosen vector path, for benchmarks and tests.
    ///
    /// - Parameters:
    ///   - values: The values.
    ///   - tag: The summary tag, for the error.
    ///   - path: The path; one this CPU lacks falls back to the next narrower.
    /// - Returns: The histogram.
    /// - Throws: `SummaryError.nonFiniteValues(tag:)` when a value is NaN or infinite.
    @_spi(Benchmarks) public static func tensorFlow(
        _ values: Span<Double>, tag: String, path: VectorPath
    ) throws(SummaryError) -> HistogramProto {
        try tensorFlow(values, tag: tag, path: path, chunkLength: defaultChunkLength)
    }

    static func tensorFlow(
        _ values: Span<Float>, tag: String, path: VectorPath, chunkLength: Int
    ) throws(SummaryError) -> HistogramProto {
        let accumulation = values.withUnsafeBufferPointer { accumulate($0, path: path, chunkLength: chunkLength) }
        guard !accumulation.nonFinite else { throw .nonFiniteValues(tag: tag) }
        return proto(accumulation, count: values.count) { firstZero(values) }
    }

    static func tensorFlow(
        _ values: Span<Double>, tag: String, path: VectorPath, chunkLength: Int
    ) throws(SummaryError) -> HistogramProto {
        let accumulation = values.withUnsafeBufferPointer { accumulate($0, path: path, chunkLength: chunkLength) }
        guard !accumulation.nonFinite else { throw .nonFiniteValues(tag: tag) }
        return proto(accumulation, count: values.count) { firstZero(values) }
    }

    /// The value `Histogram::Add` keeps as `min_` or `max_` when the extreme is a zero.
    ///
    /// `Add` replaces `min_` only with a strictly smaller value. When the smallest value is a zero,
    /// every value before the first zero is positive, so `min_` becomes the first zero and stays;
    /// likewise for `max_`. Under flush-to-zero a subnormal compares as a zero: a `Float` one has
    /// become a zero of its sign by then, a `Double` one is kept as it is.
    static func firstZero(_ values: Span<Float>) -> Double {
        for index in values.indices where values[index].bitPattern & 0x7fff_ffff < 0x0080_0000 {
            return values[index].sign == .minus ? -0.0 : 0.0
        }
        preconditionFailure("no zero among the values")
    }

    /// The `Double` counterpart of `firstZero(_:)` for `Float`.
    static func firstZero(_ values: Span<Double>) -> Double {
        for index in values.indices where values[index].bitPattern & 0x7fff_ffff_ffff_ffff < 0x0010_0000_0000_0000 {
            return values[index]
        }
        preconditionFailure("no zero among the values")
    }

    /// `Histogram::EncodeToProto(proto, /*preserve_zero_buckets=*/false)` of an accumulation.
    private static func proto(
        _ accumulation: Accumulation, count: Int, firstZero: () -> Double
    ) -> HistogramProto {
        // Histogram::Clear: min_ is the last limit (DBL_MAX), max_ is -DBL_MAX.
        var min = Double.greatestFiniteMagnitude, max = -Double.greatestFiniteMagnitude
        if count > 0 {
            min = accumulation.min
            max = accumulation.max
            if min == 0 || max == 0 {
                let zero = firstZero()
                if min == 0 { min = zero }
                if max == 0 { max = zero }
            }
        }
        let (bucketLimit, bucket) = encode(accumulation.counts, limits: TensorFlowBuckets.shared.limits)
        return HistogramProto(
            min: min, max: max, num: Double(count), sum: accumulation.sum, sumSquares: accumulation.sumSquares,
            bucketLimit: bucketLimit, bucket: bucket)
    }

    /// The bucket entries `Histogram::EncodeToProto` writes with `preserve_zero_buckets` false: a
    /// run of empty buckets becomes one entry carrying the last limit of the run.
    static func encode(_ counts: [Double], limits: [Double]) -> (bucketLimit: [Double], bucket: [Double]) {
        var bucketLimit: [Double] = [], bucket: [Double] = []
        var index = 0
        while index < counts.count {
            var end = limits[index], count = counts[index]
            index += 1
            if count <= 0 {
                while index < counts.count && counts[index] <= 0 {
                    end = limits[index]
                    count = counts[index]
                    index += 1
                }
            }
            bucketLimit.append(end)
            bucket.append(count)
        }
        if bucket.isEmpty {
            bucketLimit.append(.greatestFiniteMagnitude)
            bucket.append(0)
        }
        return (bucketLimit, bucket)
    }
}
