/// `update_freq`: when batch-level scalars are written. Under TF 2.0 an integer counts samples,
/// under Keras 3 batches (`Semantics`).
public enum UpdateFrequency: Equatable, Sendable {
    /// Only at epoch end.
    case epoch
    /// After every batch (`"batch"`, the same as `.samples(1)`).
    case batch
    /// Whenever this many samples (TF 2.0) have been seen since the last write; under Keras 3,
    /// at every train batch whose count from 1 this divides.
    case samples(Int64)
}

/// Whose `TensorBoard` callback a run writes as (DESIGN §2).
public enum Semantics: UInt8, Sendable, CustomStringConvertible {
    /// `tf.keras.callbacks.TensorBoard` of TensorFlow 2.0: `simple_value` scalars, TF 1
    /// histograms and images, `update_freq` in samples.
    case tf20 = 0
    /// `keras.callbacks.TensorBoard` of Keras 3 (3.15): TensorBoard 2.x tensor summaries,
    /// `update_freq` in batches under a recording condition, `epoch_learning_rate` and the
    /// evaluation summaries.
    case keras3 = 1
    /// Not a callback: a `SummaryWriter` (torch's and tensorboardX's), whose `summary` records
    /// are written as they come, into the run directory itself (or, for `add_scalars`, a
    /// subdirectory of it). The other arguments do not apply.
    case summaryWriter = 2

    /// `"tf2.0"`, `"keras3"` (as the Python callback's `semantics` argument spells them) or
    /// `"summary_writer"`.
    public var description: String {
        switch self {
        case .tf20: "tf2.0"
        case .keras3: "keras3"
        case .summaryWriter: "summary_writer"
        }
    }

    /// The semantics a name spells (`description`), or `nil`.
    public init?(name: String) {
        switch name {
        case "tf2.0": self = .tf20
        case "keras3": self = .keras3
        case "summary_writer": self = .summaryWriter
        default: return nil
        }
    }
}

/// `embeddings_metadata`: a metadata file for every Embedding layer, or one per layer name.
public enum EmbeddingsMetadata: Equatable, Sendable {
    /// One file for all Embedding layers.
    case all(String)
    /// A file per layer name.
    case perLayer([String: String])
}

/// How the runs of several ranks become event files (DESIGN §3).
public enum RankPolicy: UInt8, Sendable {
    /// Rank 0's hooks only, as Keras writes.
    case chief = 0
    /// One merged hook per step: sizes summed, metrics size-weighted.
    case mean = 1
    /// Each rank a run of its own under `rank_<r>/`.
    case perRank = 2
}

/// The TensorBoard callback's arguments, in Swift spelling.
public struct TensorBoardArguments: Equatable, Sendable {
    /// The run's directory. A run announcement carries it absolute and normalized: the trainer
    /// resolves `log_dir` against its working directory, as Keras does (`HookRecord.runDirectory`).
    public var logDirectory: String
    /// Write weight histograms every this many epochs (0: never).
    public var histogramFrequency: Int64
    /// Write the model graph.
    public var writeGraph: Bool
    /// Write weights as images too (with histograms).
    public var writeImages: Bool
    /// When batch scalars are written.
    public var updateFrequency: UpdateFrequency
    /// The batch to profile (0: none; TF 2.0 counts from 1).
    public var profileBatch: Int64
    /// Write embeddings every this many epochs (0: never).
    public var embeddingsFrequency: Int64
    /// Metadata files for the projector.
    public var embeddingsMetadata: EmbeddingsMetadata?
    /// Whose callback the run writes as.
    public var semantics: Semantics

    /// The arguments, with TF 2.0's defaults.
    ///
    /// - Parameters:
    ///   - logDirectory: `log_dir` (absolute in a run announcement: `HookRecord.runDirectory(_:in:)`).
    ///   - histogramFrequency: `histogram_freq`.
    ///   - writeGraph: `write_graph`.
    ///   - writeImages: `write_images`.
    ///   - updateFrequency: `update_freq`.
    ///   - profileBatch: `profile_batch`.
    ///   - embeddingsFrequency: `embeddings_freq`.
    ///   - embeddingsMetadata: `embeddings_metadata`.
    ///   - semantics: Whose callback the run writes as.
    public init(
        logDirectory: String = "logs", histogramFrequency: Int64 = 0, writeGraph: Bool = true, writeImages: Bool = false,
        updateFrequency: UpdateFrequency = .epoch, profileBatch: Int64 = 2, embeddingsFrequency: Int64 = 0,
        embeddingsMetadata: EmbeddingsMetadata? = nil, semantics: Semantics = .tf20
    ) {
        self.logDirectory = logDirectory
        self.histogramFrequency = histogramFrequency
        self.writeGraph = writeGraph
        self.writeImages = writeImages
        self.updateFrequency = updateFrequency
        self.profileBatch = profileBatch
        self.embeddingsFrequency = embeddingsFrequency
        self.embeddingsMetadata = embeddingsMetadata
        self.semantics = semantics
    }
}

/// Which of the batch hooks.
public enum BatchPhase: UInt8, Sendable {
    case train = 0, test = 1, predict = 2
}

/// The hooks other than the batch hooks.
public enum HookKind: UInt8, Sendable {
    case trainBegin = 0, trainEnd = 1, epochBegin = 2, epochEnd = 3
    case testBegin = 4, testEnd = 5, predictBegin = 6, predictEnd = 7
}

/// One entry of a hook's `logs`: a metric (by the number its name was given) and its value.
public struct MetricValue: Equatable, Sendable {
    /// The metric's number (see `HookRecord.metricName`).
    public var metric: UInt32
    /// Its value.
    public var value: Double

    /// Creates a log entry.
    ///
    /// - Parameters:
    ///   - metric: The metric's number.
    ///   - value: Its value.
    public init(metric: UInt32, value: Double) {
        self.metric = metric
        self.value = value
    }
}

/// A hook record: what a trainer tells the aggregator, in the ring.
public enum HookRecord: Equatable, Sendable {
    /// A run begins: its number within the producer, the rank, the world size, the policy and
    /// the TensorBoard arguments.
    case runAnnouncement(run: UInt32, rank: UInt32, worldSize: UInt32, policy: RankPolicy, arguments: TensorBoardArguments)
    /// Metric number `metric` of `run` is called `name` (e.g. `loss`, `val_acc`, `size`).
    case metricName(run: UInt32, metric: UInt32, name: String)
    /// A batch hook: `on_<phase>_batch_<begin|end>(batch, logs)`, fired at `wallTime`
    /// (nanoseconds since the Unix epoch, `HookClock`).
    case batch(run: UInt32, phase: BatchPhase, isEnd: Bool, batch: Int64, logs: [MetricValue], wallTime: Int64)
    /// Another hook, with its index (the epoch for epoch hooks, else 0) and logs, fired at
    /// `wallTime`.
    case hook(run: UInt32, kind: HookKind, index: Int64, logs: [MetricValue], wallTime: Int64)
    /// `set_params(params)`, as a JSON object.
    case parameters(run: UInt32, json: String)
    /// `set_model(model)`: the description as JSON, and a serialized GraphDef (may be empty),
    /// called at `wallTime`.
    case model(run: UInt32, json: String, graphDef: [UInt8], wallTime: Int64)
    /// Values `offset ..< offset + values.count` of weight `weight` (of `total`), as of `version`.
    case weightValues(run: UInt32, weight: UInt32, version: UInt64, offset: UInt64, total: UInt64, values: [Float])
    /// A span for the profiler: a name, its start (ns since the Unix epoch), its duration (ns), and
    /// the thread it ran on.
    case span(run: UInt32, name: String, start: Int64, duration: Int64, thread: UInt64)
    /// All `count` values of weight `weight`, as of `version`, in weight segment `segment` of
    /// the record's ring, from byte `offset` of the segment file: written whole before this
    /// record was appended.
    case weightSegment(run: UInt32, weight: UInt32, version: UInt64, segment: Int64, offset: UInt64, count: UInt64)
    /// A `SummaryWriter` call: `value` under the tag named by number `tag` (numbered as metric
    /// names are, by `metricName`), at `step` and `wallTime` (seconds since the Unix epoch, as the
    /// caller gave or read it), in the run's directory, or in its subdirectory named by number
    /// `directory` (`add_scalars`).
    case summary(run: UInt32, tag: UInt32, directory: UInt32?, step: Int64, wallTime: Double, value: SummaryValue)

    /// The ring record type that carries this record.
    public var type: UInt16 {
        switch self {
        case .runAnnouncement: RecordType.runAnnouncement
        case .metricName: RecordType.metricName
        case .batch: RecordType.batch
        case .hook: RecordType.hook
        case .parameters: RecordType.parameters
        case .model: RecordType.model
        case .weightValues: RecordType.weightValues
        case .span: RecordType.span
        case .weightSegment: RecordType.weightSegment
        case .summary: RecordType.summary
        }
    }

    /// The longest string a record carries (names, paths; JSON text is bounded by the record).
    public static let maximumNameLength = 4096

    /// The most processes that may train together in one run. The `.mean` policy waits for every
    /// rank of the world, so a world of billions (a forged or broken announcement) would stall the
    /// aggregator; 65 536 ranks is far beyond what one node's aggregator serves.
    public static let maximumWorldSize = 1 << 16
}
