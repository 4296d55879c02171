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
    /// are compensated sums (for `Float` values, TensorFlow's kernel's, in vector lanes), which agree
    /// with numpy's pairwise sum and BLAS's dot product to rounding.
    ///
    /// - Parameters:
    ///   - values: The values.
    ///   - tag: The summary tag, for the error.
    /// - Throws: `SummaryError.nonFiniteValues(tag:)` for NaN or infinity (numpy would count them
    ///   in no bin and make `min` or `max` NaN); `.emptyHistogram(tag:)` when there are no values,
    ///   or none within the edges (where torch raises `ValueError`).
    public static func summaryWriter(_ values: Span<Float>, tag: String) throws(SummaryError) -> HistogramProto {
        try summaryWriter(values, tag: tag, path: .best)
    }

    /// `summaryWriter(_:tag:)` on a chosen vector path, for tests.
    ///
    /// The counts come from TensorFlow's kernel (`accumulate`): TensorFlow's limits are these
    /// edges with `±DBL_MAX` outside, and its buckets, like numpy's bins, hold their left edge, so
    /// numpy's bin `i` is TensorFlow's bucket `i + 2`. Two things differ, and are settled here:
    /// the kernel flushes subnormal `Float`s to zero, so a negative one, which numpy counts below
    /// 0, is moved there (counted in a second pass, which also takes `min` and `max` exactly); and
    /// values beyond the outer edges, which numpy counts in no bin, are in TensorFlow's outer
    /// buckets, whose presence sends the values to the plain count (`countedAsNumpy`). The sums
    /// are the kernel's compensated sums of the normal values, and the subnormals' added.
    static func summaryWriter(_ values: Span<Float>, tag: String, path: VectorPath) throws(SummaryError) -> HistogramProto {
        guard values.count > 0 else { throw .emptyHistogram(tag: tag) }
        // numpy's sums are not exact either: the lanes' compensated sums, without the exact
        // second pass they take where cancellation leaves the last bit in doubt (normal values).
        let accumulation = values.withUnsafeBufferPointer { accumulate($0, path: path, exactSums: false) }
        guard !accumulation.nonFinite else { throw .nonFiniteValues(tag: tag) }
        let binCount = SummaryWriterBins.shared.binCount
        guard accumulation.counts[1] == 0, accumulation.counts[binCount + 2] == 0 else { return try countedAsNumpy(values, tag: tag) }
        var counts = Array(accumulation.counts[2..<(binCount + 2)])
        let extremes = extremes(values)
        counts[binCount / 2 - 1] += Double(extremes.negativeSubnormals)
        counts[binCount / 2] -= Double(extremes.negativeSubnormals)
        return try cut(counts, minimum: extremes.min, maximum: extremes.max, num: values.count, sum: accumulation.sum + extremes.sum,
                       sumSquares: accumulation.sumSquares + extremes.sumSquares, tag: tag)
    }

    /// The least and greatest value, how many are negative subnormals, and the sums (and sums of
    /// squares) of the subnormals, which the kernel leaves out: in blocks the compiler can keep
    /// in vector registers.
    private static func extremes(_ values: Span<Float>) -> (min: Double, max: Double, negativeSubnormals: Int, sum: Double, sumSquares: Double) {
        var minimum = Float.infinity, maximum = -Float.infinity
        var negativeSubnormals = 0
        var subnormalSum = 0.0, subnormalSquares = 0.0
        values.withUnsafeBufferPointer { buffer in
            for value in buffer {
                minimum = value < minimum ? value : minimum
                maximum = value > maximum ? value : maximum
                // Sign set, exponent zero, mantissa not: 0x8000_0001 ... 0x807F_FFFF.
                negativeSubnormals &+= value.bitPattern &- 0x8000_0001 < 0x007F_FFFF ? 1 : 0
                let subnormal = Double(value.bitPattern & 0x7F80_0000 == 0 ? value : 0)
                subnormalSum += subnormal
                subnormalSquares += subnormal * subnormal
            }
        }
        return (Double(minimum), Double(maximum), negativeSubnormals, subnormalSum, subnormalSquares)
    }

    /// `make_histogram`'s cut: the bins from the one before the first that holds a value to the
    /// last that does, each limit a bin's right edge.
    private static func cut(
        _ counts: [Double], minimum: Double, maximum: Double, num: Int, sum: Double, sumSquares: Double, tag: String
    ) throws(SummaryError) -> HistogramProto {
        guard let first = counts.firstIndex(where: { $0 > 0 }), let last = counts.lastIndex(where: { $0 > 0 }) else {
            throw .emptyHistogram(tag: tag)
        }
        let end = last + 1
        let bucket = first > 0 ? Array(counts[(first - 1)..<end]) : [0] + Array(counts[0..<end])
        return HistogramProto(min: minimum, max: maximum, num: Double(num), sum: sum, sumSquares: sumSquares,
                              bucketLimit: Array(summaryWriterEdges[first...end]), bucket: bucket)
    }

    /// `summaryWriter(_:tag:)` of `Double` values.
    public static func summaryWriter(_ values: Span<Double>, tag: String) throws(SummaryError) -> HistogramProto {
        try countedAsNumpy(values, tag: tag)
    }

    /// The plain count, value by value: `Double` values, and `Float` ones beyond the outer edges.
    /// Specialized for each type (generic code called from another module would reach each value
    /// through its type's metadata).
    @inline(__always)
    static func countedAsNumpy<Value: BinaryFloatingPoint>(_ values: Span<Value>, tag: String) throws(SummaryError) -> HistogramProto {
        let bins = SummaryWriterBins.shared
        let binCount = bins.binCount
        guard values.count > 0 else { throw .emptyHistogram(tag: tag) }
        // Four interleaved count arrays, one per lane, and one slot past the bins for values
        // beyond the edges: no branch per value, and no count waits on the one before it.
        let stride = binCount + 1
        var laneCounts = [UInt32](repeating: 0, count: 4 * stride)
        var minimum = Double.infinity, maximum = -Double.infinity
        var sum = CompensatedSum(), sumSquares = CompensatedSum()
        var nonFinite: UInt64 = 0
        bins.positive.withUnsafeBufferPointer { padded in
            laneCounts.withUnsafeMutableBufferPointer { counts in
                for index in 0..<values.count {
                    let x = Double(values[index])
                    // An all-ones exponent (NaN, infinity) carries into the sign bit when its lowest bit is added.
                    nonFinite |= ((x.bitPattern & 0x7FF0_0000_0000_0000) &+ 0x0010_0000_0000_0000) >> 63
                    minimum = Swift.min(minimum, x)
                    maximum = Swift.max(maximum, x)
                    sum.add(x)
                    sumSquares.add(x * x)
                    counts[(index & 3) &* stride &+ bins.bin(of: x, padded: padded)] &+= 1
                }
            }
        }
        guard nonFinite == 0 else { throw .nonFiniteValues(tag: tag) }
        var counts = [Double](repeating: 0, count: binCount)
        for bin in 0..<binCount {
            counts[bin] = Double(UInt64(laneCounts[bin]) + UInt64(laneCounts[stride + bin]) + UInt64(laneCounts[2 * stride + bin])
                                 + UInt64(laneCounts[3 * stride + bin]))
        }
        return try cut(counts, minimum: minimum, maximum: maximum, num: values.count, sum: sum.value, sumSquares: sumSquares.value,
                       tag: tag)
    }
}

/// `numpy.histogram`'s bin of a value among `Histogram.summaryWriterEdges`, found without a
/// search: the edges `p[k]` of each sign grow by 1.1, and a value's exponent and top six mantissa
/// bits name an interval 2^(1/64) wide, so a table gives the last edge at or below its start and
/// one comparison settles the rest.
struct SummaryWriterBins: Sendable {
    static let shared = SummaryWriterBins()

    /// The positive edges `p[k]`, ascending (1e-12 up to the last below 1e20), with 0 before them
    /// and +infinity after: `positive[k + 1]` is `p[k]`.
    let positive: [Double]
    /// Edges of each sign.
    let n: Int
    /// Bins: `2n` (the edges are the negated `p` reversed, 0, `p`).
    var binCount: Int { 2 * n }
    /// For each key from `firstKey`, one more than the last `k` with `p[k]` at or below the key's
    /// smallest value (0: none).
    private let table: [Int32]
    private let firstKey: UInt64
    private let lastKey: UInt64
    private static let keyShift: UInt64 = 46

    init() {
        let edges = Histogram.summaryWriterEdges
        let p = Array(edges[(edges.count / 2 + 1)...])
        n = p.count
        positive = [0] + p + [.infinity]
        firstKey = p[0].bitPattern >> SummaryWriterBins.keyShift
        lastKey = p[n - 1].bitPattern >> SummaryWriterBins.keyShift
        var table: [Int32] = []
        var k = -1
        for key in firstKey...lastKey {
            let start = Double(bitPattern: key << SummaryWriterBins.keyShift)
            while k + 1 < n && p[k + 1] <= start { k += 1 }
            table.append(Int32(k + 1))
        }
        self.table = table
    }

    /// The bin `numpy.histogram` counts `x` in (bin `i` holds `edges[i] <= x < edges[i + 1]`, the
    /// last one its right edge too), or `binCount` for a value beyond the outer edges.
    func bin(of x: Double) -> Int {
        positive.withUnsafeBufferPointer { bin(of: x, padded: $0) }
    }

    /// `bin(of:)` with `positive`'s storage at hand, without a branch on the value (the choices
    /// are arithmetic on comparisons of bit patterns, which order non-negative doubles as they
    /// order as numbers; written as a branch, they cost a misprediction for one value in two).
    @inline(__always)
    func bin(of x: Double, padded: UnsafeBufferPointer<Double>) -> Int {
        let magnitude = x.magnitude
        let bits = magnitude.bitPattern
        let key = Swift.min(Swift.max(bits >> SummaryWriterBins.keyShift, firstKey), lastKey) &- firstKey
        // kk: one more than the last k with p[k] <= |x| (0 when |x| < p[0]); a table entry is at
        // most one edge short, as the key's interval (2^(1/64)) is narrower than a bin (1.1).
        var kk = Int(table.withUnsafeBufferPointer { $0[Int(key)] })
        kk &+= Int(truncatingIfNeeded: (padded[kk &+ 1].bitPattern &- bits &- 1) >> 63)  // p[kk] <= |x|
        // x >= 0: [p[kk-1], p[kk]) is bin n + kk (the last edge itself in the last bin).
        let upper = Swift.min(n &+ kk, 2 &* n &- 1)
        // x < 0: bin n - 1 - j for the least j with p[j] >= |x|: kk - 1 when p[kk - 1] is |x|, else kk.
        let equal = Int(truncatingIfNeeded: ((padded[kk].bitPattern ^ bits) &- 1) >> 63)
        let lower = n &- 1 &- kk &+ equal
        // -0 takes `lower`, which is `upper` (n) for a zero.
        let bin = upper &+ Int(truncatingIfNeeded: x.bitPattern >> 63) &* (lower &- upper)
        // Beyond the last edge: the slot past the bins.
        let beyond = Int(truncatingIfNeeded: (padded[n].bitPattern &- bits) >> 63)
        return bin &+ beyond &* (2 &* n &- bin)
    }
}

/// A running sum with its rounding errors kept (Knuth's TwoSum, without a branch) and added back
/// at the end.
struct CompensatedSum {
    private var total = 0.0
    private var compensation = 0.0

    @inline(__always)
    mutating func add(_ x: Double) {
        let t = total + x
        let virtualX = t - total
        compensation += (total - (t - virtualX)) + (x - virtualX)
        total = t
    }

    var value: Double { total + compensation }
}
