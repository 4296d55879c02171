import CRingboardABI
import Foundation
import Glibc
import Ringboard
import RingboardRecords
import RingboardRing

// The SummaryWriter functions of ringboard.h (ABI version 3): as for runs, each checks what C
// hands it and reports a failure as a status plus `ringboard_last_error()`.

/// A writer as C holds it: the Swift writer and its strings as C strings.
final class CWriter {
    let writer: SummaryWriter
    let logDirectory: UnsafeMutablePointer<CChar>
    let warnings: UnsafeMutablePointer<CChar>

    init(writer: SummaryWriter) {
        self.writer = writer
        logDirectory = strdup(writer.logDirectory)
        warnings = strdup(writer.warnings.joined(separator: "\n"))
    }

    deinit {
        free(logDirectory)
        free(warnings)
    }

    static func from(_ handle: OpaquePointer?) -> CWriter? {
        guard let handle else { return nil }
        return Unmanaged<CWriter>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue()
    }
}

/// The wall time C gave: `nil` (now) for a negative one.
private func wallTime(_ value: Double) -> Double? {
    value < 0 ? nil : value
}

@_cdecl("ringboard_writer_open")
public func cWriterOpen(_ options: UnsafePointer<ringboard_writer_options>?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> ringboard_status {
    guard let options, let out else { return fail(RINGBOARD_INVALID_ARGUMENT, "ringboard_writer_open: options and writer must not be NULL") }
    let version = options.pointer(to: \.abi_version)!.pointee
    let size = Int(options.pointer(to: \.size)!.pointee)
    guard version <= RINGBOARD_ABI_VERSION else {
        return fail(RINGBOARD_ABI_MISMATCH, "the caller was built against ringboard.h ABI version \(version), newer than this libringboard.so's "
                    + "(\(RINGBOARD_ABI_VERSION)): use a libringboard.so as new as the header")
    }
    guard version >= 3, size == MemoryLayout<ringboard_writer_options>.size else {
        return fail(RINGBOARD_ABI_MISMATCH, "ringboard_writer_options: ABI version \(version) with size \(size); this library takes version 3 or more "
                    + "with size \(MemoryLayout<ringboard_writer_options>.size) (start from ringboard_writer_options_default())")
    }
    let o = options.pointee
    do throws(ConfigurationError) {
        let policy: RankPolicy
        switch o.rank_policy {
        case RINGBOARD_RANK_CHIEF: policy = .chief
        case RINGBOARD_RANK_PER_RANK: policy = .perRank
        case RINGBOARD_RANK_MEAN: policy = .mean
        default: throw .invalidArgument(name: "rank_policy", reason: "unknown policy \(o.rank_policy.rawValue)")
        }
        guard o.start_aggregator == 0 || o.start_aggregator == 1 else {
            throw .invalidArgument(name: "start_aggregator", reason: "must be 0 or 1, not \(o.start_aggregator)")
        }
        let writer = try SummaryWriter(
            logDir: try requiredString(o.log_dir, "log_dir"), rank: Int(o.rank), worldSize: Int(o.world_size), rankPolicy: policy,
            ringDirectory: try string(o.ring_directory, "ring_directory") ?? RingDirectory.defaultPath,
            startAggregator: o.start_aggregator == 1, aggregatorExecutable: try string(o.aggregator_executable, "aggregator_executable"))
        out.pointee = OpaquePointer(Unmanaged.passRetained(CWriter(writer: writer)).toOpaque())
        return RINGBOARD_OK
    } catch {
        return fail(RINGBOARD_INVALID_ARGUMENT, error.description)
    }
}

@_cdecl("ringboard_writer_log_dir")
public func cWriterLogDirectory(_ handle: OpaquePointer?) -> UnsafePointer<CChar>? {
    CWriter.from(handle).map { UnsafePointer($0.logDirectory) }
}

@_cdecl("ringboard_writer_warnings")
public func cWriterWarnings(_ handle: OpaquePointer?) -> UnsafePointer<CChar>? {
    CWriter.from(handle).map { UnsafePointer($0.warnings) }
}

@_cdecl("ringboard_writer_close")
public func cWriterClose(_ handle: OpaquePointer?) {
    guard let handle else { return }
    Unmanaged<CWriter>.fromOpaque(UnsafeRawPointer(handle)).release()
}

@_cdecl("ringboard_writer_tag")
public func cWriterTag(_ handle: OpaquePointer?, _ name: UnsafePointer<CChar>?) -> UInt32 {
    guard let writer = CWriter.from(handle)?.writer else {
        _ = fail(RINGBOARD_INVALID_ARGUMENT, "ringboard_writer_tag: writer must not be NULL")
        return .max
    }
    guard let name, let text = String(validatingCString: name) else {
        _ = fail(RINGBOARD_INVALID_ARGUMENT, "ringboard_writer_tag: the name must be UTF-8, not NULL")
        return .max
    }
    do {
        return try writer.tag(text).number
    } catch {
        _ = fail(RINGBOARD_INVALID_ARGUMENT, error.description)
        return .max
    }
}

/// Runs a writer call, reporting its failure.
private func call(_ handle: OpaquePointer?, _ function: String, _ body: (SummaryWriter) throws(ConfigurationError) -> Void) -> ringboard_status {
    guard let writer = CWriter.from(handle)?.writer else { return fail(RINGBOARD_INVALID_ARGUMENT, "\(function): writer must not be NULL") }
    do {
        try body(writer)
        return RINGBOARD_OK
    } catch {
        if case .transport = error { return fail(RINGBOARD_TRANSPORT, "\(function): \(error.description)") }
        return fail(RINGBOARD_INVALID_ARGUMENT, "\(function): \(error.description)")
    }
}

/// A tag number `ringboard_writer_tag` gave this writer.
private func tag(_ writer: SummaryWriter, _ number: UInt32) throws(ConfigurationError) -> SummaryWriter.Tag {
    guard let tag = writer.tag(number: number) else {
        throw .invalidArgument(name: "tag", reason: "\(number) is not a number ringboard_writer_tag gave this writer")
    }
    return tag
}

@_cdecl("ringboard_add_scalar")
public func cAddScalar(
    _ handle: OpaquePointer?, _ tagNumber: UInt32, _ directory: UInt32, _ value: Double, _ step: Int64, _ time: Double
) -> ringboard_status {
    call(handle, "ringboard_add_scalar") { (writer) throws(ConfigurationError) in
        let directory: SummaryWriter.Tag? = directory == HookRecord.noDirectory ? nil : try tag(writer, directory)
        try writer.addScalar(try tag(writer, tagNumber), value, step: Int(step), wallTime: wallTime(time), directory: directory)
    }
}

@_cdecl("ringboard_add_text")
public func cAddText(
    _ handle: OpaquePointer?, _ tagNumber: UInt32, _ text: UnsafePointer<CChar>?, _ length: Int, _ step: Int64, _ time: Double
) -> ringboard_status {
    call(handle, "ringboard_add_text") { (writer) throws(ConfigurationError) in
        let bytes = try buffer(UnsafeRawPointer(text)?.assumingMemoryBound(to: UInt8.self), length, "text")
        guard let string = String(validating: bytes, as: UTF8.self) else { throw .invalidArgument(name: "text", reason: "is not UTF-8") }
        try writer.addText(try tag(writer, tagNumber), string, step: Int(step), wallTime: wallTime(time))
    }
}

@_cdecl("ringboard_add_histogram")
public func cAddHistogram(
    _ handle: OpaquePointer?, _ tagNumber: UInt32, _ values: UnsafeRawPointer?, _ count: Int, _ dtype: ringboard_dtype, _ step: Int64,
    _ time: Double
) -> ringboard_status {
    call(handle, "ringboard_add_histogram") { (writer) throws(ConfigurationError) in
        let tag = try tag(writer, tagNumber)
        switch dtype {
        case RINGBOARD_FLOAT32:
            let values = try buffer(values?.assumingMemoryBound(to: Float.self), count, "values")
            try writer.addHistogram(tag, values.span, step: Int(step), wallTime: wallTime(time))
        case RINGBOARD_FLOAT64:
            let values = try buffer(values?.assumingMemoryBound(to: Double.self), count, "values")
            try writer.addHistogram(tag, values.span, step: Int(step), wallTime: wallTime(time))
        default:
            throw .invalidArgument(name: "dtype", reason: "unknown dtype \(dtype.rawValue)")
        }
    }
}

@_cdecl("ringboard_writer_max_histogram_values")
public func cWriterMaximumHistogramValues(_ handle: OpaquePointer?, _ dtype: ringboard_dtype) -> Int {
    guard let writer = CWriter.from(handle)?.writer else { return 0 }
    let maximum = writer.maximumHistogramValues(width: dtype == RINGBOARD_FLOAT64 ? 8 : 4)
    // Any number: SIZE_MAX (all bits set) to C.
    return maximum == .max ? -1 : maximum
}

@_cdecl("ringboard_add_histogram_raw")
public func cAddHistogramRaw(
    _ handle: OpaquePointer?, _ tagNumber: UInt32, _ min: Double, _ max: Double, _ num: Double, _ sum: Double, _ sumSquares: Double,
    _ limits: UnsafePointer<Double>?, _ counts: UnsafePointer<Double>?, _ count: Int, _ step: Int64, _ time: Double
) -> ringboard_status {
    call(handle, "ringboard_add_histogram_raw") { (writer) throws(ConfigurationError) in
        let histogram = RawHistogram(min: min, max: max, num: num, sum: sum, sumSquares: sumSquares,
                                     bucketLimits: Array(try buffer(limits, count, "bucket_limits")),
                                     bucketCounts: Array(try buffer(counts, count, "bucket_counts")))
        try writer.addHistogramRaw(try tag(writer, tagNumber), histogram, step: Int(step), wallTime: wallTime(time))
    }
}

@_cdecl("ringboard_add_image")
public func cAddImage(
    _ handle: OpaquePointer?, _ tagNumber: UInt32, _ pixels: UnsafePointer<UInt8>?, _ height: Int, _ width: Int, _ channels: Int,
    _ step: Int64, _ time: Double
) -> ringboard_status {
    call(handle, "ringboard_add_image") { (writer) throws(ConfigurationError) in
        guard height > 0, width > 0, channels > 0, height <= Int(Int32.max), width <= Int(Int32.max), channels <= 4 else {
            throw .invalidArgument(name: "image", reason: "\(height) × \(width) × \(channels) is not an image size")
        }
        let (area, overflow) = height.multipliedReportingOverflow(by: width * channels)
        guard !overflow else { throw .invalidArgument(name: "image", reason: "\(height) × \(width) × \(channels) bytes is too large") }
        let bytes = try buffer(pixels, area, "pixels")
        try writer.addImage(try tag(writer, tagNumber), pixels: bytes.span, height: height, width: width, channels: channels, step: Int(step),
                            wallTime: wallTime(time))
    }
}

@_cdecl("ringboard_writer_wait_written")
public func cWriterWaitWritten(_ handle: OpaquePointer?, _ timeout: Double) -> ringboard_status {
    guard let writer = CWriter.from(handle)?.writer else { return fail(RINGBOARD_INVALID_ARGUMENT, "ringboard_writer_wait_written: writer must not be NULL") }
    guard timeout >= 0, timeout.isFinite || timeout == .infinity else {
        return fail(RINGBOARD_INVALID_ARGUMENT, "ringboard_writer_wait_written: the timeout must be 0 or more seconds, not \(timeout)")
    }
    let limit: Duration = timeout > 1e9 ? .seconds(1_000_000_000) : .nanoseconds(Int64(timeout * 1e9))
    if writer.flush(timeout: limit) { return RINGBOARD_OK }
    return fail(RINGBOARD_TIMEOUT, "not everything was written within \(timeout) s: is an aggregator serving the ring directory?")
}

/// `ringboard_add_hparams`'s JSON.
private struct HParamsJSON: Decodable {
    struct Value: Decodable {
        var n: Double?
        var s: String?
        var b: Bool?
    }

    var hparams: [[HParamOrValue]]
    var discrete: [String: [Value]]?
    var metrics: [String]

    /// A `[name, value]` pair's element.
    enum HParamOrValue: Decodable {
        case name(String)
        case value(Value)

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let name = try? container.decode(String.self) { self = .name(name) } else { self = .value(try container.decode(Value.self)) }
        }
    }

    static func value(_ value: Value) throws(ConfigurationError) -> HParamsSet.Value {
        switch (value.n, value.s, value.b) {
        case (let number?, nil, nil): return .number(number)
        case (nil, let string?, nil): return .string(string)
        case (nil, nil, let flag?): return .bool(flag)
        default: throw .invalidArgument(name: "hparams", reason: "a value is one of {\"n\": number}, {\"s\": string}, {\"b\": bool}")
        }
    }
}

@_cdecl("ringboard_add_hparams")
public func cAddHparams(
    _ handle: OpaquePointer?, _ directoryNumber: UInt32, _ json: UnsafePointer<CChar>?, _ step: Int64, _ time: Double
) -> ringboard_status {
    call(handle, "ringboard_add_hparams") { (writer) throws(ConfigurationError) in
        guard let text = try string(json, "json") else { throw .invalidArgument(name: "json", reason: "is NULL") }
        let decoded: HParamsJSON
        do {
            decoded = try JSONDecoder().decode(HParamsJSON.self, from: Data(text.utf8))
        } catch {
            throw .invalidArgument(name: "json", reason: "not the hparams object: \(error)")
        }
        var entries: [HParamsSet.Entry] = []
        for pair in decoded.hparams {
            guard pair.count == 2, case .name(let name) = pair[0], case .value(let value) = pair[1] else {
                throw .invalidArgument(name: "hparams", reason: "each is a [name, value] pair")
            }
            entries.append(HParamsSet.Entry(name: name, value: try HParamsJSON.value(value)))
        }
        var discrete: [String: [HParamsSet.Value]] = [:]
        for (name, values) in decoded.discrete ?? [:] {
            discrete[name] = try values.map { (value) throws(ConfigurationError) in try HParamsJSON.value(value) }
        }
        let directory: SummaryWriter.Tag? = directoryNumber == HookRecord.noDirectory ? nil : try tag(writer, directoryNumber)
        try writer.sendHparams(entries, metrics: decoded.metrics, discrete: discrete, directory: directory, step: Int(step),
                               wallTime: wallTime(time))
    }
}

@_cdecl("ringboard_add_custom_scalars")
public func cAddCustomScalars(_ handle: OpaquePointer?, _ json: UnsafePointer<CChar>?, _ step: Int64, _ time: Double) -> ringboard_status {
    call(handle, "ringboard_add_custom_scalars") { (writer) throws(ConfigurationError) in
        guard let text = try string(json, "json") else { throw .invalidArgument(name: "json", reason: "is NULL") }
        let parsed = try? JSONSerialization.jsonObject(with: Data(text.utf8))
        let shape = "an array of [category title, [[chart title, \"Multiline\" or \"Margin\", [tag, ...]], ...]]"
        guard let categories = parsed as? [Any] else { throw .invalidArgument(name: "layout", reason: "must be \(shape)") }
        var layout = CustomScalarsLayout(categories: [])
        for entry in categories {
            guard let pair = entry as? [Any], pair.count == 2, let title = pair[0] as? String, let charts = pair[1] as? [Any] else {
                throw .invalidArgument(name: "layout", reason: "must be \(shape)")
            }
            var category = CustomScalarsLayout.Category(title: title, charts: [])
            for chart in charts {
                guard let fields = chart as? [Any], fields.count == 3, let chartTitle = fields[0] as? String, let kind = fields[1] as? String,
                      let tags = fields[2] as? [String] else {
                    throw .invalidArgument(name: "layout", reason: "must be \(shape)")
                }
                switch kind {
                case "Margin":
                    guard tags.count == 3 else { throw .invalidArgument(name: "layout", reason: "a margin chart has 3 tags (value, lower, upper), not \(tags.count)") }
                    category.charts.append(CustomScalarsLayout.Chart(title: chartTitle, content: .margin(value: tags[0], lower: tags[1], upper: tags[2])))
                default:
                    category.charts.append(CustomScalarsLayout.Chart(title: chartTitle, content: .multiline(tags)))
                }
            }
            layout.categories.append(category)
        }
        try writer.addCustomScalars(layout, step: Int(step), wallTime: wallTime(time))
    }
}

@_cdecl("ringboard_add_pr_curve")
public func cAddPRCurve(
    _ handle: OpaquePointer?, _ tagNumber: UInt32, _ values: UnsafePointer<Float>?, _ columns: Int, _ numThresholds: UInt32, _ step: Int64,
    _ time: Double
) -> ringboard_status {
    call(handle, "ringboard_add_pr_curve") { (writer) throws(ConfigurationError) in
        guard columns > 0, columns <= Int.max / 6 else { throw .invalidArgument(name: "columns", reason: "must be 1 or more, not \(columns)") }
        let data = Array(try buffer(values, 6 * columns, "values"))
        try writer.addPRCurve(try tag(writer, tagNumber), data, numThresholds: Int(numThresholds), step: Int(step), wallTime: wallTime(time))
    }
}

@_cdecl("ringboard_add_audio")
public func cAddAudio(
    _ handle: OpaquePointer?, _ tagNumber: UInt32, _ samples: UnsafeRawPointer?, _ count: Int, _ dtype: ringboard_dtype, _ sampleRate: Double,
    _ step: Int64, _ time: Double
) -> ringboard_status {
    call(handle, "ringboard_add_audio") { (writer) throws(ConfigurationError) in
        let samplesGiven: AudioSamples
        switch dtype {
        case RINGBOARD_FLOAT32: samplesGiven = .float(Array(try buffer(samples?.assumingMemoryBound(to: Float.self), count, "samples")))
        case RINGBOARD_FLOAT64: samplesGiven = .double(Array(try buffer(samples?.assumingMemoryBound(to: Double.self), count, "samples")))
        default: throw .invalidArgument(name: "dtype", reason: "unknown dtype \(dtype.rawValue)")
        }
        try writer.addAudio(try tag(writer, tagNumber), samplesGiven, sampleRate: sampleRate, step: Int(step), wallTime: wallTime(time))
    }
}

@_cdecl("ringboard_add_mesh")
public func cAddMesh(
    _ handle: OpaquePointer?, _ tagNumber: UInt32, _ vertices: UnsafePointer<Float>?, _ colors: UnsafePointer<Float>?,
    _ faces: UnsafePointer<Float>?, _ batch: Int, _ vertexCount: Int, _ faceCount: Int, _ config: UnsafePointer<CChar>?, _ step: Int64,
    _ time: Double
) -> ringboard_status {
    call(handle, "ringboard_add_mesh") { (writer) throws(ConfigurationError) in
        func values(_ pointer: UnsafePointer<Float>?, _ count: Int, _ name: String) throws(ConfigurationError) -> [Float] {
            let (perBatch, overflow1) = count.multipliedReportingOverflow(by: 3)
            let (total, overflow2) = batch.multipliedReportingOverflow(by: perBatch)
            guard batch > 0, count > 0, !overflow1, !overflow2 else {
                throw .invalidArgument(name: name, reason: "[\(batch), \(count), 3] is not a tensor size")
            }
            return Array(try buffer(pointer, total, name))
        }
        var components = [MeshData.Component(content: .vertex, batch: batch, count: vertexCount, values: try values(vertices, vertexCount, "vertices"))]
        if faces != nil {
            components.append(MeshData.Component(content: .face, batch: batch, count: faceCount, values: try values(faces, faceCount, "faces")))
        }
        if colors != nil {
            components.append(MeshData.Component(content: .color, batch: batch, count: vertexCount, values: try values(colors, vertexCount, "colors")))
        }
        try writer.addMesh(try tag(writer, tagNumber), MeshData(components: components, jsonConfig: try string(config, "config_json") ?? "{}"),
                           step: Int(step), wallTime: wallTime(time))
    }
}

@_cdecl("ringboard_add_graph")
public func cAddGraph(
    _ handle: OpaquePointer?, _ graphDef: UnsafePointer<UInt8>?, _ length: Int, _ runMetadata: UnsafePointer<UInt8>?, _ runMetadataLength: Int,
    _ time: Double
) -> ringboard_status {
    call(handle, "ringboard_add_graph") { (writer) throws(ConfigurationError) in
        try writer.addGraph(Array(try buffer(graphDef, length, "graph_def")),
                            runMetadata: Array(try buffer(runMetadata, runMetadataLength, "run_metadata")), wallTime: wallTime(time))
    }
}

@_cdecl("ringboard_add_embedding")
public func cAddEmbedding(
    _ handle: OpaquePointer?, _ tagNumber: UInt32, _ values: UnsafePointer<Float>?, _ rows: Int, _ columns: Int,
    _ metadata: UnsafePointer<CChar>?, _ metadataLength: Int, _ sprite: UnsafePointer<UInt8>?, _ spriteSide: Int, _ imageHeight: Int,
    _ imageWidth: Int, _ step: Int64
) -> ringboard_status {
    call(handle, "ringboard_add_embedding") { (writer) throws(ConfigurationError) in
        let (size, overflow) = rows.multipliedReportingOverflow(by: columns)
        guard rows > 0, columns > 0, !overflow else { throw .invalidArgument(name: "mat", reason: "\(rows) × \(columns) is not a matrix size") }
        var embedding = EmbeddingData(rows: rows, columns: columns, values: Array(try buffer(values, size, "values")))
        if metadata != nil {
            let bytes = try buffer(UnsafeRawPointer(metadata)?.assumingMemoryBound(to: UInt8.self), metadataLength, "metadata")
            guard let text = String(validating: bytes, as: UTF8.self) else { throw .invalidArgument(name: "metadata", reason: "is not UTF-8") }
            embedding.metadata = text
        }
        if sprite != nil {
            let (area, overflow) = spriteSide.multipliedReportingOverflow(by: spriteSide * 3)
            guard spriteSide > 0, spriteSide <= Int(Int32.max), !overflow else {
                throw .invalidArgument(name: "sprite", reason: "a side of \(spriteSide) is not a sprite size")
            }
            embedding.sprite = EmbeddingData.Sprite(imageHeight: imageHeight, imageWidth: imageWidth, side: spriteSide,
                                                    pixels: Array(try buffer(sprite, area, "sprite")))
        }
        try writer.addEmbedding(embedding, tag: try tag(writer, tagNumber), step: Int(step))
    }
}

@_cdecl("ringboard_add_tensor_scalar")
public func cAddTensorScalar(
    _ handle: OpaquePointer?, _ tagNumber: UInt32, _ directory: UInt32, _ value: Double, _ doublePrecision: Int32, _ step: Int64,
    _ time: Double
) -> ringboard_status {
    call(handle, "ringboard_add_tensor_scalar") { (writer) throws(ConfigurationError) in
        guard doublePrecision == 0 || doublePrecision == 1 else {
            throw .invalidArgument(name: "double_precision", reason: "must be 0 or 1, not \(doublePrecision)")
        }
        let directory: SummaryWriter.Tag? = directory == HookRecord.noDirectory ? nil : try tag(writer, directory)
        try writer.addTensorScalar(try tag(writer, tagNumber), value, doublePrecision: doublePrecision == 1, step: Int(step),
                                   wallTime: wallTime(time), directory: directory)
    }
}

@_cdecl("ringboard_writer_purge")
public func cWriterPurge(_ handle: OpaquePointer?, _ step: Int64) -> ringboard_status {
    call(handle, "ringboard_writer_purge") { (writer) throws(ConfigurationError) in try writer.purge(fromStep: Int(step)) }
}
