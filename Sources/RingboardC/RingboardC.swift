import CRingboardABI
import Glibc
import Ringboard
import RingboardRecords
import RingboardRing

// The functions of ringboard.h (Sources/CRingboardABI/include): each checks what C hands it,
// turns it into the Swift callback's types, and reports a failure as a status plus
// `ringboard_last_error()`. No Swift error or trap crosses into C.

/// A run as C holds it: the callback and its warnings as a C string.
final class CRun {
    let callback: TensorBoard
    let warnings: UnsafeMutablePointer<CChar>

    init(callback: TensorBoard) {
        self.callback = callback
        warnings = strdup(callback.warnings.joined(separator: "\n"))
    }

    deinit { free(warnings) }

    /// The run behind a handle from `ringboard_open`.
    static func from(_ handle: OpaquePointer?) -> CRun? {
        guard let handle else { return nil }
        return Unmanaged<CRun>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue()
    }
}

/// Sets this thread's error message and returns `status`.
func fail(_ status: ringboard_status, _ message: String) -> ringboard_status {
    var message = message
    message.withUTF8 { bytes in
        bytes.withMemoryRebound(to: CChar.self) { ringboard_internal_set_error($0.baseAddress, $0.count) }
    }
    return status
}

func fail(_ error: ConfigurationError) -> ringboard_status {
    switch error {
    case .transport: fail(RINGBOARD_TRANSPORT, error.description)
    case .invalidArgument, .unrecognizedArguments: fail(RINGBOARD_INVALID_ARGUMENT, error.description)
    case .histogramsNeedValidationData, .unrecognizedEmbeddingLayers: fail(RINGBOARD_CONFIGURATION, error.description)
    }
}

/// A C string as a Swift string: `nil` for NULL, and an error for bytes that are not UTF-8.
func string(_ pointer: UnsafePointer<CChar>?, _ name: String) throws(ConfigurationError) -> String? {
    guard let pointer else { return nil }
    guard let value = String(validatingCString: pointer) else {
        throw .invalidArgument(name: name, reason: "is not UTF-8")
    }
    return value
}

func requiredString(_ pointer: UnsafePointer<CChar>?, _ name: String) throws(ConfigurationError) -> String {
    guard let value = try string(pointer, name) else { throw .invalidArgument(name: name, reason: "is NULL") }
    return value
}

/// `count` elements at `pointer`, which may be NULL only when `count` is 0.
func buffer<T>(_ pointer: UnsafePointer<T>?, _ count: Int, _ name: String) throws(ConfigurationError) -> UnsafeBufferPointer<T> {
    guard count >= 0 else { throw .invalidArgument(name: name, reason: "has a negative count") }
    if count == 0 { return UnsafeBufferPointer(start: nil, count: 0) }
    guard let pointer else { throw .invalidArgument(name: name, reason: "is NULL with \(count) elements") }
    return UnsafeBufferPointer(start: pointer, count: count)
}

// MARK: Runs

@_cdecl("ringboard_open")
public func cOpen(_ options: UnsafePointer<ringboard_options>?, _ run: UnsafeMutablePointer<OpaquePointer?>?) -> ringboard_status {
    guard let options, let run else { return fail(RINGBOARD_INVALID_ARGUMENT, "ringboard_open: options and run must not be NULL") }
    // The two fields every version begins with.
    let version = options.pointer(to: \.abi_version)!.pointee
    let size = Int(options.pointer(to: \.size)!.pointee)
    guard version <= RINGBOARD_ABI_VERSION else {
        return fail(RINGBOARD_ABI_MISMATCH,
                    "the caller was built against ringboard.h ABI version \(version), newer than this libringboard.so's "
                    + "(\(RINGBOARD_ABI_VERSION), ringboard \(String(cString: ringboard_version()))): use a libringboard.so as new as the header")
    }
    // Version 1's options end where `semantics` begins.
    let expectedSize = version == 1 ? MemoryLayout<ringboard_options>.offset(of: \.semantics)! : MemoryLayout<ringboard_options>.size
    guard version >= 1, size == expectedSize else {
        return fail(RINGBOARD_ABI_MISMATCH,
                    "ringboard_options: ABI version \(version) with size \(size); this library takes version 1 to \(RINGBOARD_ABI_VERSION) "
                    + "with the size of that version's ringboard_options (\(MemoryLayout<ringboard_options>.size) for version "
                    + "\(RINGBOARD_ABI_VERSION); start from ringboard_options_default())")
    }
    // A version 1 caller's struct is shorter: only its fields are read.
    var o = ringboard_options()
    withUnsafeMutableBytes(of: &o) { $0.copyMemory(from: UnsafeRawBufferPointer(start: options, count: expectedSize)) }
    if version == 1 { o.semantics = RINGBOARD_SEMANTICS_TF20 }
    do throws(ConfigurationError) {
        let updateFrequency: UpdateFrequency
        switch o.update_freq {
        case RINGBOARD_UPDATE_EPOCH: updateFrequency = .epoch
        case RINGBOARD_UPDATE_BATCH: updateFrequency = .batch
        case RINGBOARD_UPDATE_SAMPLES: updateFrequency = .samples(o.update_freq_samples)
        default: throw .invalidArgument(name: "update_freq", reason: "unknown kind \(o.update_freq.rawValue)")
        }
        let semantics: Semantics
        switch o.semantics {
        case RINGBOARD_SEMANTICS_TF20: semantics = .tf20
        case RINGBOARD_SEMANTICS_KERAS3: semantics = .keras3
        default: throw .invalidArgument(name: "semantics", reason: "unknown semantics \(o.semantics.rawValue)")
        }
        let policy: RankPolicy
        switch o.rank_policy {
        case RINGBOARD_RANK_CHIEF: policy = .chief
        case RINGBOARD_RANK_MEAN: policy = .mean
        case RINGBOARD_RANK_PER_RANK: policy = .perRank
        default: throw .invalidArgument(name: "rank_policy", reason: "unknown policy \(o.rank_policy.rawValue)")
        }
        var metadata: EmbeddingsMetadata?
        if let all = try string(o.embeddings_metadata, "embeddings_metadata") {
            guard o.embeddings_metadata_count == 0 else {
                throw .invalidArgument(name: "embeddings_metadata", reason: "give one file or a file per layer, not both")
            }
            metadata = .all(all)
        } else if o.embeddings_metadata_count > 0 {
            let count = Int(o.embeddings_metadata_count)
            let layers = try buffer(o.embeddings_metadata_layers, count, "embeddings_metadata_layers")
            let files = try buffer(o.embeddings_metadata_files, count, "embeddings_metadata_files")
            var byLayer: [String: String] = [:]
            for k in 0..<count {
                byLayer[try requiredString(layers[k], "embeddings_metadata_layers[\(k)]")] =
                    try requiredString(files[k], "embeddings_metadata_files[\(k)]")
            }
            metadata = .perLayer(byLayer)
        }
        func flag(_ value: Int32, _ name: String) throws(ConfigurationError) -> Bool {
            guard value == 0 || value == 1 else { throw .invalidArgument(name: name, reason: "must be 0 or 1, not \(value)") }
            return value == 1
        }
        func int(_ value: Int64, _ name: String) throws(ConfigurationError) -> Int {
            guard let value = Int(exactly: value) else { throw .invalidArgument(name: name, reason: "\(value) is out of range") }
            return value
        }
        let callback = try TensorBoard(
            logDir: try string(o.log_dir, "log_dir") ?? "logs", histogramFreq: try int(o.histogram_freq, "histogram_freq"),
            writeGraph: try flag(o.write_graph, "write_graph"), writeImages: try flag(o.write_images, "write_images"),
            updateFreq: updateFrequency, profileBatch: try int(o.profile_batch, "profile_batch"),
            embeddingsFreq: try int(o.embeddings_freq, "embeddings_freq"), embeddingsMetadata: metadata,
            rank: Int(o.rank), worldSize: Int(o.world_size), rankPolicy: policy,
            ringDirectory: try string(o.ring_directory, "ring_directory") ?? RingDirectory.defaultPath,
            startAggregator: try flag(o.start_aggregator, "start_aggregator"),
            aggregatorExecutable: try string(o.aggregator_executable, "aggregator_executable"), semantics: semantics)
        run.pointee = OpaquePointer(Unmanaged.passRetained(CRun(callback: callback)).toOpaque())
        return RINGBOARD_OK
    } catch {
        return fail(error)
    }
}

@_cdecl("ringboard_warnings")
public func cWarnings(_ handle: OpaquePointer?) -> UnsafePointer<CChar>? {
    guard let run = CRun.from(handle) else { return nil }
    return UnsafePointer(run.warnings)
}

@_cdecl("ringboard_close")
public func cClose(_ handle: OpaquePointer?) {
    guard let handle else { return }
    Unmanaged<CRun>.fromOpaque(UnsafeRawPointer(handle)).release()
}

// MARK: Hooks

@_cdecl("ringboard_set_params")
public func cSetParams(_ handle: OpaquePointer?, _ params: UnsafePointer<ringboard_params>?) -> ringboard_status {
    guard let run = CRun.from(handle), let params else { return fail(RINGBOARD_INVALID_ARGUMENT, "ringboard_set_params: run and params must not be NULL") }
    let p = params.pointee
    do throws(ConfigurationError) {
        func optional(_ value: Int64) -> Int? { value < 0 ? nil : Int(exactly: value) }
        let names = try buffer(p.metrics, Int(p.metric_count), "metrics")
        var metrics: [String] = []
        for k in 0..<names.count { metrics.append(try requiredString(names[k], "metrics[\(k)]")) }
        try run.callback.setParams(TrainingParameters(
            batchSize: optional(p.batch_size), epochs: optional(p.epochs), steps: optional(p.steps), samples: optional(p.samples),
            doValidation: p.do_validation != 0, metrics: metrics))
        return RINGBOARD_OK
    } catch {
        return fail(error)
    }
}

/// Float32 values of a weight given as C data: `count` values of `dtype` (Float64 narrowed).
private func floats(_ values: UnsafeRawPointer, _ dtype: ringboard_dtype, _ count: Int, _ name: String) throws(ConfigurationError) -> [Float] {
    switch dtype {
    case RINGBOARD_FLOAT32:
        return Array(UnsafeBufferPointer(start: values.assumingMemoryBound(to: Float.self), count: count))
    case RINGBOARD_FLOAT64:
        return UnsafeBufferPointer(start: values.assumingMemoryBound(to: Double.self), count: count).map { Float($0) }
    default:
        throw .invalidArgument(name: name, reason: "unknown dtype \(dtype.rawValue)")
    }
}

@_cdecl("ringboard_set_model")
public func cSetModel(_ handle: OpaquePointer?, _ model: UnsafePointer<ringboard_model>?) -> ringboard_status {
    guard let run = CRun.from(handle), let model else { return fail(RINGBOARD_INVALID_ARGUMENT, "ringboard_set_model: run and model must not be NULL") }
    let m = model.pointee
    do throws(ConfigurationError) {
        var layers: [ModelDescription.Layer] = []
        for layer in try buffer(m.layers, Int(m.layer_count), "layers") {
            let layerName = try requiredString(layer.name, "layer name")
            var weights: [ModelDescription.Weight] = []
            for weight in try buffer(layer.weights, Int(layer.weight_count), "weights of layer \(layerName)") {
                let name = try requiredString(weight.name, "weight name in layer \(layerName)")
                let shape = try buffer(weight.shape, Int(weight.rank), "shape of \(name)").map { Int($0) }
                guard let count = WeightShape.elementCount(shape) else {
                    throw .invalidArgument(name: "weight \(name)", reason: "shape \(shape) has a negative dimension or is too large")
                }
                let values: [Float]
                if let pointer = weight.values {
                    values = try floats(pointer, weight.dtype, count, "weight \(name)")
                } else {
                    values = [Float](repeating: 0, count: count)
                }
                weights.append(ModelDescription.Weight(name: name, shape: shape, values: values))
            }
            layers.append(ModelDescription.Layer(
                name: layerName, className: try requiredString(layer.class_name, "class name of layer \(layerName)"),
                configJSON: try string(layer.config_json, "config of layer \(layerName)"), weights: weights))
        }
        let graphDef = Array(try buffer(m.graph_def, Int(m.graph_def_size), "graph_def"))
        try run.callback.setModel(ModelDescription(
            name: try string(m.name, "model name") ?? "model", layers: layers, modelJSON: try string(m.model_json, "model_json"),
            graphDef: graphDef))
        return RINGBOARD_OK
    } catch {
        return fail(error)
    }
}

@_cdecl("ringboard_reads_weights")
public func cReadsWeights(_ handle: OpaquePointer?, _ epoch: Int64) -> Int32 {
    guard let run = CRun.from(handle), let epoch = Int(exactly: epoch) else { return 0 }
    return run.callback.readsWeights(atEpoch: epoch) ? 1 : 0
}

@_cdecl("ringboard_send_weights")
public func cSendWeights(
    _ handle: OpaquePointer?, _ count: Int, _ values: UnsafePointer<UnsafeRawPointer?>?, _ dtypes: UnsafePointer<ringboard_dtype>?
) -> ringboard_status {
    guard let run = CRun.from(handle) else { return fail(RINGBOARD_INVALID_ARGUMENT, "ringboard_send_weights: run must not be NULL") }
    do throws(ConfigurationError) {
        let pointers = try buffer(values, count, "values")
        let types = try buffer(dtypes, count, "dtypes")
        for k in 0..<count {
            guard pointers[k] != nil else { throw .invalidArgument(name: "values[\(k)]", reason: "is NULL") }
            guard types[k] == RINGBOARD_FLOAT32 || types[k] == RINGBOARD_FLOAT64 else {
                throw .invalidArgument(name: "dtypes[\(k)]", reason: "unknown dtype \(types[k].rawValue)")
            }
        }
        var narrowed: [Float] = []
        try run.callback.sendWeights(count: count) { index, valueCount, body in
            let pointer = pointers[index]!
            if types[index] == RINGBOARD_FLOAT32 {
                // Straight from the caller's memory: the one copy is into the weight segment.
                body(UnsafeBufferPointer(start: pointer.assumingMemoryBound(to: Float.self), count: valueCount).span)
            } else {
                let wide = UnsafeBufferPointer(start: pointer.assumingMemoryBound(to: Double.self), count: valueCount)
                narrowed.removeAll(keepingCapacity: true)
                narrowed.append(contentsOf: wide.lazy.map { Float($0) })
                body(narrowed.span)
            }
        }
        return RINGBOARD_OK
    } catch {
        return fail(error)
    }
}

@_cdecl("ringboard_metric")
public func cMetric(_ handle: OpaquePointer?, _ name: UnsafePointer<CChar>?) -> UInt32 {
    guard let run = CRun.from(handle) else {
        _ = fail(RINGBOARD_INVALID_ARGUMENT, "ringboard_metric: run must not be NULL")
        return .max
    }
    guard let pointer = name, let name = String(validatingCString: pointer), !name.isEmpty else {
        _ = fail(RINGBOARD_INVALID_ARGUMENT, "ringboard_metric: the name must be non-empty UTF-8")
        return .max
    }
    return run.callback.metricNumber(name)
}

@_cdecl("ringboard_hook")
public func cHook(
    _ handle: OpaquePointer?, _ kind: ringboard_hook_kind, _ index: Int64,
    _ metrics: UnsafePointer<UInt32>?, _ values: UnsafePointer<Double>?, _ count: Int
) -> ringboard_status {
    guard let run = CRun.from(handle) else { return fail(RINGBOARD_INVALID_ARGUMENT, "ringboard_hook: run must not be NULL") }
    do throws(ConfigurationError) {
        let metrics = try buffer(metrics, count, "metrics")
        let values = try buffer(values, count, "values")
        guard let index = Int(exactly: index) else { throw .invalidArgument(name: "index", reason: "\(index) is out of range") }
        let callback = run.callback
        switch kind.rawValue {
        case 0...7:
            try callback.hook(HookKind(rawValue: UInt8(kind.rawValue))!, index: index, metrics: metrics.span, values: values.span)
        case 8...13:
            let phase = BatchPhase(rawValue: UInt8((kind.rawValue - 8) / 2))!
            try callback.batchHook(phase, isEnd: kind.rawValue & 1 == 1, batch: index, metrics: metrics.span, values: values.span)
        default:
            throw .invalidArgument(name: "kind", reason: "unknown hook \(kind.rawValue)")
        }
        return RINGBOARD_OK
    } catch {
        return fail(error)
    }
}

@_cdecl("ringboard_span")
public func cSpan(_ handle: OpaquePointer?, _ name: UnsafePointer<CChar>?, _ start: Int64, _ duration: Int64) -> ringboard_status {
    guard let run = CRun.from(handle) else { return fail(RINGBOARD_INVALID_ARGUMENT, "ringboard_span: run must not be NULL") }
    guard let name, let text = String(validatingCString: name), !text.isEmpty else {
        return fail(RINGBOARD_INVALID_ARGUMENT, "ringboard_span: the name must be a non-empty UTF-8 string")
    }
    guard duration >= 0 else { return fail(RINGBOARD_INVALID_ARGUMENT, "ringboard_span: the duration must be 0 or more, not \(duration)") }
    run.callback.recordSpan(text, startNanoseconds: start, durationNanoseconds: duration)
    return RINGBOARD_OK
}

@_cdecl("ringboard_wait_written")
public func cWaitWritten(_ handle: OpaquePointer?, _ timeout: Double) -> ringboard_status {
    guard let run = CRun.from(handle) else { return fail(RINGBOARD_INVALID_ARGUMENT, "ringboard_wait_written: run must not be NULL") }
    guard timeout >= 0, timeout.isFinite || timeout == .infinity else {
        return fail(RINGBOARD_INVALID_ARGUMENT, "ringboard_wait_written: the timeout must be 0 or more seconds, not \(timeout)")
    }
    let limit: Duration = timeout > 1e9 ? .seconds(1_000_000_000) : .nanoseconds(Int64(timeout * 1e9))
    if run.callback.waitUntilWritten(timeout: limit) { return RINGBOARD_OK }
    return fail(RINGBOARD_TIMEOUT, "not everything was written within \(timeout) s: is an aggregator serving the ring directory?")
}
