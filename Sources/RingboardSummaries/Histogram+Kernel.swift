internal import CRingboardSIMD

extension Histogram {
    /// The code that bins values and sums them: AVX-512, AVX2 or portable C.
    ///
    /// The public functions take the widest path this CPU runs (`best`); benchmarks and tests name
    /// one to compare them.
    @_spi(Benchmarks) public enum VectorPath: Int, CaseIterable, Sendable, CustomStringConvertible {
        /// Scalar C, on every CPU, summing in four compensated lanes.
        case portable = 0
        /// 256-bit AVX2 vectors (x86_64).
        case avx2 = 256
        /// 512-bit AVX-512 F/BW/DQ/VL vectors (x86_64).
        case avx512 = 512

        /// The widest path this CPU runs.
        public static var best: VectorPath { VectorPath(rawValue: Int(CRingboardSIMD_vector_width())) ?? .portable }

        /// The paths this CPU runs, narrowest first.
        public static var available: [VectorPath] { allCases.filter { $0.rawValue <= best.rawValue } }

        /// `portable`, `avx2` or `avx512`.
        public var description: String {
            switch self {
            case .portable: "portable"
            case .avx2: "avx2"
            case .avx512: "avx512"
            }
        }
    }

    /// What one pass over the values gathered: bucket counts and totals, before TensorFlow's
    /// `min`/`max` for zeros are settled (see `Histogram.firstZero`).
    struct Accumulation {
        /// One count per bucket of `TensorFlowBuckets.shared.limits`.
        var counts: [Double]
        /// The exact sum, correctly rounded.
        var sum = 0.0
        /// The exact sum of the squares, correctly rounded.
        var sumSquares = 0.0
        /// `+inf` when there are no values.
        var min = Double.infinity
        /// `-inf` when there are no values.
        var max = -Double.infinity
        var nonFinite = false

        init(bucketCount: Int) {
            counts = [Double](repeating: 0, count: bucketCount)
        }
    }

    /// The totals of the values the kernel calls added to `accumulator`. When the vector lanes'
    /// rounding leaves the sums in doubt (heavy cancellation, or magnitudes far apart),
    /// `exactSums` sums the values again one at a time, exactly; without it, the lanes'
    /// compensated sums stand.
    private static func settledTotals(
        of accumulator: inout CRingboardSIMD_histogram_accumulator,
        exactSums: ((UnsafeMutablePointer<CRingboardSIMD_histogram_accumulator>) -> Void)?
    ) -> CRingboardSIMD_histogram_totals {
        var totals = CRingboardSIMD_histogram_totals()
        CRingboardSIMD_histogram_end(&accumulator, &totals)
        if totals.non_finite == 0 && totals.uncertain_sums != 0, let exactSums {
            var exact = CRingboardSIMD_histogram_accumulator()
            CRingboardSIMD_histogram_begin(&exact)
            exactSums(&exact)
            var exactTotals = CRingboardSIMD_histogram_totals()
            CRingboardSIMD_histogram_end(&exact, &exactTotals)
            precondition(exactTotals.uncertain_sums == 0)
            totals.sum = exactTotals.sum
            totals.sum_squares = exactTotals.sum_squares
            totals.uncertain_sums = 0
        }
        return totals
    }

    /// Values per kernel call: no 32-bit counter can wrap within one call.
    static let defaultChunkLength = Int(UInt32.max)

    /// Bins `values` with TensorFlow's default buckets on `path`, in calls of at most `chunkLength`
    /// values; with `exactSums` off, the vector lanes' compensated sums stand even where they may
    /// be a rounding away from the exact ones (no second pass).
    static func accumulate(
        _ values: UnsafeBufferPointer<Float>, path: VectorPath, chunkLength: Int = defaultChunkLength, exactSums: Bool = true
    ) -> Accumulation {
        accumulate(count: values.count, chunkLength: chunkLength, kernel: { start, length, table, counts, accumulator in
            CRingboardSIMD_histogram_float(
                values.baseAddress! + start, length, table, counts, Int32(path.rawValue), accumulator)
        }, exactSums: exactSums ? { accumulator in
            CRingboardSIMD_histogram_float_exact_sums(values.baseAddress, values.count, accumulator)
        } : nil)
    }

    /// Bins `values` with TensorFlow's default buckets on `path`, in calls of at most `chunkLength`
    /// values.
    static func accumulate(
        _ values: UnsafeBufferPointer<Double>, path: VectorPath, chunkLength: Int = defaultChunkLength
    ) -> Accumulation {
        accumulate(count: values.count, chunkLength: chunkLength) { start, length, table, counts, accumulator in
            CRingboardSIMD_histogram_double(
                values.baseAddress! + start, length, table, counts, Int32(path.rawValue), accumulator)
        } exactSums: { accumulator in
            CRingboardSIMD_histogram_double_exact_sums(values.baseAddress, values.count, accumulator)
        }
    }

    private static func accumulate(
        count: Int, chunkLength: Int,
        kernel: (
            _ start: Int, _ length: Int, UnsafePointer<CRingboardSIMD_histogram_table>, UnsafeMutablePointer<UInt32>,
            UnsafeMutablePointer<CRingboardSIMD_histogram_accumulator>
        ) -> Void,
        exactSums: ((UnsafeMutablePointer<CRingboardSIMD_histogram_accumulator>) -> Void)?
    ) -> Accumulation {
        precondition(chunkLength > 0 && chunkLength <= defaultChunkLength)
        let buckets = TensorFlowBuckets.shared
        var accumulation = Accumulation(bucketCount: buckets.count)
        guard count > 0 else { return accumulation }
        let copies = Int(CRingboardSIMD_HISTOGRAM_COUNT_COPIES)
        var slots = [UInt32](repeating: 0, count: buckets.count * copies)
        var accumulator = CRingboardSIMD_histogram_accumulator()
        CRingboardSIMD_histogram_begin(&accumulator)
        buckets.withTable { table in
            var start = 0
            while start < count {
                let length = Swift.min(chunkLength, count - start)
                slots.withUnsafeMutableBufferPointer { kernel(start, length, table, $0.baseAddress!, &accumulator) }
                // Fold the copies into the counts and clear them for the next call.
                for bucket in 0..<buckets.count {
                    var total: UInt64 = 0
                    for copy in 0..<copies { total += UInt64(slots[bucket * copies + copy]) }
                    if total != 0 {
                        accumulation.counts[bucket] += Double(total)
                        for copy in 0..<copies { slots[bucket * copies + copy] = 0 }
                    }
                }
                start += length
            }
        }
        let totals = settledTotals(of: &accumulator, exactSums: exactSums)
        accumulation.sum = totals.sum
        accumulation.sumSquares = totals.sum_squares
        accumulation.min = totals.min
        accumulation.max = totals.max
        accumulation.nonFinite = totals.non_finite != 0
        return accumulation
    }

    /// Sum, sum of squares, min and max of `values` as the histogram computes them, without the
    /// buckets: the cost of the reductions alone, for benchmarks. Subnormals count as zero, and
    /// which zero a zero `min` or `max` is stays unsettled.
    ///
    /// - Parameters:
    ///   - values: The values.
    ///   - path: The vector path; one this CPU lacks falls back to the next narrower.
    /// - Returns: The totals, or `nil` when a value is NaN or infinite.
    @_spi(Benchmarks) public static func tensorFlowTotals(
        _ values: Span<Float>, path: VectorPath = .best
    ) -> (sum: Double, sumSquares: Double, min: Double, max: Double)? {
        let totals = values.withUnsafeBufferPointer { buffer in
            var accumulator = CRingboardSIMD_histogram_accumulator()
            CRingboardSIMD_histogram_begin(&accumulator)
            CRingboardSIMD_histogram_float_totals(buffer.baseAddress, buffer.count, Int32(path.rawValue), &accumulator)
            return settledTotals(of: &accumulator) { exact in
                CRingboardSIMD_histogram_float_exact_sums(buffer.baseAddress, buffer.count, exact)
            }
        }
        guard totals.non_finite == 0 else { return nil }
        return (totals.sum, totals.sum_squares, totals.min, totals.max)
    }
}
