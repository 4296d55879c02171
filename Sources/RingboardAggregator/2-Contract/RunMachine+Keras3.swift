import RingboardFormat
import RingboardRecords

/// The state of Keras 3's `keras.callbacks.TensorBoard` (Keras 3.15,
/// keras/src/callbacks/tensorboard.py) that decides what is written.
struct Keras3State {
    /// `_global_train_batch`: train batches begun since `on_train_begin`, from 1.
    var globalTrainBatch: Int64 = 0
    /// `_global_test_batch`: test batches begun since the callback was made (never reset).
    var globalTestBatch: Int64 = 0
    /// The recording conditions `_push_writer` pushes with its `tf.summary.record_if`
    /// (`step % update_freq == 0`), innermost last. Only with an integer `update_freq`.
    var conditions: [Bool] = []
}

/// Keras 3's callback, hook by hook (`Semantics.keras3`).
///
/// Every summary is TensorBoard 2.x's tensor form: scalars are `DT_FLOAT` tensors
/// (`tf.summary.scalar`), histograms `[30, 3]` tensors, images string tensors. Tags are not
/// cleaned. With an integer `update_freq` (batches), `on_train_begin`, `on_train_batch_begin`,
/// `on_test_begin` and `on_test_batch_begin` push a writer with `record_if(step % update_freq
/// == 0)` (each batch hook popping its predecessor's first), and `on_test_end` and
/// `on_train_end` pop one. Everything written, the epoch summaries and histograms included, is
/// written only when the innermost condition holds: with `update_freq=3` and 5 batches an
/// epoch, Keras writes the epoch summaries of the epochs that end on batch 15, 30, ….
extension RunMachine {
    /// `update_freq` in batches; `nil` for `"epoch"` (no writer is pushed, nothing conditions).
    private var keras3Frequency: Int64? {
        switch arguments.updateFrequency {
        case .epoch: nil
        case .batch: 1
        case .samples(let batches): batches
        }
    }

    /// Whether a summary written now is recorded: the innermost pushed condition, and with
    /// nothing pushed, TensorFlow's default (recorded).
    private var keras3Recording: Bool { keras3.conditions.last ?? true }

    /// `_push_writer` at `step`.
    private mutating func pushCondition(step: Int64) {
        guard let frequency = keras3Frequency else { return }
        keras3.conditions.append(step % frequency == 0)
    }

    /// `_pop_writer` (an unmatched pop, which would raise in Keras, does nothing).
    private mutating func popCondition() {
        guard keras3Frequency != nil else { return }
        _ = keras3.conditions.popLast()
    }

    mutating func keras3BatchHook(_ phase: BatchPhase, isEnd: Bool, logs: borrowing SlotLogs, wallTime: Double) throws(EventFileError) {
        switch (phase, isEnd) {
        case (.train, false):
            keras3.globalTrainBatch += 1
            popCondition()
            pushCondition(step: keras3.globalTrainBatch)
            if arguments.profileBatch > 0 && keras3.globalTrainBatch == arguments.profileBatch && trace == nil {
                trace = Trace(startedAt: wallTime)
            }
        case (.train, true):
            // Every log as `batch_<name>` at the batch count, through the pushed train writer
            // (none with update_freq "epoch").
            if keras3Frequency != nil && keras3Recording && logs.count > 0 {
                try stageBatchScalars(logs, step: keras3.globalTrainBatch, wallTime: wallTime)
            }
            if trace != nil && keras3.globalTrainBatch >= arguments.profileBatch {
                try exportTrace(step: arguments.profileBatch, wallTime: wallTime)
            }
        case (.test, false):
            keras3.globalTestBatch += 1
            popCondition()
            pushCondition(step: keras3.globalTestBatch)
        case (.test, true), (.predict, _):
            break
        }
    }

    mutating func keras3Hook(_ kind: HookKind, index: Int64, logs: [(String, Double)], wallTime: Double) throws(EventFileError) {
        switch kind {
        case .trainBegin:
            keras3.globalTrainBatch = 0
            pushCondition(step: 0)
        case .trainEnd:
            popCondition()
            if trace != nil { try exportTrace(step: arguments.profileBatch, wallTime: wallTime) }
            try closeFiles()
        case .testBegin:
            pushCondition(step: keras3.globalTestBatch)
        case .testEnd:
            // `evaluation_<name>_vs_iterations` at the optimizer's iterations (the hook's index;
            // negative: no optimizer, nothing written).
            if index >= 0 && keras3Recording && !logs.isEmpty {
                try request(.epochScalars(logs.map { (keras3Tag("evaluation_\($0.0)_vs_iterations"), true, Float($0.1)) },
                                          step: index, wallTime: wallTime))
            }
            popCondition()
        case .epochEnd:
            try keras3EpochEnd(index, logs: logs, wallTime: wallTime)
        case .epochBegin, .predictBegin, .predictEnd:
            break
        }
    }

    /// `on_epoch_end`: `epoch_<name>` at the epoch (the trainer appends `learning_rate`), the
    /// `val_` ones to `validation/`; the weights every `histogram_freq` epochs; embeddings every
    /// `embeddings_freq` epochs (Keras saves a checkpoint, unconditionally; the projector's
    /// files stand in for it).
    private mutating func keras3EpochEnd(_ epoch: Int64, logs: [(String, Double)], wallTime: Double) throws(EventFileError) {
        if keras3Recording {
            if !logs.isEmpty {
                var scalars: [(tag: ScalarTag, validation: Bool, value: Float)] = []
                for (name, value) in logs where !name.hasPrefix("val_") {
                    scalars.append((keras3Tag("epoch_" + name), false, Float(value)))
                }
                for (name, value) in logs where name.hasPrefix("val_") {
                    scalars.append((keras3Tag("epoch_" + name.dropFirst(4)), true, Float(value)))
                }
                try request(.epochScalars(scalars, step: epoch, wallTime: wallTime))
            }
            if arguments.histogramFrequency > 0 && epoch % arguments.histogramFrequency == 0, let model {
                try request(.weights(model, epoch: epoch, images: arguments.writeImages, semantics: .keras3, wallTime: wallTime))
            }
        }
        if arguments.embeddingsFrequency > 0 && epoch % arguments.embeddingsFrequency == 0 {
            try writeEmbeddings(keepingTensors: false)
        }
    }

    /// `set_model` with `write_graph`: the model's JSON as tag `keras` at step 0, which Keras 3
    /// writes for Functional and Sequential models only (the trainer sends no JSON for others),
    /// and the layer graph as the op graph. Keras 3 means to write the train function's graph at
    /// the first batch, which needs TensorFlow's tracing (and which Keras 3.15 writes on no
    /// backend); without an op graph, TensorBoard's Graphs dashboard opens on "Malformed
    /// GraphDef". The layer graph stands in for it, with the model, whatever its class.
    mutating func keras3ModelSummary(wallTime: Double) throws(EventFileError) {
        guard arguments.writeGraph, let model, keras3Recording else { return }
        try request(.graph(graphDef: graphDef(of: model), kerasJSON: model.modelJSON, wallTime: wallTime))
    }

    /// The tensor-form tag of an epoch-level scalar, made once per tag.
    private mutating func keras3Tag(_ tag: String) -> ScalarTag {
        if let known = epochScalars[tag]?.tag { return known }
        let made = ScalarTag(tag, form: .tensor)
        epochScalars[tag] = ScalarDestination(tag: made, validation: false)
        return made
    }
}
