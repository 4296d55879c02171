internal import CRingboardSIMD

extension Histogram {
    /// TensorFlow's default bucket limits, and the cell tables the kernels find buckets with.
    ///
    /// The limits are those of `InitDefaultBucketsInner` in
    /// tensorflow/core/lib/histogram/histogram.cc: `v = 1e-12`, then `v *= 1.1` (in double) while
    /// `v < 1e20`, then `DBL_MAX`; the same negated, in ascending order; and 0 between the two.
    /// That makes 775 limits per sign and 1551 in all.
    ///
    /// The tables cut magnitudes into cells of 1/16 octave: the exponent and the top 4 mantissa
    /// bits. A cell spans a ratio of at most 1.0625, less than the 1.1 between limits, so it holds
    /// at most one limit (checked here). For each cell and sign an entry gives the bucket of the
    /// cell's lower end and where the limit inside the cell lies, as a threshold on the remaining
    /// mantissa bits (the format is described with `CRingboardSIMD_histogram_table`):
    /// - the `float` table has an entry for every sign, exponent and top 4 mantissa bits, so the
    ///   kernels index it with the value's bits `>> 19`, subnormals and all;
    /// - the `double` table has cells from one octave below the first limit to one octave above the
    ///   last finite one; the kernels clamp smaller and larger magnitudes into the first and last
    ///   cells, which hold no limit.
    ///
    /// The tables are built once, on first use, and only read afterwards.
    final class TensorFlowBuckets: @unchecked Sendable {  // immutable after init
        /// The shared instance.
        static let shared = TensorFlowBuckets()

        /// Every bucket limit, ascending: `-DBL_MAX`, …, `-1e-12`, `0`, `1e-12`, …, `DBL_MAX`.
        let limits: [Double]
        /// The index of the `0` limit (775): buckets of negative values lie below it.
        let zeroIndex: Int
        /// Cells per sign of the `double` table.
        let doubleCellCount: Int
        /// `double` bits `>> 48` of the first cell's lower end.
        let doubleKeyBase: UInt32

        private let floatEntries: UnsafeMutableBufferPointer<UInt32>
        private let doubleEntries: UnsafeMutableBufferPointer<UInt64>

        /// The number of buckets.
        var count: Int { limits.count }

        private init() {
            // histogram.cc, InitDefaultBucketsInner.
            var positive: [Double] = []
            var value = 1.0e-12
            while value < 1.0e20 {
                positive.append(value)
                value *= 1.1
            }
            positive.append(.greatestFiniteMagnitude)
            limits = positive.reversed().map { -$0 } + [0] + positive
            zeroIndex = positive.count
            floatEntries = .allocate(capacity: Int(CRingboardSIMD_HISTOGRAM_FLOAT_ENTRIES))
            let lowestExponent = Int(positive[0].exponent) - 1
            let highestExponent = Int(positive[positive.count - 2].exponent) + 1
            doubleCellCount = (highestExponent - lowestExponent + 1) * 16
            doubleKeyBase = UInt32(Double(sign: .plus, exponent: lowestExponent, significand: 1).bitPattern >> 48)
            doubleEntries = .allocate(capacity: 2 * doubleCellCount)
            buildFloatEntries(positive)
            buildDoubleEntries(positive)
        }

        deinit {
            floatEntries.deallocate()
            doubleEntries.deallocate()
        }

        /// How a cell of magnitudes `[lowerEnd, upperEnd)` meets the positive limits.
        private struct Cell {
            /// Positive limits below the cell.
            var below: Int
            /// The first limit at or above the cell's lower end: the only one the cell may hold.
            var limit: Double
        }

        private static func cell(_ positive: [Double], lowerEnd: Double, upperEnd: Double) -> Cell {
            var low = 0, high = positive.count  // the first limit >= lowerEnd; DBL_MAX always is
            while low < high {
                let middle = (low + high) / 2
                if positive[middle] < lowerEnd { low = middle + 1 } else { high = middle }
            }
            precondition(low + 1 == positive.count || positive[low + 1] >= upperEnd, "a cell holds two limits")
            return Cell(below: low, limit: positive[low])
        }

        /// `float_entries`: `slot << 19 | threshold`, slot = bucket × copies.
        ///
        /// A positive value x passes the cell's limit L (into bucket zeroIndex + 1 + below + 1) when
        /// x >= L, i.e. when it reaches the smallest float >= L. A negative value -x is in bucket
        /// zeroIndex - (limits < x): it passes L (one bucket down) when x > L, i.e. when it reaches
        /// the smallest float > L; the kernels compare complemented remainders for negative values,
        /// so that "not yet passed" becomes the step up from zeroIndex - 1 - below. A threshold of
        /// `1 << 19` can't be stored: a cell whose values never step gets the bucket below and
        /// threshold 0, so they always do.
        private func buildFloatEntries(_ positive: [Double]) {
            let copies = UInt32(CRingboardSIMD_HISTOGRAM_COUNT_COPIES)
            let cellWidth: UInt32 = 1 << 19
            func entry(bucket: Int, threshold: UInt32) -> UInt32 {
                threshold < cellWidth
                    ? UInt32(bucket) * copies << 19 | threshold
                    : UInt32(bucket - 1) * copies << 19
            }
            for index in 0..<Int(CRingboardSIMD_HISTOGRAM_FLOAT_ENTRIES) {
                let negative = index >> 12 == 1
                let start = UInt32(index & 0xfff) << 19  // the cell's first magnitude, as float bits
                let exponentBits = start >> 23
                if exponentBits == 0 {
                    // Zeros and subnormals: flushed to zero, they go above the 0 limit.
                    floatEntries[index] = entry(bucket: zeroIndex + 1, threshold: cellWidth)
                    continue
                }
                if exponentBits == 0xff {
                    // Infinities and NaNs are refused by the caller; any valid bucket will do.
                    floatEntries[index] = entry(bucket: zeroIndex, threshold: cellWidth)
                    continue
                }
                let cell = Self.cell(
                    positive, lowerEnd: Double(Float(bitPattern: start)),
                    upperEnd: Double(Float(bitPattern: start + cellWidth)))
                if negative {
                    let above = Self.smallestFloat(above: cell.limit) - start
                    precondition(above > 0)
                    floatEntries[index] = above < cellWidth
                        ? UInt32(zeroIndex - 1 - cell.below) * copies << 19 | (cellWidth - above)
                        : UInt32(zeroIndex - 1 - cell.below) * copies << 19  // every value steps
                } else {
                    let atLeast = Self.smallestFloat(atLeast: cell.limit) - start
                    floatEntries[index] = entry(bucket: zeroIndex + 1 + cell.below, threshold: atLeast)
                }
            }
        }

        /// `double_entries`: `bucket << 49 | threshold`, threshold `1 << 48` for "never"; positive
        /// cells, then negative ones, with the same rules as `buildFloatEntries`.
        private func buildDoubleEntries(_ positive: [Double]) {
            let cellWidth: UInt64 = 1 << 48
            for cellIndex in 0..<doubleCellCount {
                let start = UInt64(doubleKeyBase + UInt32(cellIndex)) << 48
                let cell = Self.cell(
                    positive, lowerEnd: Double(bitPattern: start), upperEnd: Double(bitPattern: start + cellWidth))
                if cellIndex == 0 || cellIndex == doubleCellCount - 1 {
                    precondition(cell.limit >= Double(bitPattern: start + cellWidth), "a clamping cell holds a limit")
                }
                let atLeast = Swift.min(cell.limit.bitPattern - start, cellWidth)
                let above = Swift.min(cell.limit.bitPattern + 1 - start, cellWidth)
                doubleEntries[cellIndex] = UInt64(zeroIndex + 1 + cell.below) << 49 | atLeast
                doubleEntries[doubleCellCount + cellIndex] = UInt64(zeroIndex - 1 - cell.below) << 49 | (cellWidth - above)
            }
        }

        /// Bits of the smallest float whose value is at least `limit` (infinity when none is).
        private static func smallestFloat(atLeast limit: Double) -> UInt32 {
            var candidate = Float(limit)
            if Double(candidate) < limit { candidate = candidate.nextUp }
            return candidate.bitPattern
        }

        /// Bits of the smallest float whose value is greater than `limit`.
        private static func smallestFloat(above limit: Double) -> UInt32 {
            var candidate = Float(limit)
            if Double(candidate) <= limit { candidate = candidate.nextUp }
            return candidate.bitPattern
        }

        /// Calls `body` with the table descriptor the C kernels take.
        ///
        /// - Warning: Do not escape the pointer from the closure for later use.
        func withTable<Result>(_ body: (UnsafePointer<CRingboardSIMD_histogram_table>) -> Result) -> Result {
            var table = CRingboardSIMD_histogram_table(
                float_entries: UnsafePointer(floatEntries.baseAddress),
                double_entries: UnsafePointer(doubleEntries.baseAddress),
                cell_count: UInt32(doubleCellCount),
                double_key_base: doubleKeyBase,
                bucket_count: UInt32(limits.count),
                reserved: 0)
            return withUnsafePointer(to: &table) { body($0) }
        }

        /// The bucket histogram.cc's `Histogram::Add` puts `value` in: the first limit greater than
        /// it (`std::upper_bound`), or the last bucket when none is. A binary search, for the
        /// reference implementation and the tests.
        func upperBound(_ value: Double) -> Int {
            var low = 0, high = limits.count
            while low < high {
                let middle = (low + high) / 2
                if limits[middle] > value { high = middle } else { low = middle + 1 }
            }
            return Swift.min(low, limits.count - 1)
        }
    }
}
