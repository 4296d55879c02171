/// What a `SummaryWriter` call hands the aggregator: the summary's data, before the aggregator
/// makes it into an event (a histogram's buckets, an image's PNG, a text tensor).
public enum SummaryValue: Equatable, Sendable {
    /// `add_scalar`: a `simple_value`.
    case scalar(Double)
    /// `add_text`: markdown, written as the text plugin's string tensor.
    case text(String)
    /// `add_histogram` with `bins='tensorflow'`: the values, whose buckets the aggregator counts.
    case histogram(HistogramValues)
    /// `add_histogram_raw`: a histogram the caller counted.
    case rawHistogram(RawHistogram)
    /// `add_image`: `height × width × channels` bytes, row-major (HWC), 1, 3 or 4 channels.
    case image(height: Int, width: Int, channels: Int, pixels: [UInt8])
    /// `add_hparams`: the hyperparameters, the allowed values of some, and the metric tags.
    case hparams(HParamsSet)
    /// `add_custom_scalars`: the custom scalars dashboard's layout.
    case customScalars(CustomScalarsLayout)
    /// `add_pr_curve` and `add_pr_curve_raw`: 6 rows of `columns` values (true positives, false
    /// positives, true negatives, false negatives, precision, recall), row-major.
    case prCurve(numThresholds: Int, columns: Int, values: [Float])

    /// The kind byte of a summary record.
    var kind: UInt8 {
        switch self {
        case .scalar: 0
        case .text: 1
        case .histogram(.float): 2
        case .histogram(.double): 3
        case .histogram(.segment): 6
        case .rawHistogram: 4
        case .image: 5
        case .hparams: 7
        case .customScalars: 8
        case .prCurve: 9
        }
    }
}

/// Values to histogram, as the caller gave them (TensorBoard's histograms count them as doubles).
public enum HistogramValues: Equatable, Sendable {
    case float([Float])
    case double([Double])
    /// `count` Float32 values in weight segment `sequence` of the record's ring, from byte
    /// `offset`: written whole before the record was appended (large histograms).
    case segment(sequence: Int64, offset: UInt64, count: UInt64)
}

/// A histogram its caller counted (`add_histogram_raw`): TensorBoard's `HistogramProto` fields.
public struct RawHistogram: Equatable, Sendable {
    public var min: Double
    public var max: Double
    public var num: Double
    public var sum: Double
    public var sumSquares: Double
    /// The buckets' right edges, ascending.
    public var bucketLimits: [Double]
    /// The buckets' counts, one per limit.
    public var bucketCounts: [Double]

    public init(min: Double, max: Double, num: Double, sum: Double, sumSquares: Double, bucketLimits: [Double], bucketCounts: [Double]) {
        self.min = min
        self.max = max
        self.num = num
        self.sum = sum
        self.sumSquares = sumSquares
        self.bucketLimits = bucketLimits
        self.bucketCounts = bucketCounts
    }

    /// Why this histogram cannot be written, or `nil`: its lists differ in length or are empty,
    /// a field is not finite, a count negative, or a limit NaN.
    public var problem: String? {
        if bucketLimits.isEmpty { return "bucket_limits is empty" }
        if bucketLimits.count != bucketCounts.count {
            return "bucket_limits has \(bucketLimits.count) entries but bucket_counts \(bucketCounts.count)"
        }
        for (name, value) in [("min", min), ("max", max), ("num", num), ("sum", sum), ("sum_squares", sumSquares)] where !value.isFinite {
            return "\(name) is \(value)"
        }
        if bucketCounts.contains(where: { !$0.isFinite || $0 < 0 }) { return "a bucket count is negative or not finite" }
        if bucketLimits.contains(where: { $0.isNaN }) { return "a bucket limit is NaN" }
        return nil
    }
}

/// What `add_hparams` hands the aggregator, which writes TensorBoard's HParams plugin data.
public struct HParamsSet: Equatable, Sendable {
    /// A hyperparameter's value.
    public enum Value: Equatable, Sendable {
        case number(Double)
        case string(String)
        case bool(Bool)
    }

    /// A hyperparameter and its value.
    public struct Entry: Equatable, Sendable {
        public var name: String
        public var value: Value

        public init(name: String, value: Value) {
            self.name = name
            self.value = value
        }
    }

    /// The hyperparameters, in the caller's order.
    public var values: [Entry]
    /// The allowed values of some (`hparam_domain_discrete`), by name.
    public var discrete: [String: [Value]]
    /// The metric tags.
    public var metrics: [String]

    public init(values: [Entry], discrete: [String: [Value]] = [:], metrics: [String]) {
        self.values = values
        self.discrete = discrete
        self.metrics = metrics
    }
}

/// What `add_custom_scalars` hands the aggregator: categories of charts, each a multiline chart of
/// tags (regular expressions) or a margin chart of a value and its bounds.
public struct CustomScalarsLayout: Equatable, Sendable {
    public enum Content: Equatable, Sendable {
        case multiline([String])
        case margin(value: String, lower: String, upper: String)
    }

    public struct Chart: Equatable, Sendable {
        public var title: String
        public var content: Content

        public init(title: String, content: Content) {
            self.title = title
            self.content = content
        }
    }

    public struct Category: Equatable, Sendable {
        public var title: String
        public var charts: [Chart]

        public init(title: String, charts: [Chart]) {
            self.title = title
            self.charts = charts
        }
    }

    public var categories: [Category]

    public init(categories: [Category]) {
        self.categories = categories
    }
}
