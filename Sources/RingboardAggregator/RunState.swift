import Foundation
import Logging
import RingboardFormat
import RingboardRecords
import RingboardSummaries
internal import RingboardSystem

/// The TF 2.0 `TensorBoard` callback's state machine for one output run directory (DESIGN §2):
/// it turns the hooks of the rank that drives the run into event files, exactly as the callback
/// would have written them.
///
/// - Warning: Not thread-safe; the aggregator's one thread owns it.
final class RunState {
    /// The run directory, absolute.
    let directory: String
    let arguments: TensorBoardArguments
    /// The directory `directory` lies in (or is) whose subdirectories are made one by one, no
    /// symbolic link among them followed (`ConfinedDirectory`): the aggregator's log root, or
    /// without one the run's `log_dir`.
    private let root: String
    private let logger: Logger
    private let host: String

    // TF 2.0 callback state.
    private var samplesSeen: Int64 = 0
    private var samplesSeenAtLastWrite: Int64 = 0
    private var totalBatchesSeen: Int64 = 0
    private var tracing = false
    private var traceSpans: [ProfileTrace.Span] = []
    private var traceStartedAt: Double = 0

    private var metricNames: [UInt32: String] = [:]
    /// Every metric name this run has seen, numbered in order of appearance: a hook's logs are
    /// slot numbers and values (`SlotLogs`), so batch after batch nothing is hashed.
    private var slotNames: [String] = []
    private var slots: [Slot] = []
    /// The batch scalar tags of the slots (`Slot.tag`).
    private var batchTags: [ScalarTag] = []
    private var slotsByName: [String: Int32] = [:]
    /// `metricNames` as slots, for the small numbers producers use (-1: not named).
    private var metricSlots: [Int32] = []
    /// Epoch scalar destinations by metric name.
    private var epochScalars: [String: ScalarDestination] = [:]
    /// Storage reused hook after hook.
    private var scratchLogs = SlotLogs()
    /// Batch scalars not yet handed to the `train` and `validation` writers (`handOverScalars`).
    /// In storage of their own, so that staging a step costs no exclusivity check.
    private let staged = FixedStorage(repeating: StagedScalars(), count: 1)
    private(set) var stagedScalars = false
    /// The last batch record's metric numbers, all named, and their slots.
    private var lastMetrics: [UInt32] = []
    private var lastMetricSlots: [Int32] = []
    /// What the last batch hook's slots write.
    private var plan = BatchPlan()
    private var model: Model?
    /// The graph `graphDef(of:)` worked out for `model`, until `set_model` replaces it.
    private var runGraph: [UInt8]?
    private var writers: [String: EventFileWriter] = [:] {
        didSet {
            trainWriter = writers["train"]
            validationWriter = writers["validation"]
        }
    }
    /// `writers["train"]` and `writers["validation"]`, without hashing a name per scalar.
    private var trainWriter: EventFileWriter?
    private var validationWriter: EventFileWriter?
    private(set) var finished = false
    /// Histograms skipped because a weight held NaN or infinity.
    private(set) var skippedHistograms = 0
    /// Counts changes to `model`, so a checkpoint rewrites it only when it changed.
    private(set) var modelVersion = 0
    /// Told the path of every event file this run creates, before anything is written to it
    /// beyond the file-version record, and of every profile trace before it is written.
    private let fileCreated: (String) -> Void

    /// The model as `set_model` described it, with the latest weight values.
    struct Model {
        var name: String
        var layers: [(name: String, className: String, configJSON: String?, weights: [Weight])]
        var modelJSON: String?
        var graphDef: [UInt8]

        struct Weight {
            var name: String
            var shape: [Int]
            var values: [Float]
        }
    }

    /// - Parameters:
    ///   - directory: The run directory, absolute: `arguments.logDirectory`, or below it.
    ///   - logRoot: The aggregator's log root, which `directory` lies in; `nil` for none.
    init(
        directory: String, arguments: TensorBoardArguments, logRoot: String?, host: String, logger: Logger,
        fileCreated: @escaping (String) -> Void = { _ in }
    ) {
        self.directory = directory
        self.arguments = arguments
        self.root = logRoot ?? arguments.logDirectory
        self.host = host
        self.logger = logger
        self.fileCreated = fileCreated
    }

    // MARK: Records

    func handle(_ record: HookRecord) throws(EventFileError) {
        guard !finished else { return }
        switch record {
        case .runAnnouncement:
            break
        case .metricName(_, let metric, let name):
            metricNames[metric] = name
            noteMetricName(metric, name)
            lastMetrics = []
            lastMetricSlots = []
        case .parameters:
            break
        case .model(_, let json, let graphDef, let wallTime):
            setModel(json: json, graphDef: graphDef)
            try writeGraph(wallTime: HookClock.seconds(wallTime))
            // TF 2.0 writes the projector config when the model is set (`_configure_embeddings`).
            if arguments.embeddingsFrequency > 0 { writeEmbeddings() }
        case .weightValues(_, let weight, _, let offset, _, let values):
            setWeightValues(weight: Int(weight), offset: Int(clamping: offset), values: values)
        case .span(_, let name, let start, let duration, let thread):
            if tracing {
                traceSpans.append(ProfileTrace.Span(
                    name: name, category: "user", startMicroseconds: Double(start) / 1000,
                    durationMicroseconds: Double(duration) / 1000, processID: 0, threadID: Int(truncatingIfNeeded: thread)))
            }
        case .hook(_, let kind, let index, let logs, let wallTime):
            try hook(kind, index: index, logs: named(logs), wallTime: HookClock.seconds(wallTime))
        case .batch(_, let phase, let isEnd, let batch, let logs, let wallTime):
            var slotLogs = takeScratchLogs()
            for entry in logs { appendNamed(entry.metric, entry.value, to: &slotLogs) }
            try batchHook(phase, isEnd: isEnd, batch: batch, logs: slotLogs, wallTime: HookClock.seconds(wallTime))
            scratchLogs = slotLogs
        }
    }

    /// A batch record of this run's producer: as `handle(.batch(…))`, without allocating.
    func handle(_ record: borrowing BatchRecord) throws(EventFileError) {
        guard !finished else { return }
        // Hook after hook the producer sends the same metrics: their slots are looked up once.
        if !record.metrics.elementsEqual(lastMetrics) {
            var slots: [Int32] = []
            for metric in record.metrics {
                let slot = slot(ofMetric: metric)
                // A metric never named is left out, as `named` leaves it out.
                guard slot >= 0 else {
                    var logs = takeScratchLogs()
                    for index in 0..<record.count { appendNamed(record.metrics[index], record.values[index], to: &logs) }
                    try batchHook(record.phase, isEnd: record.isEnd, batch: record.batch, logs: logs,
                                  wallTime: HookClock.seconds(record.wallTime))
                    scratchLogs = logs
                    return
                }
                slots.append(slot)
            }
            lastMetrics = record.metrics
            lastMetricSlots = slots
        }
        try batchHook(record.phase, isEnd: record.isEnd, batch: record.batch, logs: SlotLogs(slots: lastMetricSlots, values: record.values),
                      wallTime: HookClock.seconds(record.wallTime))
    }

    /// Metric numbers to names, as this run's producer announced them.
    func named(_ logs: [MetricValue]) -> [(String, Double)] {
        logs.compactMap { entry in metricNames[entry.metric].map { ($0, entry.value) } }
    }

    /// Appends metric `metric` of this run's producer, unless it was never named (then, as in
    /// `named`, it is left out).
    private func appendNamed(_ metric: UInt32, _ value: Double, to logs: inout SlotLogs) {
        let slot = slot(ofMetric: metric)
        if slot >= 0 { logs.append(slot, value) }
    }

    /// The slot of this run's producer's metric number `metric` (-1: never named).
    private func slot(ofMetric metric: UInt32) -> Int32 {
        Int(metric) < metricSlots.count ? metricSlots[Int(metric)] : metricNames[metric].map { slot(named: $0) } ?? -1
    }

    /// The reused logs storage, emptied (give it back by assigning `scratchLogs`).
    private func takeScratchLogs() -> SlotLogs {
        var logs = scratchLogs
        scratchLogs = SlotLogs()
        logs.removeAll()
        return logs
    }

    /// A batch hook (a single rank's, or several ranks' merged), its logs as slots, fired at
    /// `wallTime` (seconds since the Unix epoch): what it writes carries that time.
    func batchHook(_ phase: BatchPhase, isEnd: Bool, batch: Int64, logs: borrowing SlotLogs, wallTime: Double) throws(EventFileError) {
        guard !finished else { return }
        if tracing {
            traceSpans.append(ProfileTrace.Span(
                name: "on_\(phase)_batch_\(isEnd ? "end" : "begin")", category: "hook", startMicroseconds: wallTime * 1e6,
                durationMicroseconds: 0, processID: 0, threadID: 0, arguments: [("batch", "\(batch)")]))
        }
        if phase == .train && isEnd {
            try trainBatchEnd(logs: logs, wallTime: wallTime)
        }
    }

    /// Any other hook, with its logs by name, fired at `wallTime`.
    func hook(_ kind: HookKind, index: Int64, logs: [(String, Double)], wallTime: Double) throws(EventFileError) {
        guard !finished else { return }
        switch kind {
        case .trainBegin:
            // TF 2.0: profile_batch == 1 starts tracing before the first batch.
            if arguments.profileBatch == 1 { startTracing(wallTime: wallTime) }
        case .epochEnd:
            try epochEnd(index, logs: logs, wallTime: wallTime)
        case .trainEnd:
            // TF 2.0 closes its writers; a later fit() with the same callback opens new files,
            // and the counters go on.
            if tracing { try exportTrace(wallTime: wallTime) }
            try closeWriters()
        case .epochBegin, .testBegin, .testEnd, .predictBegin, .predictEnd:
            break  // nothing is written
        }
    }

    /// `on_train_batch_end` (TF 2.0): count samples, write batch scalars when `update_freq`
    /// samples have passed, count the batch, then the profile window.
    private func trainBatchEnd(logs: borrowing SlotLogs, wallTime: Double) throws(EventFileError) {
        var size: Int64 = 1  // TF 2.0: logs.get('size', 1)
        // Hooks that repeat their slots usually share one array with the plan: compared at once.
        if logs.slots != plan.slots { plan = BatchPlan(logs.slots, slots) }
        let plan = self.plan
        if plan.sizeIndex >= 0 {
            let value = logs.values[plan.sizeIndex]
            if let count = RunState.sampleCount(value) {
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
            try writeBatchScalars(logs, plan, step: totalBatchesSeen, wallTime: wallTime)
            samplesSeenAtLastWrite = samplesSeen
        }
        totalBatchesSeen += 1
        if tracing {
            try exportTrace(wallTime: wallTime)
        } else if arguments.profileBatch > 0 && totalBatchesSeen == arguments.profileBatch - 1 {
            startTracing(wallTime: wallTime)
        }
    }

    /// `on_epoch_end` (TF 2.0): epoch scalars at the epoch (update_freq 'epoch') or at the samples
    /// seen, then histograms/images and embeddings when their frequency divides the epoch.
    private func epochEnd(_ epoch: Int64, logs: [(String, Double)], wallTime: Double) throws(EventFileError) {
        let step = arguments.updateFrequency == .epoch ? epoch : samplesSeen
        try writeEpochScalars(logs, step: step, wallTime: wallTime)
        if arguments.histogramFrequency > 0 && epoch % arguments.histogramFrequency == 0 {
            try writeWeights(epoch: epoch, wallTime: wallTime)
        }
        if arguments.embeddingsFrequency > 0 && epoch % arguments.embeddingsFrequency == 0 {
            writeEmbeddings()
        }
    }

    /// Epoch scalars as the callback's `_log_metrics` writes them: `batch`, `size` and
    /// `num_steps` are never written; `val_<name>` goes to `validation/` as `epoch_<name>`, the
    /// rest to `train/`.
    private func writeEpochScalars(_ logs: [(String, Double)], step: Int64, wallTime: Double) throws(EventFileError) {
        for (name, value) in logs {
            let destination: ScalarDestination
            if let known = epochScalars[name] {
                destination = known
            } else {
                destination = ScalarDestination(name: name, prefix: "epoch_")
                epochScalars[name] = destination
            }
            guard let tag = destination.tag else { continue }
            try writer(destination.validation ? "validation" : "train", wallTime: wallTime).appendScalar(tag: tag.tag, value: Float(value), step: step, wallTime: wallTime)
        }
    }

    /// Batch scalars, as `writeEpochScalars` writes epoch scalars (`batch_<name>`), for logs as
    /// slots (`plan` made for them): each file's scalars go in under one lock, with their tags
    /// encoded once per name.
    private func writeBatchScalars(_ logs: borrowing SlotLogs, _ plan: BatchPlan, step: Int64, wallTime: Double) throws(EventFileError) {
        let now = wallTime
        // Files are made in the order their first scalar comes, as `writeEpochScalars` makes them.
        if plan.validationFirst && validationWriter == nil { _ = try writer("validation", wallTime: now) }
        if !plan.trainTags.isEmpty {
            if trainWriter == nil { _ = try writer("train", wallTime: now) }
            staged[0].train.append(plan.trainTags, logs.values, at: plan.trainPositions, step: step, wallTime: now)
        }
        if !plan.validationTags.isEmpty {
            if validationWriter == nil { _ = try writer("validation", wallTime: now) }
            staged[0].validation.append(plan.validationTags, logs.values, at: plan.validationPositions, step: step, wallTime: now)
        }
        stagedScalars = true
        // In slices, so the encoding thread has work while this one goes on.
        if staged[0].train.count + staged[0].validation.count >= RunState.handOverSlice { try handOverScalars() }
    }

    /// Staged batch scalars past which `writeBatchScalars` hands them over itself.
    static let handOverSlice = 8192

    /// Hands the staged batch scalars to their writers, in one call per file. Called once many
    /// hooks have been handled (`Aggregator` after each poll), and before anything else is written
    /// to the run's files or they are flushed, so every file keeps the order of its events.
    func handOverScalars() throws(EventFileError) {
        guard stagedScalars else { return }
        stagedScalars = false
        // Dropped if the writer refuses them (it is closed), as a single scalar would be.
        if let trainWriter, !staged[0].train.isEmpty { try trainWriter.appendScalars(batchTags, &staged[0].train) }
        if let validationWriter, !staged[0].validation.isEmpty { try validationWriter.appendScalars(batchTags, &staged[0].validation) }
    }

    /// Batch scalars staged for the `train` and `validation` writers.
    private struct StagedScalars {
        var train = EventFileWriter.ScalarBatch()
        var validation = EventFileWriter.ScalarBatch()
    }

    /// What a batch hook of a sequence of slots writes, worked out once while hooks repeat it.
    /// Immutable (a class of `let`s), so step after step its arrays are lent, not retained.
    private final class BatchPlan {
        let slots: [Int32]
        /// Where `size` is (-1: nowhere).
        let sizeIndex: Int
        /// The positions written to each file and their tags (in the run's `batchTags`).
        let trainPositions: [Int32], trainTags: [Int32]
        let validationPositions: [Int32], validationTags: [Int32]
        /// The first scalar written goes to `validation/`.
        let validationFirst: Bool

        convenience init() {
            self.init([], [])
        }

        init(_ slots: [Int32], _ table: [Slot]) {
            self.slots = slots
            var sizeIndex = -1, validationFirst = false
            var trainPositions: [Int32] = [], trainTags: [Int32] = [], validationPositions: [Int32] = [], validationTags: [Int32] = []
            for (position, slot) in slots.enumerated() {
                let destination = table[Int(slot)]
                if destination.isSize && sizeIndex < 0 { sizeIndex = position }
                guard destination.tag >= 0 else { continue }
                if destination.validation {
                    if trainTags.isEmpty && validationTags.isEmpty { validationFirst = true }
                    validationPositions.append(Int32(position))
                    validationTags.append(destination.tag)
                } else {
                    trainPositions.append(Int32(position))
                    trainTags.append(destination.tag)
                }
            }
            self.sizeIndex = sizeIndex
            self.validationFirst = validationFirst
            self.trainPositions = trainPositions
            self.trainTags = trainTags
            self.validationPositions = validationPositions
            self.validationTags = validationTags
        }
    }

    // MARK: Slots

    /// The slot of metric name `name`, made when it is new.
    func slot(named name: String) -> Int32 {
        if let known = slotsByName[name] { return known }
        let slot = Int32(slots.count)
        let destination = ScalarDestination(name: name, prefix: "batch_")
        slots.append(Slot(name: name, tag: destination.tag == nil ? -1 : Int32(batchTags.count), validation: destination.validation))
        if let tag = destination.tag { batchTags.append(tag) }
        slotNames.append(name)
        slotsByName[name] = slot
        return slot
    }

    /// The metric name of `slot`.
    func name(ofSlot slot: Int32) -> String { slotNames[Int(slot)] }

    /// The slots made so far (numbered from 0).
    var slotCount: Int { slotNames.count }

    /// Whether `slot` is the metric `size`.
    func isSize(_ slot: Int32) -> Bool { slots[Int(slot)].isSize }

    /// Whether `slot` is the metric `batch`.
    func isBatch(_ slot: Int32) -> Bool { slots[Int(slot)].isBatch }

    /// Logs by name as slots.
    func slotLogs(_ logs: [(String, Double)]) -> SlotLogs {
        var result = SlotLogs()
        for (name, value) in logs { result.append(slot(named: name), value) }
        return result
    }

    /// Logs as slots by name.
    func namedLogs(_ logs: borrowing SlotLogs) -> [(String, Double)] {
        logs.slots.indices.map { (slotNames[Int(logs.slots[$0])], logs.values[$0]) }
    }

    /// What a metric name is and where its batch scalar goes.
    private struct Slot {
        /// Its batch scalar's tag in `batchTags`; -1: none is written.
        var tag: Int32
        var validation: Bool
        var isSize: Bool
        var isBatch: Bool

        init(name: String, tag: Int32, validation: Bool) {
            self.tag = tag
            self.validation = validation
            isSize = name == "size"
            isBatch = name == "batch"
        }
    }

    private func noteMetricName(_ metric: UInt32, _ name: String) {
        let slot = slot(named: name)
        guard metric < 4096 else { return }
        if Int(metric) >= metricSlots.count { metricSlots += [Int32](repeating: -1, count: Int(metric) + 1 - metricSlots.count) }
        metricSlots[Int(metric)] = slot
    }

    /// Where a metric's scalar goes, worked out once per name: `batch`, `size` and `num_steps`
    /// nowhere; `val_<name>` to `validation/` as `<prefix><name>`; the rest to `train/`; the tag
    /// cleaned as `clean_tag` cleans it.
    private struct ScalarDestination {
        var tag: ScalarTag?
        var validation = false

        init(name: String, prefix: String) {
            guard name != "batch" && name != "size" && name != "num_steps" else { return }
            validation = name.hasPrefix("val_")
            tag = ScalarTag(RunState.tag(prefix + (validation ? name.dropFirst(4) : name[...])))
        }
    }

    /// Every weight of every layer as a histogram (and an image with `write_images`), in `train/`.
    private func writeWeights(epoch: Int64, wallTime now: Double) throws(EventFileError) {
        guard let model else { return }
        // In the order Keras writes them: each weight's histogram, then its images.
        var summaries: [WeightSummary] = []
        for layer in model.layers {
            for weight in layer.weights {
                let tag = RunState.tag(weight.name.replacingOccurrences(of: ":", with: "_"))
                do {
                    let histogram = try Histogram.tensorFlow(weight.values, tag: tag)
                    summaries.append(.value(Summary.Value(tag: tag, kind: .histogram(histogram))))
                } catch {
                    // Only this histogram is skipped; the weight's image is still written.
                    skippedHistograms += 1
                    logger.warning("histogram skipped", metadata: ["run": "\(directory)", "tag": "\(tag)", "reason": "\(error)"])
                }
                if arguments.writeImages {
                    do {
                        if let images = try WeightImage.images(name: tag, shape: weight.shape, values: weight.values) {
                            summaries += images.map { .image($0) }
                        }
                    } catch {
                        logger.warning("weight image skipped", metadata: ["run": "\(directory)", "tag": "\(tag)", "reason": "\(error)"])
                    }
                }
            }
        }
        guard !summaries.isEmpty else { return }
        let writer = try writer("train", wallTime: now)
        for summary in summaries {
            switch summary {
            case .value(let value):
                try writer.append(Event(wallTime: now, step: epoch, what: .summary(Summary(values: [value]))))
            case .image(let image):
                // PNG encoding (filtering and deflate) is most of an image's cost: it is done on
                // the writer's encoding thread while this one goes on to the next hooks.
                let (logger, directory) = (self.logger, self.directory)
                try writer.appendDeferred {
                    do {
                        return Event(wallTime: now, step: epoch, what: .summary(Summary(values: [try image.summaryValue()])))
                    } catch {
                        logger.warning("weight image skipped", metadata: ["run": "\(directory)", "tag": "\(image.tag)", "reason": "\(error)"])
                        return nil
                    }
                }
            }
        }
    }

    /// A summary of a weight: made, or an image still to encode.
    private enum WeightSummary {
        case value(Summary.Value)
        case image(ImageSummary.Image)
    }

    /// A summary name as TF 2.0's `clean_tag` cleans it (`re.sub(r'[^-/\w\.]', '_', name)`,
    /// where `\w` is any Unicode letter, digit or underscore).
    static func tag(_ name: some StringProtocol) -> String {
        String(String.UnicodeScalarView(name.unicodeScalars.map { scalar in
            let properties = scalar.properties
            let word = scalar == "_" || properties.isAlphabetic || properties.numericType != nil
            return word || scalar == "-" || scalar == "/" || scalar == "." ? scalar : "_"
        }))
    }

    private func writeEmbeddings() {
        guard let model else { return }
        var embeddings: [(Projector.Embedding, [Float])] = []
        for layer in model.layers where layer.className == "Embedding" {
            // A TSV needs at least one column and values that fill the rows.
            guard let weight = layer.weights.first, weight.shape.count == 2, weight.shape[1] > 0,
                  RunState.valueCount(weight.shape) == weight.values.count
            else { continue }
            let metadata: String? = switch arguments.embeddingsMetadata {
            case nil: nil
            case .all(let path): path
            case .perLayer(let files): files[layer.name]
            }
            embeddings.append((Projector.Embedding(tensorName: weight.name, rows: weight.shape[0], columns: weight.shape[1],
                                                   metadataPath: metadata), weight.values))
        }
        do {
            try makeDirectory("train")
            try Projector.write(embeddings, logDirectory: directory)
        } catch {
            logger.error("projector files not written", metadata: ["run": "\(directory)", "reason": "\(error)"])
        }
    }

    /// `write_graph`: a GraphDef (the one given, else one made from the layers) and the Keras model
    /// as tag `keras`, at step 0 in `train/`.
    private func writeGraph(wallTime now: Double) throws(EventFileError) {
        guard arguments.writeGraph, let model else { return }
        try writer("train", wallTime: now).append(Event(wallTime: now, step: 0, what: .graphDef(graphDef(of: model))))
        let json = model.modelJSON ?? KerasModelGraph.sequentialJSON(
            name: model.name, layers: model.layers.map { KerasModelGraph.Layer(name: $0.name, className: $0.className, configJSON: $0.configJSON) })
        try writer("train", wallTime: now).append(Event(wallTime: now, step: 0, what: .summary(Summary(values: [KerasModelGraph.summaryValue(modelJSON: json)]))))
    }

    /// The GraphDef given with the model when it parses and has nodes; else a node per layer, from
    /// the model JSON when there is one (TF 2.0 writes the op graph of the model here). Worked out
    /// once per `set_model` (`write_graph` and every profiled batch write it).
    private func graphDef(of model: Model) -> [UInt8] {
        if let runGraph { return runGraph }
        let graph = makeGraphDef(of: model)
        runGraph = graph
        return graph
    }

    private func makeGraphDef(of model: Model) -> [UInt8] {
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

    private func startTracing(wallTime: Double) {
        tracing = true
        traceSpans = []
        traceStartedAt = wallTime
    }

    /// The trace of the profiled batch, named `batch_<total batches seen>` at that step: the trace
    /// file, and in `train/` TF 2.0's `graph_run_metadata` value whose function graph is the
    /// run's graph (the one `write_graph` writes). Without a model there is no graph to draw, and
    /// TensorBoard's Graphs dashboard shows an error for a tag without one ("The graph is empty"),
    /// so then only the trace file is written.
    private func exportTrace(wallTime now: Double) throws(EventFileError) {
        tracing = false
        let runDirectory = directory + "/train"
        fileCreated(ProfileTrace.tracePath(runDirectory: runDirectory, host: host, wallTime: traceStartedAt))
        do {
            try makeDirectory("train/plugins/profile")
            try ProfileTrace.write(spans: traceSpans, processNames: [0: "trainer"], runDirectory: runDirectory,
                                   host: host, wallTime: traceStartedAt)
        } catch {
            logger.error("profile trace not written", metadata: ["run": "\(directory)", "reason": "\(error)"])
        }
        if let model {
            try writer("train", wallTime: now).append(ProfileTrace.runMetadataEvent(
                step: totalBatchesSeen, spans: traceSpans, graphDef: graphDef(of: model), wallTime: now))
        } else {
            logger.notice("profiled batch without a model: its run metadata is not written, only the trace file",
                          metadata: ["run": "\(directory)", "step": "\(totalBatchesSeen)"])
        }
        traceSpans = []
    }

    // MARK: Model

    private func setModel(json: String, graphDef: [UInt8]) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
            logger.error("model description is not a JSON object", metadata: ["run": "\(directory)"])
            return
        }
        let layers = (object["layers"] as? [[String: Any]] ?? []).map { layer in
            (name: layer["name"] as? String ?? "", className: layer["class_name"] as? String ?? "",
             configJSON: layer["config_json"] as? String,
             weights: (layer["weights"] as? [[String: Any]] ?? []).map { weight in
                 let name = weight["name"] as? String ?? "", shape = weight["shape"] as? [Int] ?? []
                 // A record could announce any shape: one too large to hold is kept without values.
                 let count = RunState.valueCount(shape)
                 if count == nil {
                     logger.error("weight shape is negative or too large to hold: its values are dropped", metadata: [
                         "run": "\(directory)", "weight": "\(name)", "shape": "\(shape)"])
                 }
                 return Model.Weight(name: name, shape: shape, values: [Float](repeating: 0, count: count ?? 0))
             })
        }
        runGraph = nil
        model = Model(name: object["name"] as? String ?? "model", layers: layers,
                      modelJSON: object["model_json"] as? String, graphDef: graphDef)
        modelVersion += 1
    }

    private func setWeightValues(weight number: Int, offset: Int, values: [Float]) {
        guard model != nil else { return }
        var remaining = number
        for layerIndex in model!.layers.indices {
            let count = model!.layers[layerIndex].weights.count
            if remaining < count {
                let target = model!.layers[layerIndex].weights[remaining].values.count
                guard offset <= target, values.count <= target - offset else { return }
                // In place: a copy of the model here would copy the whole weight for every piece.
                model!.layers[layerIndex].weights[remaining].values.replaceSubrange(offset..<(offset + values.count), with: values)
                modelVersion += 1
                return
            }
            remaining -= count
        }
    }

    // MARK: Writers

    /// The writer of `train` or `validation`, created when it first has something to write: an
    /// event of `wallTime`, which the file is then said to be created at (as TF 2.0 creates it
    /// when that event's hook writes it).
    private func writer(_ subdirectory: String, wallTime: Double) throws(EventFileError) -> EventFileWriter {
        // Whatever is written next goes after the batch scalars staged before it.
        if stagedScalars { try handOverScalars() }
        if subdirectory == "train", let trainWriter { return trainWriter }
        if subdirectory == "validation", let validationWriter { return validationWriter }
        if let writer = writers[subdirectory] { return writer }
        var options = EventFileWriter.Options()
        options.hostName = host
        // Never through a symbolic link planted under the log root: refused here, and the
        // directories are made one by one below it whenever the file is made.
        options.confinedTo = root
        options.createdAt = wallTime
        do {
            try makeDirectory(subdirectory)
        } catch .systemCall(_, _, let error) where error == .noSpace || error == .noSuchFileOrDirectory || error == .ioError {
            // A full disk or a log directory being removed must not lose the event: it waits in
            // memory (its records in the rings) until the file can be made.
        }
        options.createWhenWritable = true
        let writer = try EventFileWriter(directory: directory + "/" + subdirectory, options: options)
        fileCreated(writer.path)
        writers[subdirectory] = writer
        return writer
    }

    /// Makes `directory/subpath` below `root`, component by component, following no symbolic
    /// link planted there.
    private func makeDirectory(_ subpath: String) throws(EventFileError) {
        let path = directory + "/" + subpath
        let relative = root == "/" ? String(path.dropFirst()) : String(path.dropFirst(root.count + 1))
        do {
            try ConfinedDirectory.create(relative, under: root)
        } catch {
            throw EventFileError(error)
        }
    }

    /// Writes everything buffered. A file removed meanwhile (its directory perhaps with it) is
    /// continued in a new one, which takes over the records not yet written.
    func flush() throws(EventFileError) {
        try handOverScalars()
        for subdirectory in writers.keys.sorted() {
            try replacingRemovedFile(subdirectory) { (writer: EventFileWriter) throws(EventFileError) in try writer.flush() }
        }
    }

    /// Closes (and fsyncs) the event files; the next write opens new ones. A file that cannot be
    /// closed keeps its writer (and records), so closing can be tried again.
    func closeWriters() throws(EventFileError) {
        try handOverScalars()
        for subdirectory in writers.keys.sorted() {
            try replacingRemovedFile(subdirectory) { (writer: EventFileWriter) throws(EventFileError) in try writer.close() }
            writers[subdirectory] = nil
        }
    }

    /// Whether event files are still open (a finished run whose files could not be closed).
    var hasOpenWriters: Bool { !writers.isEmpty }

    private func replacingRemovedFile(_ subdirectory: String, _ body: (EventFileWriter) throws(EventFileError) -> Void) throws(EventFileError) {
        guard let writer = writers[subdirectory] else { return }
        do {
            try body(writer)
        } catch .fileRemoved(let path) {
            let successor = try writer.continueInNewFile()
            fileCreated(successor.path)
            writers[subdirectory] = successor
            logger.error("event file removed while being written; its unwritten events go to a new file",
                         metadata: ["run": "\(directory)", "removed": "\(path)", "new": "\(successor.path)"])
            try body(successor)
        }
    }

    /// The run's producer is gone: its files are closed and later records are ignored.
    func finish() throws(EventFileError) {
        guard !finished else { return }
        finished = true
        try closeWriters()
    }
}

// MARK: Checkpoint

extension RunState {
    /// The run's state as of the last record handled, with its event files' lengths (flush first:
    /// nothing may be buffered). The model goes separately (`Model.encode`), named by `modelFile`.
    func encode(into state: inout StateEncoder, modelFile: String?) {
        state.string(directory)
        state.arguments(arguments)
        state.integer(samplesSeen)
        state.integer(samplesSeenAtLastWrite)
        state.integer(totalBatchesSeen)
        state.bool(tracing)
        state.double(traceStartedAt)
        state.array(traceSpans) { state, span in
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
        state.array(metricNames.sorted { $0.key < $1.key }) { state, entry in
            state.integer(entry.key)
            state.string(entry.value)
        }
        state.array(writers.sorted { $0.key < $1.key }) { state, entry in
            state.string(entry.key)
            state.string(entry.value.path)
            state.integer(entry.value.writtenBytes)
        }
        state.int(skippedHistograms)
        state.optionalString(modelFile)
    }

    /// A run as `encode` saved it, its event files cut back to the saved lengths and reopened.
    ///
    /// - Parameter loadModel: Reads the model file a checkpoint names.
    static func restore(
        from state: inout StateDecoder, logRoot: String?, host: String, logger: Logger,
        fileCreated: @escaping (String) -> Void, loadModel: (String) throws(AggregatorError) -> Model
    ) throws(AggregatorError) -> RunState {
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
        let run = RunState(directory: directory, arguments: try state.arguments(), logRoot: logRoot, host: host,
                           logger: logger, fileCreated: fileCreated)
        run.samplesSeen = try state.integer()
        run.samplesSeenAtLastWrite = try state.integer()
        run.totalBatchesSeen = try state.integer()
        run.tracing = try state.bool()
        run.traceStartedAt = try state.double()
        run.traceSpans = try state.array { (state: inout StateDecoder) throws(AggregatorError) in
            ProfileTrace.Span(
                name: try state.string(), category: try state.string(), startMicroseconds: try state.double(),
                durationMicroseconds: try state.double(), processID: try state.int(), threadID: try state.int(),
                arguments: try state.array { (state: inout StateDecoder) throws(AggregatorError) in (try state.string(), try state.string()) })
        }
        for (metric, name) in try state.array({ (state: inout StateDecoder) throws(AggregatorError) in (try state.integer(UInt32.self), try state.string()) }) {
            run.metricNames[metric] = name
            run.noteMetricName(metric, name)
        }
        let files = try state.array { (state: inout StateDecoder) throws(AggregatorError) in
            (try state.string(), try state.string(), try state.integer(Int64.self))
        }
        for (subdirectory, path, _) in files {
            let components = subdirectory.split(separator: "/", omittingEmptySubsequences: false)
            let name = path.split(separator: "/").last.map(String.init) ?? ""
            guard !components.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }),
                  path == directory + "/" + subdirectory + "/" + name, name.hasPrefix("events.out.tfevents.")
            else { throw .malformed("event file \(path) is not one of run \(directory)") }
        }
        run.skippedHistograms = try state.int()
        if let modelFile = try state.optionalString() {
            run.model = try loadModel(modelFile)
        }
        var options = EventFileWriter.Options()
        options.hostName = host
        for (subdirectory, path, length) in files {
            do {
                run.writers[subdirectory] = try EventFileWriter(resuming: path, at: length, options: options)
            } catch {
                // Its events up to the checkpoint are gone with it; the next ones go to a new file.
                logger.error("checkpointed event file not reopened", metadata: ["run": "\(run.directory)", "error": "\(error)"])
            }
        }
        return run
    }

    /// The model, for a checkpoint's model file.
    var checkpointModel: Model? { model }
}

extension RunState.Model {
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
                state.floats(weight.values)
            }
        }
    }

    init(from state: inout StateDecoder) throws(AggregatorError) {
        name = try state.string()
        modelJSON = try state.optionalString()
        graphDef = try state.data()
        layers = try state.array { (state: inout StateDecoder) throws(AggregatorError) in
            (name: try state.string(), className: try state.string(), configJSON: try state.optionalString(),
             weights: try state.array { (state: inout StateDecoder) throws(AggregatorError) in
                 Weight(name: try state.string(), shape: try state.array { (state: inout StateDecoder) throws(AggregatorError) in try state.int() },
                        values: try state.floats())
             })
        }
    }
}

/// A hook's logs as a run's metric-name slots (`RunState.slot(named:)`) and their values, in the
/// hook's order.
struct SlotLogs {
    private(set) var slots: [Int32] = []
    private(set) var values: [Double] = []

    init() {}

    init(slots: [Int32], values: [Double]) {
        precondition(slots.count == values.count)
        self.slots = slots
        self.values = values
    }

    var count: Int { slots.count }

    mutating func append(_ slot: Int32, _ value: Double) {
        slots.append(slot)
        values.append(value)
    }

    /// Sets the values in place (the slots stay).
    mutating func withValues(_ body: (inout UnsafeMutableBufferPointer<Double>) -> Void) {
        values.withUnsafeMutableBufferPointer(body)
    }

    /// Forgets the entries, keeping the storage.
    mutating func removeAll() {
        slots.removeAll(keepingCapacity: true)
        values.removeAll(keepingCapacity: true)
    }
}
