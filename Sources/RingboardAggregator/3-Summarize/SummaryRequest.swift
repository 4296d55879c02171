import RingboardFormat
import RingboardRecords
import RingboardSummaries

/// What a run's state machine (stage 2) asks stage 3 to write, once the Keras contract says it is
/// due. Batch scalars, the hot path, do not come this way: the state machine stages them in its
/// files (`RunFiles.stageBatchScalars`) directly.
enum SummaryRequest {
    /// Epoch-level scalars (`epoch_<name>`, `evaluation_<name>_vs_iterations`), each to
    /// `validation/` or `train/`, in their tag's form.
    case epochScalars([(tag: ScalarTag, validation: Bool, value: Float)], step: Int64, wallTime: Double)
    /// A histogram of every weight (and its images, with `images`) at `epoch`, in `train/`, as
    /// the callback of `semantics` writes them.
    case weights(RunModel, epoch: Int64, images: Bool, semantics: Semantics, wallTime: Double)
    /// `write_graph`: the GraphDef (if any) and the Keras model JSON (if any), at step 0 in `train/`.
    case graph(graphDef: [UInt8]?, kerasJSON: String?, wallTime: Double)
    /// The profiled batch: the trace file, and TF 2.0's run metadata at `step` in `train/` (only
    /// when there is a graph to draw).
    case profile(spans: [ProfileTrace.Span], startedAt: Double, step: Int64, graphDef: [UInt8]?, wallTime: Double)
    /// The projector's files for the Embedding layers; with `keepingTensors`, a TSV written
    /// before (at an embeddings epoch) stays as it is; with `inTrainRunToo`, the config is also
    /// written into `train/` (a `.perRank` run: `Projector.write`).
    case embeddings([(Projector.Embedding, [Float])], keepingTensors: Bool, inTrainRunToo: Bool)
    /// A `SummaryWriter` call's summary, in the run's directory (`subdirectory` empty) or a
    /// subdirectory of it, made as torch's `SummaryWriter` makes it.
    case summary(subdirectory: String, tag: String, step: Int64, wallTime: Double, value: SummaryValue)
    /// A `SummaryWriter` histogram of values mapped from a weight segment.
    case mappedHistogram(subdirectory: String, tag: String, step: Int64, wallTime: Double, values: WeightValues)
}
