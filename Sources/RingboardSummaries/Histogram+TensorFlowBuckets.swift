internal import CRingboardSIMD

extension Histogram {
    /// TensorFlow's default bucket limits, and the cell tables the vector kernels find buckets with.
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
    /// mantissa bits (see `CRingboardSIMD_histogram_table`). The cells run from one octave below the
    /// first limit to one octave above the last finite limit, so that the first and last cells, which
    /// everything smaller or larger is clamped into, hold no limit.
    ///
    /// The tables are built once, on first use, and only read afterwards.
    final class TensorFlowBuckets: @unchecked Sendable {  // immutable after init
        /// The shared instance.
        static let shared = TensorFlowBuckets()

        /// Every bucket limit, ascending: `-DBL_MAX`, …, `-1e-12`, `0`, `1e-12`, …, `DBL_MAX`.
        let limits: [Double]
        /// The index of the `0` limit (775): buckets of negative values lie below it.
        let zeroIndex: Int
        /// The positive limits, `1e-12` … `DBL_MAX` (`limits[(zeroIndex + 1)...]`).
        let positiveLimits: [Double]
        /// Cells per sign.
        let cellCount: Int
        /// `float` bits `>> 19` of the first cell's lower end.
        let floatKeyBase: UInt32
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
            positiveLimits = positive
            limits = positive.reversed().map { -$0 } + [0] + positive
            zeroIndex = positive.count

            let lowestExponent = Int(positive[0].exponent) - 1
            let highestExponent = Int(positive[positive.count - 2].exponent) + 1
            let cells = (highestExponent - lowestExponent + 1) * 16
            cellCount = cells
            floatKeyBase = Float(sign: .plus, exponent: lowestExponent, significand: 1).bitPattern >> 19
            doubleKeyBase = UInt32(Double(sign: .plus, exponent: lowestExponent, significand: 1).bitPattern >> 48)
            precondition(lowestExponent > Int(Float.leastNormalMagnitude.exponent))
            precondition(highestExponent < Int(Float.greatestFiniteMagnitude.exponent))

            floatEntries = .allocate(capacity: 2 * cells)
            doubleEntries = .allocate(capacity: 2 * cells)
            var below = 0  // positive limits below the current cell's lower end
            for cell in 0..<cells {
                let floatStart = (floatKeyBase + UInt32(cell)) << 19
                let doubleStart = UInt64(doubleKeyBase + UInt32(cell)) << 48
                let lowerEnd = Double(Float(bitPattern: floatStart))
                precondition(lowerEnd == Double(bitPattern: doubleStart))
                let upperEnd = Double(Float(bitPattern: floatStart + (1 << 19)))
                while positive[below] < lowerEnd { below += 1 }
                let limit = positive[below]
                precondition(below + 1 == positive.count || positive[below + 1] >= upperEnd, "a cell holds two limits")
                if cell == 0 || cell == cells - 1 { precondition(limit >= upperEnd, "a clamping cell holds a limit") }

                // Positive value x: bucket zeroIndex + 1 + (limits <= x); the cell's limit is passed
                // when x >= limit, i.e. when x reaches the smallest float (double) >= limit.
                // Negative value -x: bucket zeroIndex - (limits < x); the limit is passed when
                // x > limit, i.e. x reaches the smallest float (double) > limit. The kernels compare
                // complemented remainders for negative values, so that entry holds the complement.
                let positiveBucket = UInt32(zeroIndex + 1 + below)
                let negativeBucket = UInt32(zeroIndex - 1 - below)

                let floatAtLeast = Self.smallestFloat(atLeast: limit), floatAbove = Self.smallestFloat(above: limit)
                floatEntries[cell] = positiveBucket << 20 | Self.threshold(floatAtLeast, from: floatStart, width: 19)
                floatEntries[cells + cell] =
                    negativeBucket << 20 | (1 << 19) - Self.threshold(floatAbove, from: floatStart, width: 19)

                let doubleAtLeast = limit.bitPattern, doubleAbove = limit.bitPattern + 1
                doubleEntries[cell] =
                    UInt64(positiveBucket) << 49 | Self.threshold(doubleAtLeast, from: doubleStart, width: 48)
                doubleEntries[cells + cell] =
                    UInt64(negativeBucket) << 49 | (1 << 48) - Self.threshold(doubleAbove, from: doubleStart, width: 48)
            }
        }

        deinit {
            floatEntries.deallocate()
            doubleEntries.deallocate()
        }

        /// Bits of the smallest non-negative float whose value is at least `limit` (infinity when
        /// none is).
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

        /// Where `bits` lies inside the cell starting at `start`: `bits - start`, or `1 << width`
        /// when it lies beyond the cell (no value of the cell reaches it).
        private static func threshold<Bits: FixedWidthInteger & UnsignedInteger>(
            _ bits: Bits, from start: Bits, width: Int
        ) -> Bits {
            precondition(bits >= start)
            return Swift.min(bits - start, 1 << width)
        }

        /// Calls `body` with the table descriptor the C kernels take.
        ///
        /// - Warning: Do not escape the pointer from the closure for later use.
        func withTable<Result>(_ body: (UnsafePointer<CRingboardSIMD_histogram_table>) -> Result) -> Result {
            var table = CRingboardSIMD_histogram_table(
                float_entries: UnsafePointer(floatEntries.baseAddress),
                double_entries: UnsafePointer(doubleEntries.baseAddress),
                cell_count: UInt32(cellCount),
                float_key_base: floatKeyBase,
                double_key_base: doubleKeyBase,
                bucket_count: UInt32(limits.count))
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
