import Foundation
import Logging
import RingboardFormat
import RingboardRecords
import RingboardRing
import RingboardSummaries

/// Stage 2: the `TensorBoard` callback's state machine for one output run directory (DESIGN
/// §2): TF 2.0's, or Keras 3's under `Semantics.keras3` (`RunMachine+Keras3.swift`). It takes
/// the hooks of the rank that drives the run (or of several ranks, merged by a `MeanMerger`)
/// and decides, as the callback would, what is written and when: batch scalars every
/// `update_freq` samples (Keras 3: batches), epoch scalars, histograms and images every
/// `histogram_freq` epochs, embeddings, the graph, the profiled batch. What is due goes to stage
/// 3 as a `SummaryRequest`; batch scalars are staged in the run's files directly.
///
/// - Warning: Not thread-safe; the aggregator's thread owns it.
struct RunMachine {
    /// The run directory, absolute.
    var directory: String { files.directory }
    let arguments: TensorBoardArguments
    let logger: Logger
    private let summaries: SummaryMaker

    // TF 2.0 callback state.
    private(set) var samplesSeen: Int64 = 0
    private(set) var samplesSeenAtLastWrite: Int64 = 0
    private(set) var totalBatchesSeen: Int64 = 0
    /// The profiled batch's trace while it is taken.
    var trace: Trace?
    /// Keras 3 callback state (`Semantics.keras3`).
    var keras3 = Keras3State()

    /// The spans of the profiled batch, from when tracing started.
    struct Trace {
        var startedAt: Double
        var spans: [ProfileTrace.Span] = []
    }

    /// The run's metric names as slots, and the driving producer's metric numbers.
    private(set) var slots: MetricSlots
    private(set) var numbering = MetricNumbering()
    /// Epoch scalar destinations by metric name (under Keras 3, by tag).
    var epochScalars: [String: ScalarDestination] = [:]
    /// What the last batch hook's slots write.
    private var plan = BatchPlan()
    /// Logs storage reused hook after hook.
    private var scratchLogs = SlotLogs()
    private(set) var model: RunModel?
    /// Counts changes to `model`, so a checkpoint rewrites it only when it changed.
    private(set) var modelVersion = 0
    /// The graph `graphDef(of:)` worked out for `model`, until `set_model` replaces it.
    private var runGraph: [UInt8]?
    /// A `SummaryWriter` run's producers (ring and run number): each numbers its names itself,
    /// and several may write one directory (`RunMachine+SummaryWriter.swift`).
    var writers: [WriterState] = []
    var writerSlots: [WriterKey: Int] = [:]
    /// The producer of the last summary, whose slot is `lastWriterSlot`.
    var lastWriter = WriterKey(ring: "", run: .max)
    var lastWriterSlot = -1
    /// A `SummaryWriter` run under `.mean`: the scalars waiting for ranks.
    var means: SummaryMeans?
    /// Stage 4: the run's event files.
    var files: RunFiles
    private(set) var finished = false

    /// - Parameters:
    ///   - directory: The run directory, absolute: `arguments.logDirectory`, or below it.
    ///   - logRoot: The aggregator's log root, which `directory` lies in; `nil` for none.
    ///   - summaries: Stage 3.
    ///   - fileCreated: Told every event file and trace before it is written.
    init(
        directory: String, arguments: TensorBoardArguments, logRoot: String?, summaries: SummaryMaker,
        fileCreated: @escaping (String) -> Void
    ) {
        self.arguments = arguments
        self.logger = summaries.logger
        self.summaries = summaries
        self.slots = MetricSlots(semantics: arguments.semantics)
        self.files = RunFiles(directory: directory, root: logRoot ?? arguments.logDirectory, host: summaries.host,
                              logger: summaries.logger, fileCreated: fileCreated)
    }

    // MARK: Hooks

    /// A record of this run's driving producer other than a batch hook (those come as
    /// `BatchRecord`s, to `apply(_:)` of one).
    mutating func apply(_ record: HookRecord) throws(EventFileError) {
        guard !finished else { return }
        switch record {
        case .runAnnouncement, .parameters:
            break
        case .batch:
            // Never sent here: stage 1 decodes batch hooks into `BatchRecord`s only, and a
            // checkpoint refuses to hold one as a record (`StateDecoder.record`).
            break
        case .metricName(_, let metric, let name):
            numbering.name(metric, name, slot: slots.slot(named: name))
        case .model(_, let json, let graphDef, let wallTime):
            setModel(json: json, graphDef: graphDef)
            if arguments.semantics == .keras3 {
                try keras3ModelSummary(wallTime: HookClock.seconds(wallTime))
            } else {
                try writeGraph(wallTime: HookClock.seconds(wallTime))
            }
            // TF 2.0 writes the projector config when the model is set (`_configure_embeddings`);
            // the values it shows are the last embeddings epoch's (the checkpoint `_log_embeddings`
            // saved), so a TSV written at one stays: set_model comes again with every fit,
            // evaluate and predict.
            if arguments.embeddingsFrequency > 0 { try writeEmbeddings(keepingTensors: true) }
        case .weightValues(_, let weight, _, let offset, _, let values):
            if model?.setValues(weight: Int(weight), offset: Int(clamping: offset), values) == true { modelVersion += 1 }
        case .weightSegment:
            // Never sent here: stage 1 maps the segment a record names and hands the values to
            // `setWeight(_:_:)`.
            break
        case .span(_, let name, let start, let duration, let thread):
            trace?.spans.append(ProfileTrace.Span(
                name: name, category: "user", startMicroseconds: Double(start) / 1000,
                durationMicroseconds: Double(duration) / 1000, processID: 0, threadID: Int(truncatingIfNeeded: thread)))
        case .summary:
            break  // a `SummaryWriter` run's, which come to `apply(_:from:)`
        case .hook(_, let kind, let index, let logs, let wallTime):
            try hook(kind, index: index, logs: logs.compactMap { entry in numbering.names[entry.metric].map { ($0, entry.value) } },
                     wallTime: HookClock.seconds(wallTime))
        }
    }

    /// Every value of weight `number` (counting every layer's weights in order), mapped where the
    /// trainer wrote them: kept as they are, not copied. Values that are not as many as the
    /// weight holds are ignored, as a record's that do not fit it are.
    mutating func setWeight(_ number: Int, _ values: WeightValues) {
        guard !finished else { return }
        if model?.setValues(weight: number, values) == true { modelVersion += 1 }
    }

    /// A batch hook of this run's driving producer: its metric numbers as slots, without
    /// allocating while hooks repeat their metrics. A metric never named is left out.
    /// The record's values are lent to the logs and given back, so the hook counts no reference.
    mutating func apply(_ record: inout BatchRecord) throws(EventFileError) {
        guard !finished else { return }
        let (phase, isEnd, batch) = (record.phase, record.isEnd, record.batch)
        let wallTime = HookClock.seconds(record.wallTime)
        if record.metrics == numbering.lastMetrics {
            var values: [Double] = []
            record.swapValues(with: &values)
            var logs = SlotLogs()
            logs.exchange(slots: &numbering.lastSlots, values: &values)
            defer {
                logs.exchange(slots: &numbering.lastSlots, values: &values)
                record.swapValues(with: &values)
            }
            try batchHook(phase, isEnd: isEnd, batch: batch, logs: logs, wallTime: wallTime)
            return
        }
        let (metrics, values) = (record.metrics, record.values)
        var logs = scratchLogs
        scratchLogs = SlotLogs()
        logs.removeAll()
        var allNamed = true
        for index in metrics.indices {
            let slot = numbering.slot(of: metrics[index])
            if slot >= 0 { logs.append(slot, values[index]) } else { allNamed = false }
        }
        // Hook after hook the producer sends the same metrics: their slots are looked up once.
        if allNamed { numbering.remember(metrics, slots: logs.slots) }
        try batchHook(phase, isEnd: isEnd, batch: batch, logs: logs, wallTime: wallTime)
        scratchLogs = logs
    }

    /// A batch hook (a single rank's, or several ranks' merged), its logs as slots, fired at
    /// `wallTime` (seconds since the Unix epoch): what it writes carries that time.
    mutating func batchHook(_ phase: BatchPhase, isEnd: Bool, batch: Int64, logs: borrowing SlotLogs, wallTime: Double) throws(EventFileError) {
        guard !finished else { return }
        // The hook is in the trace that is open when it fires: an end hook before the trace it
        // ends is exported, a begin hook after the trace it begins (Keras 3's) is opened.
        if isEnd { traceHook(phase, isEnd: isEnd, batch: batch, wallTime: wallTime) }
        if arguments.semantics == .keras3 {
            try keras3BatchHook(phase, isEnd: isEnd, logs: logs, wallTime: wallTime)
        } else if phase == .train && isEnd {
            try trainBatchEnd(logs: logs, wallTime: wallTime)
        }
        if !isEnd { traceHook(phase, isEnd: isEnd, batch: batch, wallTime: wallTime) }
    }

    /// A batch hook as an instant of the open trace, if one is open.
    private mutating func traceHook(_ phase: BatchPhase, isEnd: Bool, batch: Int64, wallTime: Double) {
        guard trace != nil else { return }
        trace!.spans.append(ProfileTrace.Span(
            name: "on_\(phase)_batch_\(isEnd ? "end" : "begin")", category: "hook", startMicroseconds: wallTime * 1e6,
            durationMicroseconds: 0, processID: 0, threadID: 0, arguments: [("batch", "\(batch)")]))
    }

    /// Any other hook, with its logs by name, fired at `wallTime`.
    mutating func hook(_ kind: HookKind, index: Int64, logs: [(String, Double)], wallTime: Double) throws(EventFileError) {
        guard !finished else { return }
        if arguments.semantics == .keras3 {
            try keras3Hook(kind, index: index, logs: logs, wallTime: wallTime)
            return
        }
        switch kind {
        case .trainBegin:
            // TF 2.0: profile_batch == 1 starts tracing before the first batch.
            if arguments.profileBatch == 1 { trace = Trace(startedAt: wallTime) }
        case .epochEnd:
            try epochEnd(index, logs: logs, wallTime: wallTime)
        case .trainEnd:
            // TF 2.0 closes its writers; a later fit() with the same callback opens new files,
            // and the counters go on.
            if trace != nil { try exportTrace(step: totalBatchesSeen, wallTime: wallTime) }
            try closeFiles()
        case .epochBegin, .testBegin, .testEnd, .predictBegin, .predictEnd:
            break  // nothing is written
        }
    }

    /// `on_train_batch_end` (TF 2.0): count samples, write batch scalars when `update_freq`
    /// samples have passed, count the batch, then the profile window.
    private mutating func trainBatchEnd(logs: borrowing SlotLogs, wallTime: Double) throws(EventFileError) {
        updatePlan(logs)
        var size: Int64 = 1  // TF 2.0: logs.get('size', 1)
        if plan.sizeIndex >= 0 {
            let value = logs.values[plan.sizeIndex]
            if let count = RecordLimits.sampleCount(value) {
                size = count
            } else {
                logger.warning("batch size is not a count of samples: counted as 1", metadata: ["run": "\(directory)", "size": "\(value)"])
            }
        }
        samplesSeen = samplesSeen.addingReportingOverflow(size).overflow ? .max : samplesSeen + size
        let frequency: Int64? = switch arguments.updateFrequency {
        case .epoch: nil
        case .batch: 1
        case .samples(let count): count  // TF 2.0: samples, not batches
        }
        if let frequency, samplesSeen - samplesSeenAtLastWrite >= frequency {
            try files.stageBatchScalars(plan, logs.values, step: totalBatchesSeen, wallTime: wallTime, tags: slots.batchTags)
            samplesSeenAtLastWrite = samplesSeen
        }
        totalBatchesSeen += 1
        if trace != nil {
            try exportTrace(step: totalBatchesSeen, wallTime: wallTime)
        } else if arguments.profileBatch > 0 && totalBatchesSeen == arguments.profileBatch - 1 {
            trace = Trace(startedAt: wallTime)
        }
    }

    /// Works out what a batch hook of `logs`' slots writes, unless the last one had the same slots.
    private mutating func updatePlan(_ logs: borrowing SlotLogs) {
        if logs.slots != plan.slots { plan = BatchPlan(logs.slots, slots) }
    }

    /// Stages the batch scalars of `logs` at `step`, as the slots say where they go.
    mutating func stageBatchScalars(_ logs: borrowing SlotLogs, step: Int64, wallTime: Double) throws(EventFileError) {
        updatePlan(logs)
        try files.stageBatchScalars(plan, logs.values, step: step, wallTime: wallTime, tags: slots.batchTags)
    }

    /// `on_epoch_end` (TF 2.0): epoch scalars at the epoch (update_freq 'epoch') or at the samples
    /// seen, then histograms/images and embeddings when their frequency divides the epoch.
    private mutating func epochEnd(_ epoch: Int64, logs: [(String, Double)], wallTime: Double) throws(EventFileError) {
        let step = arguments.updateFrequency == .epoch ? epoch : samplesSeen
        // As the callback's `_log_metrics`: `batch`, `size` and `num_steps` are never written;
        // `val_<name>` goes to `validation/` as `epoch_<name>`, the rest to `train/`.
        var scalars: [(tag: ScalarTag, validation: Bool, value: Float)] = []
        for (name, value) in logs {
            let destination: ScalarDestination
            if let known = epochScalars[name] {
                destination = known
            } else {
                destination = ScalarDestination(name: name, prefix: "epoch_")
                epochScalars[name] = destination
            }
            if let tag = destination.tag { scalars.append((tag, destination.validation, Float(value))) }
        }
        try request(.epochScalars(scalars, step: step, wallTime: wallTime))
        if arguments.histogramFrequency > 0 && epoch % arguments.histogramFrequency == 0, let model {
            try request(.weights(model, epoch: epoch, images: arguments.writeImages, semantics: .tf20, wallTime: wallTime))
        }
        if arguments.embeddingsFrequency > 0 && epoch % arguments.embeddingsFrequency == 0 {
            try writeEmbeddings(keepingTensors: false)
        }
    }

    mutating func request(_ request: SummaryRequest) throws(EventFileError) {
        try summaries.make(request, in: &files, tags: slots.batchTags)
    }

    // MARK: Slots

    /// The slot of metric name `name` in this run, made when it is new.
    mutating func slot(named name: String) -> Int32 { slots.slot(named: name) }

    /// Logs by name as this run's slots.
    mutating func slotLogs(_ logs: [(String, Double)]) -> SlotLogs { slots.slotLogs(logs) }

    /// Logs as slots, by name.
    func namedLogs(_ logs: borrowing SlotLogs) -> [(String, Double)] { slots.namedLogs(logs) }

    // MARK: Model

    private mutating func setModel(json: String, graphDef: [UInt8]) {
        guard let model = RunModel(json: json, graphDef: graphDef, run: directory, logger: logger) else { return }
        self.model = model
        runGraph = nil
        modelVersion += 1
    }

    /// `write_graph`: a GraphDef (the one given, else one made from the layers) and the Keras model
    /// as tag `keras`, at step 0 in `train/`.
    private mutating func writeGraph(wallTime: Double) throws(EventFileError) {
        guard arguments.writeGraph, let model else { return }
        let json = model.modelJSON ?? KerasModelGraph.sequentialJSON(
            name: model.name, layers: model.layers.map { KerasModelGraph.Layer(name: $0.name, className: $0.className, configJSON: $0.configJSON) })
        try request(.graph(graphDef: graphDef(of: model), kerasJSON: json, wallTime: wallTime))
    }

    mutating func writeEmbeddings(keepingTensors: Bool) throws(EventFileError) {
        guard let model else { return }
        var embeddings: [(Projector.Embedding, [Float])] = []
        for layer in model.layers where layer.className == "Embedding" {
            // A TSV needs at least one column and values that fill the rows.
            guard let weight = layer.weights.first, weight.shape.count == 2, weight.shape[1] > 0,
                  RecordLimits.valueCount(weight.shape) == weight.values.count
            else { continue }
            let metadata: String? = switch arguments.embeddingsMetadata {
            case nil: nil
            case .all(let path): path
            case .perLayer(let files): files[layer.name]
            }
            embeddings.append((Projector.Embedding(tensorName: weight.name, rows: weight.shape[0], columns: weight.shape[1],
                                                   metadataPath: metadata), weight.values.array))
        }
        // A `.perRank` run's directory is `rank_<r>/` below the callback's log_dir, which is
        // where TensorBoard is started: the projector finds a config there only in `train/`.
        try request(.embeddings(embeddings, keepingTensors: keepingTensors, inTrainRunToo: directory != arguments.logDirectory))
    }

    /// The GraphDef given with the model when it parses and has nodes; else a node per layer, from
    /// the model JSON when there is one (TF 2.0 writes the op graph of the model here). Worked out
    /// once per `set_model` (`write_graph` and every profiled batch write it).
    mutating func graphDef(of model: RunModel) -> [UInt8] {
        if let runGraph { return runGraph }
        let graph = makeGraphDef(of: model)
        runGraph = graph
        return graph
    }

    private func makeGraphDef(of model: RunModel) -> [UInt8] {
        if !model.graphDef.isEmpty {
            do {
                if try GraphDefCheck.nodeCount(in: model.graphDef) > 0 { return model.graphDef }
                logger.error("the model's GraphDef has no nodes: a graph of its layers is written instead",
                             metadata: ["run": "\(directory)"])
            } catch {
                logger.error("the model's GraphDef does not parse: a graph of its layers is written instead",
                             metadata: ["run": "\(directory)", "reason": "\(error)"])
            }
        }
        let parsed = model.modelJSON.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let layers = parsed.flatMap(LayerGraph.layers(modelJSON:))
            ?? LayerGraph.sequential(model.layers.map { (name: $0.name, className: $0.className) })
        return LayerGraph.graphDef(layers)
    }

    /// The trace of the profiled batch, named `batch_<step>` at `step` (TF 2.0: the total batches
    /// seen; Keras 3: the profiled batch): the trace file, and in `train/` TF 2.0's
    /// `graph_run_metadata` value whose function graph is the run's graph (the one `write_graph`
    /// writes). Without a model there is no graph to draw, and
    /// TensorBoard's Graphs dashboard shows an error for a tag without one ("The graph is empty"),
    /// so then only the trace file is written.
    mutating func exportTrace(step: Int64, wallTime: Double) throws(EventFileError) {
        guard let taken = trace else { return }
        trace = nil
        let graph = model.map { graphDef(of: $0) }
        try request(.profile(spans: taken.spans, startedAt: taken.startedAt, step: step, graphDef: graph, wallTime: wallTime))
    }

    // MARK: Files

    /// Hands the staged batch scalars to their writers (the aggregator, after each poll).
    mutating func handOverScalars() throws(EventFileError) {
        try files.handOverScalars(tags: slots.batchTags)
    }

    /// Whether batch scalars are staged.
    var hasStagedScalars: Bool { files.hasStagedScalars }

    /// Writes everything buffered (a removed file is continued in a new one).
    mutating func flush() throws(EventFileError) {
        try writeMeans(all: false)
        try files.flush(tags: slots.batchTags)
    }

    /// Closes (and fsyncs) the event files; the next write opens new ones. Files that cannot be
    /// closed stay open, so closing can be tried again.
    mutating func closeFiles() throws(EventFileError) {
        try files.close(tags: slots.batchTags)
    }

    /// The run's producer is gone: its files are closed, later records are ignored, and what
    /// only further hooks would need is let go.
    mutating func finish() throws(EventFileError) {
        guard !finished else { return }
        // `.mean` scalars still waiting: the mean of the ranks that logged them.
        try writeMeans(all: true)
        finished = true
        model = nil
        runGraph = nil
        trace = nil
        try closeFiles()
    }
}

// MARK: Checkpoint

extension RunMachine {
    /// The run's state as of the last record handled, with its event files' lengths (flush first:
    /// nothing may be buffered). The model goes separately (`RunModel.encode`), named by `modelFile`.
    func encode(into state: inout StateEncoder, modelFile: String?) {
        state.string(directory)
        state.arguments(arguments)
        state.integer(samplesSeen)
        state.integer(samplesSeenAtLastWrite)
        state.integer(totalBatchesSeen)
        state.bool(trace != nil)
        state.double(trace?.startedAt ?? 0)
        state.array(trace?.spans ?? []) { state, span in
            state.string(span.name)
            state.string(span.category)
            state.double(span.startMicroseconds)
            state.double(span.durationMicroseconds)
            state.int(span.processID)
            state.int(span.threadID)
            state.array(span.arguments) { state, argument in
                state.string(argument.0)
                state.string(argument.1)
            }
        }
        state.array(numbering.names.sorted { $0.key < $1.key }) { state, entry in
            state.integer(entry.key)
            state.string(entry.value)
        }
        state.array(files.checkpoint) { state, file in
            state.string(file.subdirectory)
            state.string(file.path)
            state.integer(file.length)
        }
        state.integer(keras3.globalTrainBatch)
        state.integer(keras3.globalTestBatch)
        state.array(keras3.conditions) { $0.bool($1) }
        state.optionalString(modelFile)
    }

    /// A `SummaryWriter` run's producers and their names (`RunTable.encode` saves them after
    /// everything else, so that a state without them reads as one with none).
    func encodeWriters(into state: inout StateEncoder) {
        state.bool(means != nil)
        if let means {
            state.int(means.worldSize)
            state.array(means.gone.sorted()) { $0.int($1) }
            state.array(means.pending.sorted { ($0.key.step, $0.key.sink, $0.key.tag) < ($1.key.step, $1.key.sink, $1.key.tag) }) { state, entry in
                state.string(files.summarySinkName(entry.key.sink))
                state.string(files.summaryTags[Int(entry.key.tag)].tag)
                state.integer(entry.key.step)
                state.double(entry.value.sum)
                state.array(entry.value.ranks.sorted()) { $0.int($1) }
                state.double(entry.value.wallTime)
                state.bool(entry.value.fromRankZero)
            }
        }
        state.array(writerSlots.sorted { ($0.key.ring, $0.key.run) < ($1.key.ring, $1.key.run) }) { state, entry in
            state.string(entry.key.ring)
            state.integer(entry.key.run)
            state.int(writers[entry.value].rank)
            state.array(writers[entry.value].names.sorted { $0.key < $1.key }) { state, name in
                state.integer(name.key)
                state.string(name.value)
            }
        }
    }

    /// Restores what `encodeWriters` saved.
    mutating func restoreWriters(from state: inout StateDecoder) throws(AggregatorError) {
        if try state.bool() {
            let worldSize = try state.int()
            guard worldSize >= 1, worldSize <= HookRecord.maximumWorldSize else { throw .malformed("SummaryWriter mean of world size \(worldSize)") }
            var means = SummaryMeans(worldSize: worldSize)
            means.gone = Set(try state.array { (state: inout StateDecoder) throws(AggregatorError) in try state.int() })
            let since = ContinuousClock.now - SummaryMeans.clockOrigin
            for _ in 0..<(try state.count()) {
                let sink = files.summarySink(try state.string())
                let tag = files.summaryTag(try state.string())
                let step: Int64 = try state.integer()
                let sum = try state.double()
                let ranks = Set(try state.array { (state: inout StateDecoder) throws(AggregatorError) in try state.int() })
                means.pending[SummaryMeans.Key(sink: sink, tag: tag, step: step)] = SummaryMeans.Pending(
                    sum: sum, ranks: ranks, wallTime: try state.double(), fromRankZero: try state.bool(), since: since)
            }
            self.means = means
        }
        for _ in 0..<(try state.count()) {
            let key = WriterKey(ring: try state.string(), run: try state.integer())
            let rank = try state.int()
            let names = try state.array { (state: inout StateDecoder) throws(AggregatorError) in (try state.integer(UInt32.self), try state.string()) }
            let slot = writerSlot(key)
            writers[slot].rank = rank
            for (number, name) in names { writers[slot].names[number] = name }
        }
    }

    /// A run as `encode` saved it, its event files cut back to the saved lengths and reopened.
    ///
    /// - Parameter loadModel: Reads the model file a checkpoint names.
    static func restore(
        from state: inout StateDecoder, logRoot: String?, summaries: SummaryMaker,
        fileCreated: @escaping (String) -> Void, loadModel: (String) throws(AggregatorError) -> RunModel
    ) throws(AggregatorError) -> RunMachine {
        let directory = try state.string()
        // A damaged or forged state must not name a run, or an event file to cut back, anywhere
        // a trainer's run could not be.
        do {
            try HookRecord.validateRunDirectory(directory)
        } catch {
            throw .malformed("run directory \(directory): \(error)")
        }
        if let logRoot, !HookRecord.runDirectory(directory, isWithin: logRoot) {
            throw .malformed("run directory \(directory) outside the log root \(logRoot)")
        }
        var run = RunMachine(directory: directory, arguments: try state.arguments(), logRoot: logRoot, summaries: summaries,
                             fileCreated: fileCreated)
        run.samplesSeen = try state.integer()
        run.samplesSeenAtLastWrite = try state.integer()
        run.totalBatchesSeen = try state.integer()
        let tracing = try state.bool()
        let startedAt = try state.double()
        let spans = try state.array { (state: inout StateDecoder) throws(AggregatorError) in
            ProfileTrace.Span(
                name: try state.string(), category: try state.string(), startMicroseconds: try state.double(),
                durationMicroseconds: try state.double(), processID: try state.int(), threadID: try state.int(),
                arguments: try state.array { (state: inout StateDecoder) throws(AggregatorError) in (try state.string(), try state.string()) })
        }
        if tracing { run.trace = Trace(startedAt: startedAt, spans: spans) }
        for (metric, name) in try state.array({ (state: inout StateDecoder) throws(AggregatorError) in (try state.integer(UInt32.self), try state.string()) }) {
            run.numbering.name(metric, name, slot: run.slots.slot(named: name))
        }
        let files = try state.array { (state: inout StateDecoder) throws(AggregatorError) in
            (subdirectory: try state.string(), path: try state.string(), length: try state.integer(Int64.self))
        }
        for file in files where !run.files.owns(subdirectory: file.subdirectory, path: file.path) {
            throw .malformed("event file \(file.path) is not one of run \(directory)")
        }
        run.keras3.globalTrainBatch = try state.integer()
        run.keras3.globalTestBatch = try state.integer()
        run.keras3.conditions = try state.array { (state: inout StateDecoder) throws(AggregatorError) in try state.bool() }
        if let modelFile = try state.optionalString() {
            run.model = try loadModel(modelFile)
        }
        run.files.resume(files)
        return run
    }

}

extension RunModel {
    func encode(into state: inout StateEncoder) {
        state.string(name)
        state.optionalString(modelJSON)
        state.data(graphDef)
        state.array(layers) { state, layer in
            state.string(layer.name)
            state.string(layer.className)
            state.optionalString(layer.configJSON)
            state.array(layer.weights) { state, weight in
                state.string(weight.name)
                state.array(weight.shape) { $0.int($1) }
                state.weightValues(weight.values)
            }
        }
    }

    /// A model as `encode` saved it.
    ///
    /// - Parameter segment: Maps a weight segment the model names, by ring file name and
    ///   sequence number.
    init(from state: inout StateDecoder, segment: (String, Int64) throws(AggregatorError) -> WeightSegment) throws(AggregatorError) {
        self.init(
            name: try state.string(), layers: [], modelJSON: try state.optionalString(), graphDef: try state.data())
        layers = try state.array { (state: inout StateDecoder) throws(AggregatorError) in
            Layer(name: try state.string(), className: try state.string(), configJSON: try state.optionalString(),
                  weights: try state.array { (state: inout StateDecoder) throws(AggregatorError) in
                      Weight(name: try state.string(), shape: try state.array { (state: inout StateDecoder) throws(AggregatorError) in try state.int() },
                             values: try state.weightValues(segment: segment))
                  })
        }
    }
}

extension StateEncoder {
    /// A weight's values: its own (tag 0, the values), or mapped (tag 1: the segment's ring file
    /// name and sequence number, the byte offset and the count), so that a model file names the
    /// segments it needs instead of holding their values again.
    mutating func weightValues(_ values: WeightValues) {
        switch values {
        case .owned(let values):
            integer(UInt8(0))
            floats(values)
        case .mapped(let segment, let offset, let count):
            integer(UInt8(1))
            string(segment.ring)
            integer(segment.sequence)
            int(offset)
            int(count)
        }
    }
}

extension StateDecoder {
    /// A weight's values as `StateEncoder.weightValues` saved them.
    ///
    /// - Parameter segment: Maps a weight segment, by ring file name and sequence number.
    mutating func weightValues(segment: (String, Int64) throws(AggregatorError) -> WeightSegment) throws(AggregatorError) -> WeightValues {
        let tag: UInt8 = try integer()
        switch tag {
        case 0:
            return .owned(try floats())
        case 1:
            let ring = try string()
            let sequence: Int64 = try integer()
            let offset = try int()
            let count = try int()
            let mapped = try segment(ring, sequence)
            guard let values = WeightValues.inSegment(mapped, offset: offset, count: count) else {
                throw .malformed("values \(offset) + \(count) outside weight segment \(mapped.path)")
            }
            return values
        default:
            throw .malformed("weight values tag \(tag)")
        }
    }
}
