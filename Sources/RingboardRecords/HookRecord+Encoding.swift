extension HookRecord {
    /// The payload length `encode(into:)` writes.
    public var encodedLength: Int {
        var builder = RecordBuilder(measuring: ())
        write(&builder)
        return builder.offset
    }

    /// Writes the payload into `payload`, which must be exactly `encodedLength` bytes (a ring
    /// claim of that length, say).
    ///
    /// - Parameter payload: The destination.
    /// - Warning: Do not escape the pointer; `payload.count` must equal `encodedLength`.
    public func encode(into payload: UnsafeMutableRawBufferPointer) {
        var builder = RecordBuilder(payload)
        write(&builder)
        precondition(builder.offset == payload.count, "payload of \(payload.count) bytes for a record of \(builder.offset)")
    }

    /// The payload as bytes.
    public var encoded: [UInt8] {
        var bytes = [UInt8](repeating: 0, count: encodedLength)
        bytes.withUnsafeMutableBytes { encode(into: $0) }
        return bytes
    }

    /// The payload length of a batch record with `metricCount` log entries: 24 bytes, the metric
    /// numbers, padding to 8 bytes, the values.
    ///
    /// - Parameter metricCount: Entries in `logs`.
    /// - Returns: The payload length.
    @inlinable
    public static func batchLength(metricCount: Int) -> Int {
        24 + ((4 * metricCount + 7) & ~7) + 8 * metricCount
    }

    /// Writes a batch record without building a `HookRecord`: the trainer's hot path, which
    /// allocates nothing (`metrics` and `values` are the caller's preallocated storage).
    ///
    /// - Parameters:
    ///   - payload: Exactly `batchLength(metricCount: metrics.count)` bytes.
    ///   - run: The run's number.
    ///   - phase: Train, test or predict.
    ///   - isEnd: `on_*_batch_end` rather than `_begin`.
    ///   - batch: The batch index.
    ///   - metrics: The metric numbers.
    ///   - values: Their values, as many as `metrics`.
    ///   - wallTime: When the hook fired (`HookClock.now()`).
    /// - Warning: Do not escape the pointer.
    @inlinable
    public static func encodeBatch(
        into payload: UnsafeMutableRawBufferPointer, run: UInt32, phase: BatchPhase, isEnd: Bool, batch: Int64,
        metrics: Span<UInt32>, values: Span<Double>, wallTime: Int64
    ) {
        precondition(metrics.count == values.count && metrics.count <= Int(UInt16.max))
        precondition(payload.count == batchLength(metricCount: metrics.count))
        payload.storeBytes(of: run.littleEndian, toByteOffset: 0, as: UInt32.self)
        payload.storeBytes(of: phase.rawValue, toByteOffset: 4, as: UInt8.self)
        payload.storeBytes(of: isEnd ? 1 : 0, toByteOffset: 5, as: UInt8.self)
        payload.storeBytes(of: UInt16(metrics.count).littleEndian, toByteOffset: 6, as: UInt16.self)
        payload.storeBytes(of: batch.littleEndian, toByteOffset: 8, as: Int64.self)
        payload.storeBytes(of: wallTime.littleEndian, toByteOffset: 16, as: Int64.self)
        var offset = 24
        for k in 0..<metrics.count {
            payload.storeBytes(of: metrics[k].littleEndian, toByteOffset: offset, as: UInt32.self)
            offset += 4
        }
        if offset & 7 != 0 {
            payload.storeBytes(of: UInt32(0), toByteOffset: offset, as: UInt32.self)
            offset += 4
        }
        for k in 0..<values.count {
            payload.storeBytes(of: values[k].bitPattern.littleEndian, toByteOffset: offset, as: UInt64.self)
            offset += 8
        }
    }

    /// The payload length of a weight-values record carrying `count` values: 40 bytes of fields,
    /// then the values.
    ///
    /// - Parameter count: The values in the record.
    /// - Returns: The payload length.
    public static func weightValuesLength(count: Int) -> Int {
        40 + 4 * count
    }

    /// Writes a weight-values record straight from the caller's values, without building a
    /// `HookRecord` (whose values would be one more copy): the same bytes as
    /// `HookRecord.weightValues(...).encode(into:)`.
    ///
    /// - Parameters:
    ///   - payload: Exactly `weightValuesLength(count: values.count)` bytes.
    ///   - run: The run's number.
    ///   - weight: The weight's number.
    ///   - version: The weights version.
    ///   - offset: Where `values` start within the weight.
    ///   - total: The weight's value count.
    ///   - values: The values.
    /// - Warning: Do not escape the pointer.
    public static func encodeWeightValues(
        into payload: UnsafeMutableRawBufferPointer, run: UInt32, weight: UInt32, version: UInt64, offset: UInt64, total: UInt64,
        values: Span<Float>
    ) {
        precondition(payload.count == weightValuesLength(count: values.count))
        var out = RecordBuilder(payload)
        out.u32(run)
        out.u32(weight)
        out.u64(version)
        out.u64(offset)
        out.u64(total)
        out.u64(UInt64(values.count))
        out.floats(values)
    }

    private func write(_ out: inout RecordBuilder) {
        switch self {
        case .runAnnouncement(let run, let rank, let worldSize, let policy, let arguments):
            out.u16(RecordType.version)
            out.u8(policy.rawValue)
            let (kind, samples): (UInt8, Int64) = switch arguments.updateFrequency {
            case .epoch: (0, 0)
            case .batch: (1, 1)
            case .samples(let count): (2, count)
            }
            out.u8(kind)
            out.u32(run)
            out.u32(rank)
            out.u32(worldSize)
            out.i64(samples)
            out.i64(arguments.histogramFrequency)
            out.i64(arguments.profileBatch)
            out.i64(arguments.embeddingsFrequency)
            out.u8(arguments.writeGraph ? 1 : 0)
            out.u8(arguments.writeImages ? 1 : 0)
            switch arguments.embeddingsMetadata {
            case nil: out.u8(0)
            case .all: out.u8(1)
            case .perLayer: out.u8(2)
            }
            out.u8(arguments.semantics.rawValue)
            out.string(arguments.logDirectory)
            switch arguments.embeddingsMetadata {
            case nil: break
            case .all(let path): out.string(path)
            case .perLayer(let files):
                out.u32(UInt32(files.count))
                for (layer, path) in files.sorted(by: { $0.key < $1.key }) {
                    out.string(layer)
                    out.string(path)
                }
            }
        case .metricName(let run, let metric, let name):
            out.u32(run)
            out.u32(metric)
            out.string(name)
        case .batch(let run, let phase, let isEnd, let batch, let logs, let wallTime):
            out.u32(run)
            out.u8(phase.rawValue)
            out.u8(isEnd ? 1 : 0)
            out.u16(UInt16(logs.count))
            out.i64(batch)
            out.i64(wallTime)
            out.logs(logs)
        case .hook(let run, let kind, let index, let logs, let wallTime):
            out.u32(run)
            out.u8(kind.rawValue)
            out.u8(0)
            out.u16(UInt16(logs.count))
            out.i64(index)
            out.i64(wallTime)
            out.logs(logs)
        case .parameters(let run, let json):
            out.u32(run)
            out.string(json)
        case .model(let run, let json, let graphDef, let wallTime):
            out.u32(run)
            out.u32(0)
            out.i64(wallTime)
            out.string(json)
            out.bytes(graphDef)
        case .weightValues(let run, let weight, let version, let offset, let total, let values):
            out.u32(run)
            out.u32(weight)
            out.u64(version)
            out.u64(offset)
            out.u64(total)
            out.u64(UInt64(values.count))
            out.floats(values)
        case .weightSegment(let run, let weight, let version, let segment, let offset, let count):
            out.u32(run)
            out.u32(weight)
            out.u64(version)
            out.i64(segment)
            out.u64(offset)
            out.u64(count)
        case .summary(let run, let tag, let directory, let step, let wallTime, let value):
            writeSummary(&out, run: run, tag: tag, directory: directory, step: step, wallTime: wallTime, value: value)
        case .span(let run, let name, let start, let duration, let thread):
            out.u32(run)
            out.u32(0)
            out.i64(start)
            out.i64(duration)
            out.u64(thread)
            out.string(name)
        }
    }
}

/// Writes little-endian fields into a payload, or only counts their bytes.
struct RecordBuilder {
    private let payload: UnsafeMutableRawBufferPointer?
    private(set) var offset = 0

    init(_ payload: UnsafeMutableRawBufferPointer) {
        self.payload = payload
    }

    init(measuring: Void) {
        self.payload = nil
    }

    private mutating func put<T: FixedWidthInteger>(_ value: T) {
        if let payload { payload.storeBytes(of: value.littleEndian, toByteOffset: offset, as: T.self) }
        offset += MemoryLayout<T>.size
    }

    mutating func u8(_ value: UInt8) { put(value) }
    mutating func u16(_ value: UInt16) { put(value) }
    mutating func u32(_ value: UInt32) { put(value) }
    mutating func u64(_ value: UInt64) { put(value) }
    mutating func i64(_ value: Int64) { put(value) }

    mutating func bytes(_ value: [UInt8]) {
        u32(UInt32(value.count))
        if let payload {
            value.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: payload[offset..<(offset + value.count)]).copyMemory(from: $0) }
        }
        offset += value.count
    }

    mutating func string(_ value: String) {
        bytes(Array(value.utf8))
    }

    /// `value`'s bytes as they are, without a length.
    mutating func raw(_ value: UnsafeRawBufferPointer) {
        if let payload, value.count > 0 {
            UnsafeMutableRawBufferPointer(rebasing: payload[offset..<(offset + value.count)]).copyMemory(from: value)
        }
        offset += value.count
    }

    /// Float32 values as little-endian bit patterns: one copy on a little-endian host.
    mutating func floats(_ values: [Float]) {
        floats(values.span)
    }

    mutating func floats(_ values: Span<Float>) {
        if let payload {
            #if _endian(little)
            values.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: payload[offset..<(offset + $0.count)]).copyMemory(from: $0) }
            #else
            for index in 0..<values.count {
                payload.storeBytes(of: values[index].bitPattern.littleEndian, toByteOffset: offset + 4 * index, as: UInt32.self)
            }
            #endif
        }
        offset += 4 * values.count
    }

    /// Metric numbers, padding to 8 bytes, values: the layout `encodeBatch` writes.
    mutating func logs(_ logs: [MetricValue]) {
        for entry in logs { u32(entry.metric) }
        if offset & 7 != 0 { u32(0) }
        for entry in logs { u64(entry.value.bitPattern) }
    }
}
