extension HookRecord {
    /// Decodes and validates a record: every length against the payload, every enum against its
    /// range, every string as UTF-8, names non-empty and bounded, run directories inside the log
    /// root, and no bytes left over. Nothing in `payload` can make this crash or read outside it.
    ///
    /// - Parameters:
    ///   - type: The ring record type.
    ///   - payload: The record's payload.
    /// - Returns: The record.
    /// - Throws: `RecordError` naming what is wrong and where.
    public init(type: UInt16, payload: UnsafeRawBufferPointer) throws(RecordError) {
        var input = RecordCursor(payload, type: type)
        switch type {
        case RecordType.runAnnouncement:
            let version = try input.u16()
            // Layout 3 is 4 without summary records and `Semantics.summaryWriter`: an older
            // trainer's (or checkpoint's) announcement reads the same.
            guard version == RecordType.version || version == 3 else { throw .unsupportedVersion(version) }
            let policyValue = try input.u8()
            guard let policy = RankPolicy(rawValue: policyValue) else {
                throw .invalidValue(type: type, field: "rank policy", value: Int64(policyValue))
            }
            let frequencyKind = try input.u8()
            let run = try input.u32()
            let rank = try input.u32()
            let worldSize = try input.u32()
            guard worldSize >= 1, worldSize <= HookRecord.maximumWorldSize, rank < worldSize else {
                throw .invalidValue(type: type, field: "rank \(rank) of world size", value: Int64(worldSize))
            }
            let samples = try input.i64()
            let updateFrequency: UpdateFrequency
            switch frequencyKind {
            case 0: updateFrequency = .epoch
            case 1: updateFrequency = .batch
            case 2:
                guard samples >= 1 else { throw .invalidValue(type: type, field: "update_freq", value: samples) }
                updateFrequency = .samples(samples)
            default: throw .invalidValue(type: type, field: "update_freq kind", value: Int64(frequencyKind))
            }
            let histogramFrequency = try input.nonNegative("histogram_freq")
            let profileBatch = try input.nonNegative("profile_batch")
            let embeddingsFrequency = try input.nonNegative("embeddings_freq")
            let writeGraph = try input.bool("write_graph")
            let writeImages = try input.bool("write_images")
            let metadataKind = try input.u8()
            let semanticsValue = try input.u8()
            guard let semantics = Semantics(rawValue: semanticsValue) else {
                throw .invalidValue(type: type, field: "semantics", value: Int64(semanticsValue))
            }
            let logDirectory = try input.string("log_dir")
            try HookRecord.validateRunDirectory(logDirectory)
            var metadata: EmbeddingsMetadata?
            switch metadataKind {
            case 0: metadata = nil
            case 1: metadata = .all(try input.string("embeddings_metadata"))
            case 2:
                let count = try input.count(minimumBytesEach: 8)
                var files: [String: String] = [:]
                for _ in 0..<count {
                    let layer = try input.name("embeddings_metadata layer")
                    files[layer] = try input.string("embeddings_metadata path")
                }
                metadata = .perLayer(files)
            default: throw .invalidValue(type: type, field: "embeddings_metadata kind", value: Int64(metadataKind))
            }
            try input.finish()
            self = .runAnnouncement(
                run: run, rank: rank, worldSize: worldSize, policy: policy,
                arguments: TensorBoardArguments(
                    logDirectory: logDirectory, histogramFrequency: histogramFrequency, writeGraph: writeGraph,
                    writeImages: writeImages, updateFrequency: updateFrequency, profileBatch: profileBatch,
                    embeddingsFrequency: embeddingsFrequency, embeddingsMetadata: metadata, semantics: semantics))
        case RecordType.metricName:
            let run = try input.u32()
            let metric = try input.u32()
            let name = try input.name("metric name")
            try input.finish()
            self = .metricName(run: run, metric: metric, name: name)
        case RecordType.batch:
            let run = try input.u32()
            let phaseValue = try input.u8()
            guard let phase = BatchPhase(rawValue: phaseValue) else {
                throw .invalidValue(type: type, field: "batch phase", value: Int64(phaseValue))
            }
            let isEnd = try input.bool("end")
            let count = Int(try input.u16())
            let batch = try input.i64()
            let wallTime = try input.i64()
            let logs = try input.logs(count)
            try input.finish()
            self = .batch(run: run, phase: phase, isEnd: isEnd, batch: batch, logs: logs, wallTime: wallTime)
        case RecordType.hook:
            let run = try input.u32()
            let kindValue = try input.u8()
            guard let kind = HookKind(rawValue: kindValue) else {
                throw .invalidValue(type: type, field: "hook", value: Int64(kindValue))
            }
            _ = try input.u8()
            let count = Int(try input.u16())
            let index = try input.i64()
            let wallTime = try input.i64()
            let logs = try input.logs(count)
            try input.finish()
            self = .hook(run: run, kind: kind, index: index, logs: logs, wallTime: wallTime)
        case RecordType.parameters:
            let run = try input.u32()
            let json = try input.string("params", maximumLength: .max)
            try input.finish()
            self = .parameters(run: run, json: json)
        case RecordType.model:
            let run = try input.u32()
            _ = try input.u32()
            let wallTime = try input.i64()
            let json = try input.string("model", maximumLength: .max)
            let graphDef = try input.bytes()
            try input.finish()
            self = .model(run: run, json: json, graphDef: graphDef, wallTime: wallTime)
        case RecordType.weightValues:
            let run = try input.u32()
            let weight = try input.u32()
            let version = try input.u64()
            let offset = try input.u64()
            let total = try input.u64()
            let count = try input.count(minimumBytesEach: 4, width: 8)
            guard offset <= total, UInt64(count) <= total - offset else {
                throw .invalidValue(type: type, field: "values \(offset) + \(count) of", value: Int64(truncatingIfNeeded: total))
            }
            let values = try input.floats(count: count)
            try input.finish()
            self = .weightValues(run: run, weight: weight, version: version, offset: offset, total: total, values: values)
        case RecordType.weightSegment:
            let run = try input.u32()
            let weight = try input.u32()
            let version = try input.u64()
            let segment = try input.i64()
            guard segment >= 0 else { throw .invalidValue(type: type, field: "weight segment", value: segment) }
            let offset = try input.u64()
            guard offset % 4 == 0 else {
                throw .invalidValue(type: type, field: "weight segment offset", value: Int64(truncatingIfNeeded: offset))
            }
            let count = try input.u64()
            try input.finish()
            self = .weightSegment(run: run, weight: weight, version: version, segment: segment, offset: offset, count: count)
        case RecordType.span:
            let run = try input.u32()
            _ = try input.u32()
            let start = try input.i64()
            let duration = try input.i64()
            guard duration >= 0 else { throw .invalidValue(type: type, field: "span duration", value: duration) }
            let thread = try input.u64()
            let name = try input.name("span name")
            try input.finish()
            self = .span(run: run, name: name, start: start, duration: duration, thread: thread)
        case RecordType.summary:
            self = try HookRecord.decodeSummary(&input, type: type)
        default:
            throw .unknownType(type)
        }
    }

    /// Decodes a record from bytes.
    ///
    /// - Parameters:
    ///   - type: The ring record type.
    ///   - bytes: The payload.
    /// - Throws: `RecordError`.
    public init(type: UInt16, bytes: [UInt8]) throws(RecordError) {
        let result: Result<HookRecord, RecordError> = bytes.withUnsafeBytes { payload in
            do throws(RecordError) {
                return .success(try HookRecord(type: type, payload: payload))
            } catch {
                return .failure(error)
            }
        }
        self = try result.get()
    }

    /// Refuses a run directory that is not absolute and normalized: one that does not start with
    /// `/`, or has an empty, `.` or `..` component, a trailing `/`, or a NUL (DESIGN §3, §4).
    /// `runDirectory(_:in:)` makes such a path from what a user wrote.
    ///
    /// - Parameter path: The run directory.
    /// - Throws: `RecordError.invalidRunDirectory`.
    public static func validateRunDirectory(_ path: String) throws(RecordError) {
        guard path.hasPrefix("/"), !path.utf8.contains(0) else { throw .invalidRunDirectory(path) }
        guard path != "/" else { return }
        let components = path.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        guard !components.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) else { throw .invalidRunDirectory(path) }
    }

    /// Whether run directory `path` is `root` or lies below it (both absolute and normalized, as
    /// `runDirectory(_:in:)` makes them): the confinement an aggregator with a log root applies.
    ///
    /// - Parameters:
    ///   - path: A run directory.
    ///   - root: A log root.
    public static func runDirectory(_ path: String, isWithin root: String) -> Bool {
        root == "/" || path == root || path.hasPrefix(root + "/")
    }

    /// `log_dir` as Keras means it: `path` itself when absolute, else `path` under
    /// `workingDirectory`; normalized as Python's `os.path.abspath` does (empty and `.`
    /// components dropped, each `..` taking away the component before it, never above `/`).
    ///
    /// - Parameters:
    ///   - path: The `log_dir` a user wrote.
    ///   - workingDirectory: The absolute directory a relative `path` is resolved against.
    /// - Returns: An absolute path that `validateRunDirectory` accepts.
    /// - Throws: `RecordError.invalidRunDirectory` for an empty path or one with a NUL.
    public static func runDirectory(_ path: String, in workingDirectory: String) throws(RecordError) -> String {
        guard !path.isEmpty, !path.utf8.contains(0), !workingDirectory.utf8.contains(0) else { throw .invalidRunDirectory(path) }
        let joined = path.hasPrefix("/") ? path : workingDirectory + "/" + path
        var components: [Substring] = []
        for component in joined.split(separator: "/", omittingEmptySubsequences: true) where component != "." {
            if component == ".." {
                _ = components.popLast()
            } else {
                components.append(component)
            }
        }
        return "/" + components.joined(separator: "/")
    }
}

/// Reads little-endian fields from a payload, checking each against the bytes left.
struct RecordCursor {
    private let payload: UnsafeRawBufferPointer
    private let type: UInt16
    private var offset = 0

    init(_ payload: UnsafeRawBufferPointer, type: UInt16) {
        self.payload = payload
        self.type = type
    }

    @inline(__always)
    private mutating func take<T: FixedWidthInteger>(_: T.Type) throws(RecordError) -> T {
        guard payload.count - offset >= MemoryLayout<T>.size else { throw .truncated(type: type, offset: offset) }
        defer { offset += MemoryLayout<T>.size }
        return T(littleEndian: payload.loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    @inline(__always) mutating func u8() throws(RecordError) -> UInt8 { try take(UInt8.self) }
    @inline(__always) mutating func u16() throws(RecordError) -> UInt16 { try take(UInt16.self) }
    @inline(__always) mutating func u32() throws(RecordError) -> UInt32 { try take(UInt32.self) }
    @inline(__always) mutating func u64() throws(RecordError) -> UInt64 { try take(UInt64.self) }
    @inline(__always) mutating func i64() throws(RecordError) -> Int64 { try take(Int64.self) }

    @inline(__always)
    mutating func bool(_ field: String) throws(RecordError) -> Bool {
        let value = try u8()
        guard value <= 1 else { throw .invalidValue(type: type, field: field, value: Int64(value)) }
        return value == 1
    }

    mutating func nonNegative(_ field: String) throws(RecordError) -> Int64 {
        let value = try i64()
        guard value >= 0 else { throw .invalidValue(type: type, field: field, value: value) }
        return value
    }

    /// A count of items of at least `minimumBytesEach` bytes, refused when the payload could not
    /// hold that many (so a forged count cannot make the decoder reserve huge arrays).
    mutating func count(minimumBytesEach: Int, width: Int = 4) throws(RecordError) -> Int {
        let value = width == 8 ? try u64() : UInt64(try u32())
        guard value <= UInt64(payload.count - offset) / UInt64(minimumBytesEach) else {
            throw .truncated(type: type, offset: offset)
        }
        return Int(value)
    }

    mutating func bytes() throws(RecordError) -> [UInt8] {
        let length = Int(try u32())
        guard payload.count - offset >= length else { throw .truncated(type: type, offset: offset) }
        defer { offset += length }
        return Array(payload[offset..<(offset + length)])
    }

    /// `count` Float32 values stored as little-endian bit patterns: one copy on a little-endian host.
    mutating func floats(count: Int) throws(RecordError) -> [Float] {
        guard count >= 0, (payload.count - offset) / 4 >= count else { throw .truncated(type: type, offset: offset) }
        let start = offset
        offset += 4 * count
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            let source = UnsafeRawBufferPointer(rebasing: payload[start..<(start + 4 * count)])
            #if _endian(little)
            UnsafeMutableRawBufferPointer(buffer).copyMemory(from: source)
            #else
            for index in 0..<count {
                buffer[index] = Float(bitPattern: UInt32(littleEndian: source.loadUnaligned(fromByteOffset: 4 * index, as: UInt32.self)))
            }
            #endif
            initialized = count
        }
    }

    mutating func string(_ field: String, maximumLength: Int = HookRecord.maximumNameLength) throws(RecordError) -> String {
        let start = offset
        let raw = try bytes()
        guard raw.count <= maximumLength else {
            throw .invalidString(type: type, field: field, reason: "\(raw.count) bytes at byte \(start) exceed \(maximumLength)")
        }
        guard let string = String(validating: raw, as: UTF8.self) else {
            throw .invalidString(type: type, field: field, reason: "not UTF-8 at byte \(start)")
        }
        return string
    }

    /// A name: a non-empty string without NUL or control characters.
    mutating func name(_ field: String) throws(RecordError) -> String {
        let value = try string(field)
        guard !value.isEmpty, !value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) else {
            throw .invalidString(type: type, field: field, reason: "empty or with control characters")
        }
        return value
    }

    mutating func logs(_ count: Int) throws(RecordError) -> [MetricValue] {
        let idsEnd = offset + 4 * count
        let valuesStart = (idsEnd + 7) & ~7
        guard payload.count - offset >= valuesStart - offset + 8 * count else { throw .truncated(type: type, offset: offset) }
        var logs = [MetricValue]()
        logs.reserveCapacity(count)
        for k in 0..<count {
            let metric = UInt32(littleEndian: payload.loadUnaligned(fromByteOffset: offset + 4 * k, as: UInt32.self))
            let bits = UInt64(littleEndian: payload.loadUnaligned(fromByteOffset: valuesStart + 8 * k, as: UInt64.self))
            logs.append(MetricValue(metric: metric, value: Double(bitPattern: bits)))
        }
        offset = valuesStart + 8 * count
        return logs
    }

    /// `logs(_:)` into the caller's storage, which takes `count` entries (and keeps its memory
    /// while the count stays the same).
    mutating func logs(_ count: Int, metrics: inout [UInt32], values: inout [Double]) throws(RecordError) {
        let idsEnd = offset + 4 * count
        let valuesStart = (idsEnd + 7) & ~7
        guard payload.count - offset >= valuesStart - offset + 8 * count else { throw .truncated(type: type, offset: offset) }
        if metrics.count != count { metrics = Array(repeating: 0, count: count) }
        if values.count != count { values = Array(repeating: 0, count: count) }
        let payload = self.payload, idsStart = offset
        #if _endian(little)
        // The payload's little-endian words are the host's: copied as they are, in two moves.
        metrics.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: payload[idsStart..<(idsStart + 4 * count)])) }
        values.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: payload[valuesStart..<(valuesStart + 8 * count)])) }
        #else
        metrics.withUnsafeMutableBufferPointer { metrics in
            for k in 0..<count {
                metrics[k] = UInt32(littleEndian: payload.loadUnaligned(fromByteOffset: idsStart + 4 * k, as: UInt32.self))
            }
        }
        values.withUnsafeMutableBufferPointer { values in
            for k in 0..<count {
                values[k] = Double(bitPattern: UInt64(littleEndian: payload.loadUnaligned(fromByteOffset: valuesStart + 8 * k, as: UInt64.self)))
            }
        }
        #endif
        offset = valuesStart + 8 * count
    }

    func finish() throws(RecordError) {
        guard offset == payload.count else { throw .trailingBytes(type: type, offset: offset) }
    }
}
