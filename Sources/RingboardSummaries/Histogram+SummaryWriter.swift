import RingboardFormat

extension Histogram {
    /// The bin edges torch's and tensorboardX's `SummaryWriter` use for `bins='tensorflow'`
    /// (`default_bins`): 1e-12 growing by 1.1 while below 1e20, mirrored for negative values,
    /// with 0 between. TensorFlow's own limits are these and `±DBL_MAX`.
    public static let summaryWriterEdges: [Double] = {
        var positive: [Double] = []
        var v = 1e-12
        while v < 1e20 {
            positive.append(v)
            v *= 1.1
        }
        return positive.reversed().map { -$0 } + [0] + positive
    }()

    /// The histogram `SummaryWriter.add_histogram(tag, values)` writes with its default
    /// `bins='tensorflow'`, as torch (and tensorboardX) compute it: the values as doubles, counted
    /// by `numpy.histogram` into `summaryWriterEdges` (a bin holds its left edge, the last one its
    /// right edge too; values beyond the outer edges are counted in `num` but in no bin), then
    /// cut to the bins from the one before the first that holds a value to the last that does
    /// (`make_histogram`).
    ///
    /// `min`, `max`, `num`, the limits and the counts are numpy's exactly. `sum` and `sumSquares`
    /// are compensated sums of the doubles, which agree with numpy's pairwise sum and BLAS dot
    /// product to rounding.
    ///
    /// - Parameters:
    ///   - values: The values.
    ///   - tag: The summary tag, for the error.
    /// - Throws: `SummaryError.nonFiniteValues(tag:)` for NaN or infinity (numpy would count them
    ///   in no bin and make `min` or `max` NaN); `.emptyHistogram(tag:)` when there are no values,
    ///   or none within the edges (where torch raises `ValueError`).
    public static func summaryWriter<Value: BinaryFloatingPoint>(_ values: Span<Value>, tag: String) throws(SummaryError) -> HistogramProto {
        let edges = summaryWriterEdges
        let binCount = edges.count - 1
        guard values.count > 0 else { throw .emptyHistogram(tag: tag) }
        var counts = [Double](repeating: 0, count: binCount)
        var minimum = Double.infinity, maximum = -Double.infinity
        var sum = CompensatedSum(), sumSquares = CompensatedSum()
        let (low, high) = (edges[0], edges[binCount])
        try edges.withUnsafeBufferPointer { (edges) throws(SummaryError) in
            for index in 0..<values.count {
                let x = Double(values[index])
                guard x.isFinite else { throw .nonFiniteValues(tag: tag) }
                minimum = Swift.min(minimum, x)
                maximum = Swift.max(maximum, x)
                sum.add(x)
                sumSquares.add(x * x)
                guard x >= low, x <= high else { continue }
                if x == high {
                    counts[binCount - 1] += 1
                    continue
                }
                // The last edge at or below x: a branch-free binary search.
                var base = 0, length = edges.count
                while length > 1 {
                    let half = length / 2
                    base = edges[base + half] <= x ? base + half : base
                    length -= half
                }
                counts[base] += 1
            }
        }
        guard let first = counts.firstIndex(where: { $0 > 0 }), let last = counts.lastIndex(where: { $0 > 0 }) else {
            throw .emptyHistogram(tag: tag)
        }
        let end = last + 1
        let bucket = first > 0 ? Array(counts[(first - 1)..<end]) : [0] + Array(counts[0..<end])
        return HistogramProto(
            min: minimum, max: maximum, num: Double(values.count), sum: sum.value, sumSquares: sumSquares.value,
            bucketLimit: Array(edges[first...end]), bucket: bucket)
    }
}

/// A running sum with Neumaier's compensation: the rounding error of each addition is kept and
/// added back at the end.
struct CompensatedSum {
    private var total = 0.0
    private var compensation = 0.0

    mutating func add(_ x: Double) {
        let t = total + x
        if abs(total) >= abs(x) {
            compensation += (total - t) + x
        } else {
            compensation += (x - t) + total
        }
        total = t
    }

    var value: Double { total + compensation }
}
