import RingboardRing

/// A weight's latest values as the aggregator holds them: an array of its own (sent piece by
/// piece in `weightValues` records), or the values where the trainer wrote them, in a weight
/// segment mapped read-only (`weightSegment` records): read in place by histograms and images,
/// and named, not copied, by the checkpoint's model file.
///
/// A mapped value keeps its segment mapped as long as it lives, also in a summary being made on
/// the pool, so a segment file removed meanwhile (no checkpoint names it any more) is still read
/// whole.
enum WeightValues: Sendable {
    /// The aggregator's own values.
    case owned([Float])
    /// `count` values from byte `offset` of `segment` (checked: `segment.contains(offset:count:)`).
    case mapped(WeightSegment, offset: Int, count: Int)

    /// A weight's values, checked against its segment.
    ///
    /// - Returns: `nil` when the values do not lie within the segment.
    static func inSegment(_ segment: WeightSegment, offset: Int, count: Int) -> WeightValues? {
        segment.contains(offset: offset, count: count) ? WeightValues.mapped(segment, offset: offset, count: count) : nil
    }

    /// The number of values.
    var count: Int {
        switch self {
        case .owned(let values): values.count
        case .mapped(_, _, let count): count
        }
    }

    /// The segment the values are in, if they are mapped.
    var segment: WeightSegment? {
        if case .mapped(let segment, _, _) = self { segment } else { nil }
    }

    /// Lends the values, in place.
    ///
    /// - Parameter body: Reads the values; they must not escape it.
    func withSpan<Result, Failure: Error>(_ body: (Span<Float>) throws(Failure) -> Result) throws(Failure) -> Result {
        switch self {
        case .owned(let values): try body(values.span)
        case .mapped(let segment, let offset, let count): try segment.withValues(offset: offset, count: count, body)
        }
    }

    /// The values as an array: the array itself, or a copy of mapped values.
    var array: [Float] {
        switch self {
        case .owned(let values): values
        case .mapped: withSpan { span in [Float](unsafeUninitializedCapacity: span.count) { buffer, initialized in
            span.withUnsafeBufferPointer { source in _ = buffer.initialize(fromContentsOf: source) }
            initialized = span.count
        } }
        }
    }

    /// Makes the values the aggregator's own (copying mapped ones) and lets `body` change them.
    mutating func update<Result>(_ body: (inout [Float]) -> Result) -> Result {
        var values = array
        self = .owned([])  // `values` is the array's only reference while `body` changes it
        defer { self = .owned(values) }
        return body(&values)
    }
}
