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
        let bins = SummaryWriterBins.shared
        let binCount = bins.binCount
        guard values.count > 0 else { throw .emptyHistogram(tag: tag) }
        var counts = [Double](repeating: 0, count: binCount)
        var minimum = Double.infinity, maximum = -Double.infinity
        var sum = CompensatedSum(), sumSquares = CompensatedSum()
        try counts.withUnsafeMutableBufferPointer { (counts) throws(SummaryError) in
            for index in 0..<values.count {
                let x = Double(values[index])
                guard x.isFinite else { throw .nonFiniteValues(tag: tag) }
                minimum = Swift.min(minimum, x)
                maximum = Swift.max(maximum, x)
                sum.add(x)
                sumSquares.add(x * x)
                let bin = bins.bin(of: x)
                if bin >= 0 { counts[bin] += 1 }
            }
        }
        guard let first = counts.firstIndex(where: { $0 > 0 }), let last = counts.lastIndex(where: { $0 > 0 }) else {
            throw .emptyHistogram(tag: tag)
        }
        let end = last + 1
        let bucket = first > 0 ? Array(counts[(first - 1)..<end]) : [0] + Array(counts[0..<end])
        return HistogramProto(
            min: minimum, max: maximum, num: Double(values.count), sum: sum.value, sumSquares: sumSquares.value,
            bucketLimit: Array(summaryWriterEdges[first...end]), bucket: bucket)
    }
}

/// `numpy.histogram`'s bin of a value among `Histogram.summaryWriterEdges`, found without a
/// search: the edges `p[k]` of each sign grow by 1.1, and a value's exponent and top six mantissa
/// bits name an interval 2^(1/64) wide, so a table gives the last edge at or below its start and
/// one comparison settles the rest.
struct SummaryWriterBins: Sendable {
    static let shared = SummaryWriterBins()

    /// The positive edges, ascending: `p[0]` = 1e-12 up to the last below 1e20.
    let positive: [Double]
    /// Bins: `2 × positive.count` (the edges are the negated `positive` reversed, 0, `positive`).
    var binCount: Int { 2 * positive.count }
    /// For each key from `firstKey`, the last `k` with `positive[k]` at or below the key's
    /// smallest value (-1: none).
    private let table: [Int32]
    private let firstKey: UInt64
    private static let keyShift: UInt64 = 46

    init() {
        let edges = Histogram.summaryWriterEdges
        let positive = Array(edges[(edges.count / 2 + 1)...])
        self.positive = positive
        let firstKey = positive[0].bitPattern >> SummaryWriterBins.keyShift
        let lastKey = positive[positive.count - 1].bitPattern >> SummaryWriterBins.keyShift
        var table: [Int32] = []
        var k = -1
        for key in firstKey...lastKey {
            let start = Double(bitPattern: key << SummaryWriterBins.keyShift)
            while k + 1 < positive.count && positive[k + 1] <= start { k += 1 }
            table.append(Int32(k))
        }
        self.table = table
        self.firstKey = firstKey
    }

    /// The last `k` with `positive[k] <= magnitude`, or -1 (`magnitude` at most the last edge).
    @inline(__always)
    private func lastEdge(atOrBelow magnitude: Double) -> Int {
        var k = Int(table[Int((magnitude.bitPattern >> SummaryWriterBins.keyShift) &- firstKey)])
        while k + 1 < positive.count && positive[k + 1] <= magnitude { k += 1 }
        return k
    }

    /// The bin `numpy.histogram` counts `x` in (bin `i` holds `edges[i] <= x < edges[i + 1]`, the
    /// last one its right edge too), or -1 beyond the outer edges.
    @inline(__always)
    func bin(of x: Double) -> Int {
        let n = positive.count
        let magnitude = x.magnitude
        if magnitude < positive[0] {
            // [−p0, 0) is bin n − 1; [0, p0) is bin n (−0 compares equal to 0).
            return x < 0 ? n - 1 : n
        }
        guard magnitude <= positive[n - 1] else { return -1 }
        let k = lastEdge(atOrBelow: magnitude)
        if x > 0 {
            // [p_k, p_k+1) is bin n + 1 + k; the last edge itself is in the last bin.
            return Swift.min(n + 1 + k, 2 * n - 1)
        }
        // [−p_j, −p_j−1) is bin n − 1 − j, for the least j with p_j ≥ |x|.
        let j = positive[k] == magnitude ? k : k + 1
        return n - 1 - j
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
