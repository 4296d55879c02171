import RingboardFormat

extension Histogram {
    /// The bucket count of TensorBoard's `tf.summary.histogram` (`DEFAULT_BUCKET_COUNT`).
    public static let tensorBoardDefaultBucketCount = 30

    /// The TensorBoard 2.x histogram of `values`: a `[k, 3]` `DT_DOUBLE` tensor of
    /// `(left edge, right edge, count)` rows with the histograms plugin's metadata, as
    /// `tf.summary.histogram` writes it.
    ///
    /// This follows `histogram_pb` in tensorboard/plugins/histogram/summary_v2.py (TensorBoard
    /// 2.21), the NumPy form of the `tf.summary.histogram` op, value for value:
    /// - no values, or `bucketCount` 0: `bucketCount` rows of zeros;
    /// - all values equal (`max - min == 0`): every edge is `min` and only the last bucket counts,
    ///   holding every value;
    /// - otherwise `k` buckets of width `(max - min) / k` from `min`; a value goes to bucket
    ///   `floor((value - min) / width)`, the last bucket also takes `max`, and the edges are
    ///   `numpy.linspace(min, max, k + 1)`.
    ///
    /// Values are converted to `Double` exactly (no flush to zero; NumPy runs without it). Of zeros
    /// of both signs, the last one counts as `min` or `max`, as `numpy.min` and `numpy.max` mostly
    /// choose (their vector loops sometimes choose another); that only shows as the sign of the
    /// edges when every value is a zero.
    ///
    /// - Parameters:
    ///   - values: The values.
    ///   - tag: The summary tag.
    ///   - bucketCount: `k`, the number of buckets; a negative count is taken as 0, as the
    ///     `tf.summary.histogram` op takes it.
    ///   - description: The summary description (Markdown), or empty.
    /// - Returns: A `Summary.Value` with plugin `"histograms"` and the tensor.
    /// - Throws: `SummaryError.nonFiniteValues(tag:)` when a value is NaN or infinite (TensorBoard
    ///   would write NaN edges and drop those values).
    public static func tensorBoard(
        _ values: Span<Float>, tag: String, bucketCount: Int = tensorBoardDefaultBucketCount, description: String = ""
    ) throws(SummaryError) -> Summary.Value {
        let rows = try tensorBoardRows(values, tag: tag, bucketCount: bucketCount)
        return tensorBoardValue(rows, tag: tag, bucketCount: bucketCount, description: description)
    }

    /// The TensorBoard 2.x histogram of `values`; see `tensorBoard(_:tag:bucketCount:description:)`
    /// for `Span<Float>`.
    ///
    /// - Parameters:
    ///   - values: The values.
    ///   - tag: The summary tag.
    ///   - bucketCount: `k`, the number of buckets; a negative count is taken as 0.
    ///   - description: The summary description (Markdown), or empty.
    /// - Returns: A `Summary.Value` with plugin `"histograms"` and the tensor.
    /// - Throws: `SummaryError.nonFiniteValues(tag:)` when a value is NaN or infinite.
    public static func tensorBoard(
        _ values: Span<Double>, tag: String, bucketCount: Int = tensorBoardDefaultBucketCount, description: String = ""
    ) throws(SummaryError) -> Summary.Value {
        let rows = try tensorBoardRows(values, tag: tag, bucketCount: bucketCount)
        return tensorBoardValue(rows, tag: tag, bucketCount: bucketCount, description: description)
    }

    /// The TensorBoard 2.x histogram of `values`; see `tensorBoard(_:tag:bucketCount:description:)`
    /// for `Span<Float>`.
    ///
    /// - Parameters:
    ///   - values: The values.
    ///   - tag: The summary tag.
    ///   - bucketCount: `k`, the number of buckets; a negative count is taken as 0.
    ///   - description: The summary description (Markdown), or empty.
    /// - Returns: A `Summary.Value` with plugin `"histograms"` and the tensor.
    /// - Throws: `SummaryError.nonFiniteValues(tag:)` when a value is NaN or infinite.
    public static func tensorBoard(
        _ values: [Float], tag: String, bucketCount: Int = tensorBoardDefaultBucketCount, description: String = ""
    ) throws(SummaryError) -> Summary.Value {
        try tensorBoard(values.span, tag: tag, bucketCount: bucketCount, description: description)
    }

    /// The TensorBoard 2.x histogram of `values`; see `tensorBoard(_:tag:bucketCount:description:)`
    /// for `Span<Float>`.
    ///
    /// - Parameters:
    ///   - values: The values.
    ///   - tag: The summary tag.
    ///   - bucketCount: `k`, the number of buckets; a negative count is taken as 0.
    ///   - description: The summary description (Markdown), or empty.
    /// - Returns: A `Summary.Value` with plugin `"histograms"` and the tensor.
    /// - Throws: `SummaryError.nonFiniteValues(tag:)` when a value is NaN or infinite.
    public static func tensorBoard(
        _ values: [Double], tag: String, bucketCount: Int = tensorBoardDefaultBucketCount, description: String = ""
    ) throws(SummaryError) -> Summary.Value {
        try tensorBoard(values.span, tag: tag, bucketCount: bucketCount, description: description)
    }

    /// The `[k, 3]` rows, row-major: left edge, right edge, count.
    static func tensorBoardRows<Value: BinaryFloatingPoint>(
        _ values: Span<Value>, tag: String, bucketCount: Int
    ) throws(SummaryError) -> [Double] {
        let k = Swift.max(0, bucketCount)
        guard k > 0, !values.isEmpty else { return [Double](repeating: 0, count: 3 * k) }

        var min = Double(values[0]), max = min
        for index in values.indices {
            let value = Double(values[index])
            guard value.isFinite else { throw .nonFiniteValues(tag: tag) }
            if value <= min { min = value }
            if value >= max { max = value }
        }
        var rows = [Double](repeating: 0, count: 3 * k)
        let range = max - min
        if range == 0 {
            for bucket in 0..<k {
                rows[3 * bucket] = min
                rows[3 * bucket + 1] = min
            }
            rows[3 * k - 1] = Double(values.count)
            return rows
        }

        // bucket_indices = floor((data - min) / width).astype(int), clamped to k - 1 from above only.
        // A NaN or out-of-range quotient (when max - min overflows or width underflows to 0) casts
        // to the minimum integer (x86 cvttsd2si), which no one-hot matches: the value is not counted.
        let width = range / Double(k)
        var counts = [Int](repeating: 0, count: k)
        var bucketCounts = counts.mutableSpan
        for index in values.indices {
            let quotient = ((Double(values[index]) - min) / width).rounded(.down)
            guard quotient >= 0, quotient < 0x1p63 else { continue }
            bucketCounts[Swift.min(Int(quotient), k - 1)] += 1
        }
        for bucket in 0..<k { rows[3 * bucket + 2] = Double(bucketCounts[bucket]) }

        // numpy.linspace(min, max, k + 1): i * step + min, or (i / k) * delta + min when the step
        // underflows to 0; the last edge is max itself.
        for edge in 0...k {
            let position: Double
            if edge == k {
                position = max
            } else if width == 0 {
                position = (Double(edge) / Double(k)) * range + min
            } else {
                position = Double(edge) * width + min
            }
            if edge < k { rows[3 * edge] = position }
            if edge > 0 { rows[3 * (edge - 1) + 1] = position }
        }
        return rows
    }

    /// The `Summary.Value` TensorBoard's `histogram_pb` makes of `rows`.
    private static func tensorBoardValue(
        _ rows: [Double], tag: String, bucketCount: Int, description: String
    ) -> Summary.Value {
        // tensor_util.make_tensor_proto: float64 values packed little-endian in tensor_content.
        var content: [UInt8] = []
        content.reserveCapacity(rows.count * 8)
        for value in rows {
            withUnsafeBytes(of: value.bitPattern.littleEndian) { content.append(contentsOf: $0) }
        }
        let tensor = TensorProto(dtype: .double, shape: [Int64(rows.count / 3), 3], tensorContent: content)
        // metadata.create_summary_metadata: plugin "histograms" with HistogramPluginData(version=0),
        // which serializes to no bytes; no display name; no data class.
        let metadata = SummaryMetadata(pluginName: "histograms", pluginContent: [], summaryDescription: description)
        return Summary.Value(tag: tag, metadata: metadata, kind: .tensor(tensor))
    }
}
