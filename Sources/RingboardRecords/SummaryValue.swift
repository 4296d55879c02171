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
    /// `add_audio`: one channel of samples in [-1, 1] (louder ones are clipped), written as
    /// 16-bit WAV at `sampleRate` samples per second.
    case audio(sampleRate: Double, samples: AudioSamples)
    /// `add_mesh`: the mesh plugin's vertices, and its faces and colors if given.
    case mesh(MeshData)
    /// `add_graph`: a serialized `GraphDef` written as the run's graph, and a serialized
    /// `RunMetadata` (empty for none) written as tagged run metadata `step1`, as torch writes them.
    case graph(graphDef: [UInt8], runMetadata: [UInt8])
    /// `add_embedding`: the projector's files under `<run>/<step, 5 digits>/<tag>/`, and its
    /// entry in the run's `projector_config.pbtxt`.
    case embedding(EmbeddingData)
    /// A summary record too large for a ring record: its whole payload, `length` bytes, in
    /// weight segment `sequence` of the record's ring from byte `offset` (the aggregator reads
    /// it there and goes on as if it had come through the ring).
    case inSegment(sequence: Int64, offset: UInt64, length: UInt64)
    /// `add_scalar(new_style=True)`: the scalars plugin's one-value tensor, Float32 or with
    /// `doublePrecision` Float64.
    case tensorScalar(Double, doublePrecision: Bool)
    /// `purge_step`: a `SessionLog` START at the step, which tells TensorBoard's loader to drop
    /// the directory's events from that step on written before it (a restart from a checkpoint).
    case sessionStart

    /// Whether the value is only a reference into a weight segment (a segment histogram, or a
    /// summary carried whole in a segment).
    public var namesWeightSegment: Bool {
        switch self {
        case .histogram(.segment), .inSegment: true
        default: false
        }
    }

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
        case .audio(_, .float): 10
        case .audio(_, .double): 11
        case .mesh: 12
        case .graph: 13
        case .embedding: 14
        case .inSegment: 15
        case .tensorScalar: 16
        case .sessionStart: 17
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

/// Audio samples, as the caller gave them: torch scales Float32 samples in Float32 arithmetic
/// and Float64 ones in Float64, so the aggregator keeps their width.
public enum AudioSamples: Equatable, Sendable {
    case float([Float])
    case double([Double])

    /// The number of samples.
    public var count: Int {
        switch self {
        case .float(let samples): samples.count
        case .double(let samples): samples.count
        }
    }
}

/// What `add_mesh` hands the aggregator: up to three tensors of shape `[batch, count, 3]` (the
/// vertices' coordinates, the faces' vertex indices, the vertices' colors), written as the mesh
/// plugin's float tensors, and the Three.js configuration as JSON.
public struct MeshData: Equatable, Sendable {
    /// What a tensor holds: the mesh plugin's `MeshPluginData.ContentType`.
    public enum Content: UInt8, Equatable, Sendable, CaseIterable {
        case vertex = 1
        case face = 2
        case color = 3

        /// The name the plugin gives it, which ends the summary's tag (`<tag>_VERTEX`).
        public var name: String {
            switch self {
            case .vertex: "VERTEX"
            case .face: "FACE"
            case .color: "COLOR"
            }
        }
    }

    /// One tensor: `batch × count × 3` values, row-major.
    public struct Component: Equatable, Sendable {
        public var content: Content
        public var batch: Int
        public var count: Int
        public var values: [Float]

        public init(content: Content, batch: Int, count: Int, values: [Float]) {
            self.content = content
            self.batch = batch
            self.count = count
            self.values = values
        }
    }

    /// The tensors, vertices first, then faces and colors if given (torch's order).
    public var components: [Component]
    /// The Three.js configuration, JSON (`{}` for none).
    public var jsonConfig: String

    public init(components: [Component], jsonConfig: String = "{}") {
        self.components = components
        self.jsonConfig = jsonConfig
    }

    /// Why this mesh cannot be written, or `nil`: no vertices or not first, a content twice, a
    /// tensor whose values are not `batch × count × 3`, faces or colors of another batch.
    public var problem: String? {
        guard let first = components.first, first.content == .vertex else { return "a mesh starts with its vertices" }
        if Set(components.map(\.content)).count != components.count { return "a mesh has each of vertices, faces and colors at most once" }
        for component in components {
            let name = component.content.name.lowercased()
            guard component.batch > 0, component.count > 0 else { return "\(name) of shape [\(component.batch), \(component.count), 3] are empty" }
            let (size, overflow) = component.batch.multipliedReportingOverflow(by: component.count)
            guard !overflow, size <= component.values.count / 3, component.values.count == size * 3 else {
                return "\(component.values.count) \(name) values are not [\(component.batch), \(component.count), 3]"
            }
            guard component.batch == first.batch else { return "\(name) have a batch of \(component.batch), the vertices \(first.batch)" }
            if component.content == .color, component.count != first.count {
                return "\(component.count) colors for \(first.count) vertices"
            }
        }
        return nil
    }
}

/// What `add_embedding` hands the aggregator: a matrix of `rows` points of `columns` values, and
/// optionally each point's metadata (the TSV's text) and a sprite of the points' images.
public struct EmbeddingData: Equatable, Sendable {
    /// The label images tiled into one square RGB image: `side × side × 3` bytes, each image
    /// `imageHeight × imageWidth`.
    public struct Sprite: Equatable, Sendable {
        public var imageHeight: Int
        public var imageWidth: Int
        public var side: Int
        public var pixels: [UInt8]

        public init(imageHeight: Int, imageWidth: Int, side: Int, pixels: [UInt8]) {
            self.imageHeight = imageHeight
            self.imageWidth = imageWidth
            self.side = side
            self.pixels = pixels
        }
    }

    public var rows: Int
    public var columns: Int
    /// `rows × columns` values, row-major.
    public var values: [Float]
    /// `metadata.tsv`'s text, `nil` for none.
    public var metadata: String?
    public var sprite: Sprite?

    public init(rows: Int, columns: Int, values: [Float], metadata: String? = nil, sprite: Sprite? = nil) {
        self.rows = rows
        self.columns = columns
        self.values = values
        self.metadata = metadata
        self.sprite = sprite
    }

    /// Why this embedding cannot be written, or `nil`.
    public var problem: String? {
        guard rows > 0, columns > 0 else { return "an embedding of \(rows) × \(columns) is empty" }
        let (size, overflow) = rows.multipliedReportingOverflow(by: columns)
        guard !overflow, size == values.count else { return "\(values.count) values are not \(rows) × \(columns)" }
        if let sprite {
            guard sprite.imageHeight > 0, sprite.imageWidth > 0, sprite.side > 0 else { return "an empty sprite" }
            let (area, overflow) = sprite.side.multipliedReportingOverflow(by: sprite.side)
            guard !overflow, area <= sprite.pixels.count / 3, sprite.pixels.count == area * 3 else {
                return "\(sprite.pixels.count) sprite bytes are not \(sprite.side) × \(sprite.side) × 3"
            }
        }
        return nil
    }
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
