/// A batch record decoded into storage the caller keeps: the aggregator's hot path, which
/// decodes hook after hook without allocating (`metrics` and `values` keep their capacity).
///
/// `decode` validates exactly as `HookRecord(type: RecordType.batch, payload:)` does.
public struct BatchRecord: Sendable {
    public private(set) var run: UInt32 = 0
    public private(set) var phase: BatchPhase = .train
    public private(set) var isEnd = false
    public private(set) var batch: Int64 = 0
    /// When the hook fired, in nanoseconds since the Unix epoch (`HookClock`).
    public private(set) var wallTime: Int64 = 0
    /// The metric numbers, in the record's order.
    public private(set) var metrics: [UInt32] = []
    /// Their values, as many as `metrics`.
    public private(set) var values: [Double] = []

    /// An empty record, to decode into.
    public init() {}

    /// Entries in the logs.
    public var count: Int { metrics.count }

    /// Decodes a batch record's payload into this storage.
    ///
    /// - Parameter payload: The payload of a ring record of type `RecordType.batch`.
    /// - Throws: `RecordError`, as `HookRecord(type:payload:)` throws it; the storage is then
    ///   left in an unspecified (but valid) state.
    public mutating func decode(_ payload: UnsafeRawBufferPointer) throws(RecordError) {
        let type = RecordType.batch
        var input = RecordCursor(payload, type: type)
        run = try input.u32()
        let phaseValue = try input.u8()
        guard let phase = BatchPhase(rawValue: phaseValue) else {
            throw .invalidValue(type: type, field: "batch phase", value: Int64(phaseValue))
        }
        self.phase = phase
        isEnd = try input.bool("end")
        let count = Int(try input.u16())
        batch = try input.i64()
        wallTime = try input.i64()
        try input.logs(count, metrics: &metrics, values: &values)
        try input.finish()
    }

    /// Exchanges the values with `other`: lends them out, and takes them back, without a copy or
    /// a reference count (the hot path reads them through another type's storage).
    public mutating func swapValues(with other: inout [Double]) {
        swap(&values, &other)
    }

    /// The record as a `HookRecord`.
    public var record: HookRecord {
        .batch(run: run, phase: phase, isEnd: isEnd, batch: batch,
               logs: zip(metrics, values).map { MetricValue(metric: $0, value: $1) }, wallTime: wallTime)
    }
}
