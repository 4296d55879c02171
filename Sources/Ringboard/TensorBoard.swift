internal import RingboardSystem
import Foundation
import RingboardRecords
import RingboardRing
import Synchronization

/// The hooks Keras calls on a callback, in Swift spelling.
public protocol Callback: AnyObject {
    /// `set_params`.
    func setParams(_ params: TrainingParameters) throws(ConfigurationError)
    /// `set_model`.
    func setModel(_ model: ModelDescription) throws(ConfigurationError)
    /// `on_train_begin`.
    func onTrainBegin(logs: Logs)
    /// `on_train_end`.
    func onTrainEnd(logs: Logs)
    /// `on_epoch_begin`.
    func onEpochBegin(_ epoch: Int, logs: Logs)
    /// `on_epoch_end`.
    func onEpochEnd(_ epoch: Int, logs: Logs)
    /// `on_train_batch_begin`.
    func onTrainBatchBegin(_ batch: Int, logs: Logs)
    /// `on_train_batch_end`.
    func onTrainBatchEnd(_ batch: Int, logs: Logs)
    /// `on_test_begin`.
    func onTestBegin(logs: Logs)
    /// `on_test_end`.
    func onTestEnd(logs: Logs)
    /// `on_test_batch_begin`.
    func onTestBatchBegin(_ batch: Int, logs: Logs)
    /// `on_test_batch_end`.
    func onTestBatchEnd(_ batch: Int, logs: Logs)
    /// `on_predict_begin`.
    func onPredictBegin(logs: Logs)
    /// `on_predict_end`.
    func onPredictEnd(logs: Logs)
    /// `on_predict_batch_begin`.
    func onPredictBatchBegin(_ batch: Int, logs: Logs)
    /// `on_predict_batch_end`.
    func onPredictBatchEnd(_ batch: Int, logs: Logs)
}

extension Callback {
    /// `on_batch_begin`: the same as `onTrainBatchBegin`, as in Keras.
    public func onBatchBegin(_ batch: Int, logs: Logs) { onTrainBatchBegin(batch, logs: logs) }
    /// `on_batch_end`: the same as `onTrainBatchEnd`, as in Keras.
    public func onBatchEnd(_ batch: Int, logs: Logs) { onTrainBatchEnd(batch, logs: logs) }
}

/// The Keras `TensorBoard` callback (TF 2.0 contract). Every hook becomes a compact record in
/// this process's ring; the aggregator applies `update_freq` and the other arguments and writes
/// the event files, so a hook costs the trainer a few stores.
///
/// - Warning: Hooks may be called from several threads; records of one thread stay in order.
public final class TensorBoard: Callback, @unchecked Sendable {
    /// The arguments this callback was made with.
    public let arguments: TensorBoardArguments
    /// This process's rank, the world size and how ranks combine.
    public let rank: Int, worldSize: Int, rankPolicy: RankPolicy
    /// A rank other than 0 under `.chief`: the aggregator writes nothing of it (as Keras
    /// discards what such a worker writes), so it sends its run's announcement and nothing more.
    @usableFromInline let announcesOnly: Bool
    /// Warnings about arguments that were accepted and ignored (TF 1 arguments).
    public let warnings: [String]
    /// The run's number among this process's runs.
    public let run: UInt32

    private let writer: RingWriter
    private let state = Mutex<State>(State())

    private struct State {
        var metricNumbers: [String: UInt32] = [:]
        var doValidation: Bool?
        var model: ModelDescription?
        var weightsVersion: UInt64 = 0
        /// Weights were sent (`sendWeights(count:read:)`) since the last epoch end.
        var weightsSent = false
    }

    /// How many metric names are numbered: numbers below it are valid in numbered logs.
    private let metricCount = Atomic<UInt32>(0)

    /// The train batch the aggregator traces (`profileBatch`), counted from 0 over every fit as
    /// `trainBatchEnds` counts; -1 for none.
    @usableFromInline let tracedTrainBatch: Int
    /// Train batch ends so far, and the latest precise stamp. One thread trains, so a plain load
    /// and store keep them, with no locked instruction; what a second thread might lose only
    /// misplaces the precise stamps.
    let trainBatchEnds = Atomic<Int>(0), stampFloor = Atomic<Int64>(0)

    /// Creates the callback and announces its run to the aggregator, starting one when none
    /// serves `ringDirectory` (`AggregatorLauncher`).
    ///
    /// - Parameters:
    ///   - logDir: The run's directory, as Keras takes it: an absolute path, or one relative to
    ///     this process's working directory (resolved here, when the callback is made). An
    ///     aggregator started with a log root (`ringboard aggregate --logdir ROOT`) writes only
    ///     runs under that root.
    ///   - histogramFreq: Weight histograms every this many epochs (0: none).
    ///   - writeGraph: Write the model graph.
    ///   - writeImages: Write weights as images too.
    ///   - updateFreq: `.epoch`, `.batch` or `.samples(n)` (under `.keras3`, n batches).
    ///   - profileBatch: The batch to trace (0: none).
    ///   - embeddingsFreq: Embeddings every this many epochs (0: none).
    ///   - embeddingsMetadata: Metadata files for the projector.
    ///   - rank: This process's rank.
    ///   - worldSize: How many processes train together.
    ///   - rankPolicy: How their hooks combine (`.chief` as Keras does).
    ///   - ringDirectory: The aggregator's ring directory.
    ///   - ringOptions: The ring's capacity and full-ring policy; the first callback of a process
    ///     to use a ring directory makes the ring.
    ///   - startAggregator: Start an aggregator for `ringDirectory` when none serves it (unless
    ///     the environment says `RINGBOARD_AGGREGATE=off`); without one, records wait in the ring.
    ///   - aggregatorExecutable: The `ringboard` executable to start; `nil` for
    ///     `RINGBOARD_AGGREGATE_BIN`, one beside this program, or one on `PATH`.
    ///   - semantics: Whose callback the run writes as: TF 2.0's (the default) or Keras 3's.
    ///   - warnings: Warnings to report with the callback (from argument parsing).
    /// - Throws: `ConfigurationError` for arguments out of range, a run directory outside the
    ///   serving aggregator's log root, or a ring that cannot be made.
    public init(
        logDir: String = "logs", histogramFreq: Int = 0, writeGraph: Bool = true, writeImages: Bool = false,
        updateFreq: UpdateFrequency = .epoch, profileBatch: Int = 2, embeddingsFreq: Int = 0,
        embeddingsMetadata: EmbeddingsMetadata? = nil, rank: Int = 0, worldSize: Int = 1, rankPolicy: RankPolicy = .chief,
        ringDirectory: String = RingDirectory.defaultPath, ringOptions: RingWriter.Options = RingWriter.Options(),
        startAggregator: Bool = true, aggregatorExecutable: String? = nil, semantics: Semantics = .tf20, warnings: [String] = []
    ) throws(ConfigurationError) {
        for (name, value) in [("histogram_freq", histogramFreq), ("profile_batch", profileBatch), ("embeddings_freq", embeddingsFreq)]
        where value < 0 {
            throw .invalidArgument(name: name, reason: "must be 0 or more, not \(value)")
        }
        if case .samples(let count) = updateFreq, count < 1 {
            throw .invalidArgument(name: "update_freq", reason: "must be 'batch', 'epoch' or a positive number of \(semantics == .keras3 ? "batches" : "samples"), not \(count)")
        }
        guard worldSize >= 1, worldSize <= HookRecord.maximumWorldSize else {
            throw .invalidArgument(name: "worldSize", reason: "\(worldSize) is not between 1 and \(HookRecord.maximumWorldSize)")
        }
        guard rank >= 0, rank < worldSize else {
            throw .invalidArgument(name: "rank", reason: "rank \(rank) is not in 0..<\(worldSize)")
        }
        let runDirectory: String
        do {
            runDirectory = try HookRecord.runDirectory(logDir, in: FileManager.default.currentDirectoryPath)
        } catch {
            throw .invalidArgument(name: "log_dir", reason: error.description)
        }
        let arguments = TensorBoardArguments(
            logDirectory: runDirectory, histogramFrequency: Int64(histogramFreq), writeGraph: writeGraph, writeImages: writeImages,
            updateFrequency: updateFreq, profileBatch: Int64(profileBatch), embeddingsFrequency: Int64(embeddingsFreq),
            embeddingsMetadata: embeddingsMetadata, semantics: semantics)
        self.arguments = arguments
        self.rank = rank
        self.worldSize = worldSize
        self.rankPolicy = rankPolicy
        self.announcesOnly = rankPolicy == .chief && rank > 0
        self.tracedTrainBatch = profileBatch > 0 ? profileBatch - 1 : -1
        // Refused before anything is made: a run the serving aggregator would refuse.
        if case let logRoot?? = AggregatorLauncher.servingLogRoot(ringDirectory), !HookRecord.runDirectory(runDirectory, isWithin: logRoot) {
            throw .invalidArgument(
                name: "log_dir",
                reason: "run directory \(runDirectory) is outside \(logRoot), the log root of the aggregator serving \(ringDirectory); "
                    + "write under it, or serve the ring directory with an aggregator without --logdir")
        }
        let writer = try SharedRing.writer(directory: ringDirectory, options: ringOptions)
        var warnings = warnings
        if let failure = AggregatorLauncher.startIfUnserved(
            ringDirectory: ringDirectory, start: startAggregator, executable: aggregatorExecutable) {
            warnings.append("no aggregator serves \(ringDirectory) and none was started (\(failure)): records wait in the ring "
                            + "until `ringboard aggregate --ring-dir \(ringDirectory)` runs")
        }
        self.warnings = warnings
        self.run = TensorBoard.nextRun.wrappingAdd(1, ordering: .relaxed).oldValue
        self.writer = writer
        send(.runAnnouncement(run: run, rank: UInt32(rank), worldSize: UInt32(worldSize), policy: rankPolicy, arguments: arguments))
    }

    /// Run numbers of this process's callbacks and `SummaryWriter`s, which share its ring.
    static let nextRun = Atomic<UInt32>(0)

    // MARK: Hooks

    public func setParams(_ params: TrainingParameters) throws(ConfigurationError) {
        if arguments.histogramFrequency > 0 && !params.doValidation {
            throw .histogramsNeedValidationData(histogramFrequency: Int(arguments.histogramFrequency))
        }
        state.locked { $0.doValidation = params.doValidation }
        var object: [String: Any] = ["do_validation": params.doValidation, "metrics": params.metrics]
        if let value = params.batchSize { object["batch_size"] = value }
        if let value = params.epochs { object["epochs"] = value }
        if let value = params.steps { object["steps"] = value }
        if let value = params.samples { object["samples"] = value }
        send(.parameters(run: run, json: TensorBoard.json(object)))
    }

    public func setModel(_ model: ModelDescription) throws(ConfigurationError) {
        try model.validate()
        if case .perLayer(let files) = arguments.embeddingsMetadata {
            let embeddingLayers = Set(model.layers.filter { $0.className == "Embedding" }.map(\.name))
            let unknown = files.keys.filter { !embeddingLayers.contains($0) }
            if !unknown.isEmpty { throw .unrecognizedEmbeddingLayers(unknown) }
        }
        state.locked { $0.model = model }
        var weightNumber = 0
        let layers: [[String: Any]] = model.layers.map { layer in
            var object: [String: Any] = ["name": layer.name, "class_name": layer.className]
            if let config = layer.configJSON { object["config_json"] = config }
            object["weights"] = layer.weights.map { weight -> [String: Any] in
                defer { weightNumber += 1 }
                return ["name": weight.name, "shape": weight.shape, "id": weightNumber]
            }
            return object
        }
        var description: [String: Any] = ["name": model.name, "layers": layers]
        if let modelJSON = model.modelJSON { description["model_json"] = modelJSON }
        send(.model(run: run, json: TensorBoard.json(description), graphDef: model.graphDef, wallTime: stamp()))
    }

    /// New weight values (the trainer's `model.layers[i].weights` as they are now), read when an
    /// epoch ends; layers and weights are matched by name.
    ///
    /// - Parameter layers: Layers with their current weights.
    public func setWeights(_ layers: [ModelDescription.Layer]) {
        state.locked { state in
            guard var model = state.model else { return }
            for update in layers {
                guard let index = model.layers.firstIndex(where: { $0.name == update.name }) else { continue }
                for weight in update.weights {
                    if let slot = model.layers[index].weights.firstIndex(where: { $0.name == weight.name }) {
                        model.layers[index].weights[slot].values = weight.values
                    }
                }
            }
            state.model = model
        }
    }

    public func onTrainBegin(logs: Logs) { hook(.trainBegin, 0, logs) }
    public func onTrainEnd(logs: Logs) { hook(.trainEnd, 0, logs) }
    public func onEpochBegin(_ epoch: Int, logs: Logs) { hook(.epochBegin, epoch, logs) }

    public func onEpochEnd(_ epoch: Int, logs: Logs) {
        // Weights go out only when the aggregator will write histograms, images or embeddings
        // for this epoch, and always before the hook that uses them.
        sendWeightsIfRead(atEpoch: epoch)
        hook(.epochEnd, epoch, logs)
    }

    /// Whether the end of epoch `epoch` writes histograms, images or embeddings, and so reads
    /// the weights.
    ///
    /// - Parameter epoch: The epoch.
    public func readsWeights(atEpoch epoch: Int) -> Bool {
        let histograms = arguments.histogramFrequency > 0 && Int64(epoch) % arguments.histogramFrequency == 0
        let embeddings = arguments.embeddingsFrequency > 0 && Int64(epoch) % arguments.embeddingsFrequency == 0
        return histograms || embeddings
    }

    /// Sends the model's weights before an epoch end that reads them, unless the caller sent
    /// them since the last epoch end (`sendWeights(count:read:)`).
    private func sendWeightsIfRead(atEpoch epoch: Int) {
        let sent = state.locked { state in
            defer { state.weightsSent = false }
            return state.weightsSent
        }
        if !sent && readsWeights(atEpoch: epoch) { sendWeights() }
    }

    public func onTrainBatchBegin(_ batch: Int, logs: Logs) { batchHook(.train, false, batch, logs) }
    public func onTrainBatchEnd(_ batch: Int, logs: Logs) { batchHook(.train, true, batch, logs) }
    public func onTestBegin(logs: Logs) { hook(.testBegin, 0, logs) }
    /// `on_test_end`. Under Keras 3 semantics `iterations` is the optimizer's iterations, the
    /// step of the `evaluation_<name>_vs_iterations` summaries (`nil`: a model without an
    /// optimizer, which writes none); TF 2.0 ignores it.
    public func onTestEnd(logs: Logs, iterations: Int?) { hook(.testEnd, iterations ?? -1, logs) }
    public func onTestEnd(logs: Logs) { hook(.testEnd, -1, logs) }
    public func onTestBatchBegin(_ batch: Int, logs: Logs) { batchHook(.test, false, batch, logs) }
    public func onTestBatchEnd(_ batch: Int, logs: Logs) { batchHook(.test, true, batch, logs) }
    public func onPredictBegin(logs: Logs) { hook(.predictBegin, 0, logs) }
    public func onPredictEnd(logs: Logs) { hook(.predictEnd, 0, logs) }
    public func onPredictBatchBegin(_ batch: Int, logs: Logs) { batchHook(.predict, false, batch, logs) }
    public func onPredictBatchEnd(_ batch: Int, logs: Logs) { batchHook(.predict, true, batch, logs) }

    // MARK: The hot loop

    /// Numbers metric names once, for `onTrainBatchEnd(_:logs:)` with `BatchLogs`.
    ///
    /// - Parameter names: The metric names, e.g. `["batch", "size", "loss", "accuracy"]`.
    /// - Returns: Logs whose values the loop overwrites in place.
    public func batchLogs(_ names: [String]) -> BatchLogs {
        BatchLogs(metrics: names.map(number(metric:)))
    }

    /// `on_train_batch_end` for the hot loop: one record written straight into the ring, with no
    /// allocation and no lookup.
    ///
    /// - Parameters:
    ///   - batch: The batch index.
    ///   - logs: Values for the metrics numbered by `batchLogs(_:)`.
    @inlinable
    public func onTrainBatchEnd(_ batch: Int, logs: BatchLogs) {
        appendBatch(.train, true, batch, logs)
    }

    @usableFromInline
    func appendBatch(_ phase: BatchPhase, _ isEnd: Bool, _ batch: Int, _ logs: BatchLogs) {
        guard !announcesOnly else { return }
        let run = run
        let wallTime = stamp(phase, isEnd: isEnd)
        _ = writer.append(type: RecordType.batch, length: HookRecord.batchLength(metricCount: logs.metrics.count)) { payload in
            HookRecord.encodeBatch(into: payload, run: run, phase: phase, isEnd: isEnd, batch: Int64(batch),
                                   metrics: logs.metrics.span, values: logs.values.span, wallTime: wallTime)
        }
    }

    /// The time a record is stamped with: the kernel's tick (`HookClock`), but for the hooks of
    /// the train batch the aggregator traces, which are stamped to the clock's resolution, so
    /// that the trace orders them with the spans timed within the batch (`span`). No stamp is
    /// earlier than one before it: a precise stamp runs up to a tick ahead of the tick, so those
    /// after it are raised to it.
    ///
    /// - Parameters:
    ///   - phase: The batch hook's phase; `nil` for any other record.
    ///   - isEnd: Whether the batch hook is a batch's end.
    @inlinable
    func stamp(_ phase: BatchPhase? = nil, isEnd: Bool = false) -> Int64 {
        tracedTrainBatch < 0 ? HookClock.now() : tracingStamp(phase, isEnd)
    }

    /// `stamp` when a batch is traced: counts train batch ends, and keeps
    /// stamps from going back. Out of line, so that the hot path inlines no more than a test.
    @usableFromInline @inline(never)
    func tracingStamp(_ phase: BatchPhase?, _ isEnd: Bool) -> Int64 {
        let floor = stampFloor.load(ordering: .relaxed)
        if phase == .train {
            let ends = trainBatchEnds.load(ordering: .relaxed)
            if isEnd { trainBatchEnds.store(ends &+ 1, ordering: .relaxed) }
            if ends == tracedTrainBatch {
                let now = max(TensorBoard.preciseNow(), floor)
                stampFloor.store(now, ordering: .relaxed)
                return now
            }
        }
        return max(HookClock.now(), floor)
    }

    // MARK: Numbered logs

    /// The number of metric `name` for hooks given numbered logs: the same name gets the same
    /// number for the callback's lifetime, and a name is announced to the aggregator once.
    ///
    /// - Parameter name: The metric's name, e.g. `loss`.
    public func metricNumber(_ name: String) -> UInt32 {
        number(metric: name)
    }

    /// A hook other than the batch hooks, with numbered logs (`metricNumber(_:)`).
    ///
    /// - Parameters:
    ///   - kind: The hook.
    ///   - index: The epoch for the epoch hooks; ignored by the others.
    ///   - metrics: Metric numbers.
    ///   - values: Their values, one per number.
    /// - Throws: `ConfigurationError.invalidArgument` when the counts differ or a number was
    ///   never given; nothing is sent then.
    public func hook(_ kind: HookKind, index: Int, metrics: Span<UInt32>, values: Span<Double>) throws(ConfigurationError) {
        try checkNumbered(metrics, values)
        if kind == .epochEnd { sendWeightsIfRead(atEpoch: index) }
        var logs: [MetricValue] = []
        logs.reserveCapacity(metrics.count)
        for k in 0..<metrics.count { logs.append(MetricValue(metric: metrics[k], value: values[k])) }
        send(.hook(run: run, kind: kind, index: Int64(index), logs: logs, wallTime: stamp()))
    }

    /// A batch hook with numbered logs (`metricNumber(_:)`): one record written straight into
    /// the ring, with no allocation.
    ///
    /// - Parameters:
    ///   - phase: Train, test or predict.
    ///   - isEnd: The batch's end (else its beginning).
    ///   - batch: The batch index.
    ///   - metrics: Metric numbers.
    ///   - values: Their values, one per number.
    /// - Throws: `ConfigurationError.invalidArgument` when the counts differ or a number was
    ///   never given; nothing is sent then.
    public func batchHook(
        _ phase: BatchPhase, isEnd: Bool, batch: Int, metrics: Span<UInt32>, values: Span<Double>
    ) throws(ConfigurationError) {
        try checkNumbered(metrics, values)
        guard !announcesOnly else { return }
        let run = run
        let wallTime = stamp(phase, isEnd: isEnd)
        _ = writer.append(type: RecordType.batch, length: HookRecord.batchLength(metricCount: metrics.count)) { payload in
            HookRecord.encodeBatch(into: payload, run: run, phase: phase, isEnd: isEnd, batch: Int64(batch),
                                   metrics: metrics, values: values, wallTime: wallTime)
        }
    }

    private func checkNumbered(_ metrics: Span<UInt32>, _ values: Span<Double>) throws(ConfigurationError) {
        guard metrics.count == values.count else {
            throw .invalidArgument(name: "logs", reason: "\(metrics.count) metric numbers but \(values.count) values")
        }
        guard metrics.count <= Int(UInt16.max) else {
            throw .invalidArgument(name: "logs", reason: "\(metrics.count) metrics; at most \(UInt16.max) a hook")
        }
        let known = metricCount.load(ordering: .acquiring)
        for k in 0..<metrics.count where metrics[k] >= known {
            throw .invalidArgument(name: "logs", reason: "metric number \(metrics[k]) was never given (\(known) names are numbered)")
        }
    }

    /// Sends the weights' current values now, read from the caller's memory with one copy (into
    /// the weight segment), for the next epoch end that reads them (`readsWeights(atEpoch:)`),
    /// which then sends nothing more. `set_model`'s weights, in order, must be given.
    ///
    /// - Parameters:
    ///   - count: How many weights the caller gives: `set_model`'s.
    ///   - read: Called once per weight, in order, with its index, its number of values (as its
    ///     shape in `setModel` holds) and a closure to call once with exactly those values.
    /// - Throws: `ConfigurationError.invalidArgument` when no model was set or `count` is not
    ///   its number of weights; nothing is sent then.
    public func sendWeights(
        count: Int, read: (_ index: Int, _ valueCount: Int, _ body: (Span<Float>) -> Void) -> Void
    ) throws(ConfigurationError) {
        let (valueCounts, version) = try state.locked { state throws(ConfigurationError) -> ([Int], UInt64) in
            guard let model = state.model else {
                throw .invalidArgument(name: "weights", reason: "sent before set_model")
            }
            let valueCounts = model.layers.flatMap { $0.weights.map(\.values.count) }
            guard valueCounts.count == count else {
                throw .invalidArgument(name: "weights", reason: "\(count) given, but set_model has \(valueCounts.count)")
            }
            state.weightsVersion += 1
            state.weightsSent = true
            return (valueCounts, state.weightsVersion)
        }
        guard !announcesOnly, !valueCounts.isEmpty else { return }
        sendWeights(valueCounts: valueCounts, version: version, read: read)
    }

    // MARK: Records

    private func hook(_ kind: HookKind, _ index: Int, _ logs: Logs) {
        let wallTime = stamp()
        send(.hook(run: run, kind: kind, index: Int64(index), logs: numbered(logs), wallTime: wallTime))
    }

    private func batchHook(_ phase: BatchPhase, _ isEnd: Bool, _ batch: Int, _ logs: Logs) {
        let wallTime = stamp(phase, isEnd: isEnd)
        send(.batch(run: run, phase: phase, isEnd: isEnd, batch: Int64(batch), logs: numbered(logs), wallTime: wallTime))
    }

    private func numbered(_ logs: Logs) -> [MetricValue] {
        logs.entries.map { MetricValue(metric: number(metric: $0.name), value: $0.value) }
    }

    /// The number of a metric name, announcing the name the first time it is seen (the
    /// announcement is in the ring before the number is valid in numbered logs).
    private func number(metric name: String) -> UInt32 {
        state.locked { state -> UInt32 in
            if let number = state.metricNumbers[name] { return number }
            let number = UInt32(state.metricNumbers.count)
            state.metricNumbers[name] = number
            send(.metricName(run: run, metric: number, name: name))
            // releasing: pairs with the acquiring load in checkNumbered.
            metricCount.store(number + 1, ordering: .releasing)
            return number
        }
    }

    /// Sends every weight's current values: into a weight segment beside the ring (the one
    /// copy), named by a small record per weight; or, when no segment can be made (a full disk,
    /// say), in records that fit the ring, as before segments were, so weights are never lost.
    private func sendWeights() {
        guard !announcesOnly else { return }
        let (model, version) = state.locked { state -> (ModelDescription?, UInt64) in
            state.weightsVersion += 1
            return (state.model, state.weightsVersion)
        }
        guard let model else { return }
        // The model's own arrays (shared, not copied).
        let weights = model.layers.flatMap { layer in layer.weights.map(\.values) }
        guard !weights.isEmpty else { return }
        sendWeights(valueCounts: weights.map(\.count), version: version) { index, _, body in
            let values = weights[index]
            body(values.span)
        }
    }

    /// Sends weights of `valueCounts[i]` values each, which `read` lends (given the index and the
    /// count): into a weight segment beside the ring (the one copy), named by a small record per
    /// weight; or, when no segment can be made (a full disk, say), in records that fit the ring,
    /// as before segments were, so weights are never lost.
    private func sendWeights(valueCounts: [Int], version: UInt64, read: (Int, Int, (Span<Float>) -> Void) -> Void) {
        if sendWeightSegment(valueCounts: valueCounts, version: version, read: read) { return }
        let piece = max(1, (writer.maximumPayloadLength - 64) / 4)
        for number in valueCounts.indices {
            read(number, valueCounts[number]) { values in
                let total = values.count
                var offset = 0
                repeat {
                    let end = min(total, offset + piece)
                    // Straight from the caller's storage into the ring (or spill segment).
                    let slice = values.extracting(offset..<end)
                    _ = writer.append(type: RecordType.weightValues, length: HookRecord.weightValuesLength(count: end - offset)) { payload in
                        HookRecord.encodeWeightValues(into: payload, run: run, weight: UInt32(number), version: version, offset: UInt64(offset),
                                                      total: UInt64(total), values: slice)
                    }
                    offset = end
                } while offset < total
            }
        }
    }

    /// Writes the weights into the ring's next weight segment, then appends the records naming
    /// it: the aggregator reads the values where they are, so they cost the trainer one copy and
    /// the ring a few dozen bytes each (and a large model no longer overflows the ring into
    /// spill segments at every histogram epoch). The records are appended only once every value
    /// is in the file.
    ///
    /// - Returns: Whether the segment was made and named; `false` (reported once per process)
    ///   when it could not be made, and nothing was appended.
    private func sendWeightSegment(valueCounts: [Int], version: UInt64, read: (Int, Int, (Span<Float>) -> Void) -> Void) -> Bool {
        let segments = SharedRing.segmentWriter(for: writer)
        do {
            try segments.write(
                valueCounts: valueCounts,
                fill: { (index, write) throws(RingError) in
                    var failure: RingError?
                    withoutActuallyEscaping(write) { write in
                        read(index, valueCounts[index]) { values in
                            do throws(RingError) { try write(values) } catch { failure = error }
                        }
                    }
                    if let failure { throw failure }
                },
                publish: { sequence, offsets in
                    for (number, count) in valueCounts.enumerated() {
                        send(.weightSegment(run: run, weight: UInt32(number), version: version, segment: sequence,
                                            offset: UInt64(offsets[number]), count: UInt64(count)))
                    }
                },
                waitForCommit: { [writer] timeout in writer.waitForNextCommit(timeout: timeout) })
            return true
        } catch {
            if !TensorBoard.reportedSegmentFallback.exchange(true, ordering: .relaxed) {
                let message = Array("ringboard: cannot write a weight segment (\(error)); weights go through the ring instead\n".utf8)
                _ = message.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
            }
            return false
        }
    }

    /// Whether a failed weight segment has been reported (once per process).
    private static let reportedSegmentFallback = Atomic<Bool>(false)

    private func send(_ record: HookRecord) {
        guard !announcesOnly || record.type == RecordType.runAnnouncement else { return }
        _ = writer.append(type: record.type, length: record.encodedLength) { record.encode(into: $0) }
    }

    private static func json(_ object: Any) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}

extension TensorBoard {
    /// Runs `body` and adds it to the profiled batch's trace (`profileBatch`) as a span named
    /// `name`, on this thread: the trace viewer shows it between the batch's hooks. Each call
    /// sends one record; the aggregator keeps the spans that fall within a traced batch and
    /// drops the others, so a trainer may time every batch this way.
    ///
    /// - Parameters:
    ///   - name: What ran, e.g. `forward`.
    ///   - body: The work to time.
    /// - Returns: What `body` returns.
    public func span<Result>(_ name: String, _ body: () throws -> Result) rethrows -> Result {
        let start = TensorBoard.preciseNow()
        defer { recordSpan(name, startNanoseconds: start, durationNanoseconds: TensorBoard.preciseNow() - start) }
        return try body()
    }

    /// Adds a span to the profiled batch's trace, timed by the caller: `name` ran on this thread
    /// from `startNanoseconds` (since the Unix epoch, `CLOCK_REALTIME`) for `durationNanoseconds`.
    ///
    /// - Parameters:
    ///   - name: What ran.
    ///   - startNanoseconds: When it started.
    ///   - durationNanoseconds: How long it ran.
    public func recordSpan(_ name: String, startNanoseconds: Int64, durationNanoseconds: Int64) {
        send(.span(run: run, name: name, start: startNanoseconds, duration: max(0, durationNanoseconds), thread: UInt64(Syscalls.threadID)))
    }

    /// Now, in nanoseconds since the Unix epoch, to the clock's resolution (a span is shorter
    /// than the kernel's tick that hooks are stamped with).
    @usableFromInline
    static func preciseNow() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) &* 1_000_000_000 &+ Int64(time.tv_nsec)
    }

    /// Tells the aggregator this process is done with the ring in `directory`: once it has
    /// drained the ring and flushed what the records produced, it removes the ring file. Callbacks
    /// of this process must not be used with that directory afterwards.
    ///
    /// - Parameter directory: The ring directory.
    /// - Returns: The ring file's path (gone once the aggregator is done with it), or `nil` when
    ///   this process never wrote to that directory.
    public static func closeRing(directory: String = RingDirectory.defaultPath) -> String? {
        SharedRing.close(directory: directory)
    }

    /// Waits until everything this process's callbacks sent through this callback's ring is in
    /// the event files: the aggregator has written and committed it. A program that ends right
    /// after training then leaves complete logs.
    ///
    /// - Parameter timeout: How long to wait at most.
    /// - Returns: Whether everything was written in time; `false` when no aggregator serves the
    ///   ring directory, or it is slower than `timeout` (the records stay in the ring, and are
    ///   written when it catches up).
    public func waitUntilWritten(timeout: Duration) -> Bool {
        writer.waitUntilCommitted(timeout: timeout)
    }
}

/// One ring writer per ring directory per process, shared by every callback in it.
enum SharedRing {
    private static let writers = Mutex<[String: RingWriter]>([:])
    /// Each ring's weight segment writer, by ring path: one per ring, so its segments are
    /// numbered in the order the ring names them.
    private static let segmentWriters = Mutex<[String: WeightSegment.Writer]>([:])

    static func segmentWriter(for writer: RingWriter) -> WeightSegment.Writer {
        segmentWriters.locked { writers in
            if let segments = writers[writer.path] { return segments }
            let segments = WeightSegment.Writer(ringPath: writer.path)
            writers[writer.path] = segments
            return segments
        }
    }

    static func writer(directory: String, options: RingWriter.Options) throws(ConfigurationError) -> RingWriter {
        let result: Result<RingWriter, ConfigurationError> = writers.locked { writers in
            // A child of fork() inherits its parent's writers, and makes a ring of its own.
            if let writer = writers[directory], !writer.isInheritedFromParent { return .success(writer) }
            do {
                let writer = try RingWriter(directory: directory, options: options)
                writers[directory] = writer
                return .success(writer)
            } catch {
                return .failure(.transport("\(error)"))
            }
        }
        return try result.get()
    }

    static func close(directory: String) -> String? {
        writers.locked { writers in
            guard let writer = writers.removeValue(forKey: directory) else { return nil }
            _ = segmentWriters.locked { $0.removeValue(forKey: writer.path) }
            writer.close()
            return writer.path
        }
    }
}
