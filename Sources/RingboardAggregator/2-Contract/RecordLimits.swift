import RingboardRecords

/// What a record may ask of a run's state machine. Records are validated field by field when
/// they are decoded, but a value can be in range for its type and still be no count at all (a
/// batch size of NaN) or more than memory holds (a weight of 2^40 × 2^40 values): such values are
/// refused here, so that no trainer can make the aggregator trap.
enum RecordLimits {
    /// The most values one weight may hold (8 GiB of Float32).
    static let maximumWeightValues = 1 << 31

    /// A batch's `size` as a number of samples (fractions dropped, as before), or `nil` when it is
    /// not one: NaN, infinite, negative, or 2^53 and above.
    static func sampleCount(_ size: Double) -> Int64? {
        guard size.isFinite, size >= 0, size < 9_007_199_254_740_992 else { return nil }
        return Int64(size)
    }

    /// The number of values a weight of `shape` holds, or `nil` when a dimension is negative or
    /// the product overflows or passes `maximumWeightValues`.
    static func valueCount(_ shape: [Int]) -> Int? {
        WeightShape.elementCount(shape, limit: maximumWeightValues)
    }
}
