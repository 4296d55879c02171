import RingboardRecords
import RingboardRing

/// Stage 1: reads what the rings hold and decodes each record into a typed hook for stage 2.
/// Batch hooks, the most frequent records, are decoded into one `BatchRecord` whose storage is
/// kept from record to record, so a batch hook's way through allocates nothing; a weight segment
/// record becomes the values it names, mapped in place (`WeightSegments`); every other record
/// becomes a `HookRecord`. A record that does not decode, or names a segment that cannot be
/// used, is refused (counted and reported), never passed on.
struct RecordDecoder {
    private var batch = BatchRecord()
    /// The weight segments records name.
    var segments: WeightSegments

    /// - Parameter directory: The ring directory, where weight segments are.
    init(directory: String) {
        segments = WeightSegments(directory: directory)
    }

    /// Whether the last drain read only batch hooks (or nothing): a training loop between its
    /// epochs, whose records may gather a while before the next drain. A drain with anything else
    /// (an epoch's end, weights to histogram) makes work to start at once.
    private(set) var lastDrainOnlyBatches = true

    /// Decodes every record the rings hold now into `table`.
    ///
    /// - Returns: The number of records read.
    mutating func drain(_ consumer: RingConsumer, into table: inout RunTable) -> Int {
        var onlyBatches = true
        let count = consumer.poll { source, record in
            if record.type != RecordType.batch { onlyBatches = false }
            RecordDecoder.decode(record, from: source.name, batch: &batch, segments: &segments, into: &table)
        }
        lastDrainOnlyBatches = onlyBatches
        return count
    }

    /// One record of ring `source` into `table`; a batch hook decoded into `batch`, which the
    /// table borrows (as a parameter of its own, it is lent without a copy).
    private static func decode(
        _ record: RingRecord, from source: String, batch: inout BatchRecord, segments: inout WeightSegments, into table: inout RunTable
    ) {
        if record.type == RecordType.batch {
            do throws(RecordError) {
                try batch.decode(record.payload)
            } catch {
                table.refused(source, error)
                return
            }
            table.deliver(&batch, from: source)
            return
        }
        if record.type == RecordType.summary, let scalar = HookRecord.scalarSummary(record.payload) {
            table.deliverScalar(run: scalar.run, tag: scalar.tag, directory: scalar.directory, step: scalar.step, wallTime: scalar.wallTime,
                                value: scalar.value, from: source)
            return
        }
        let decoded: HookRecord
        do throws(RecordError) {
            decoded = try HookRecord(type: record.type, payload: record.payload)
        } catch {
            table.refused(source, error)
            return
        }
        if case .weightSegment(let run, let weight, let version, let sequence, let offset, let count) = decoded {
            deliverWeight(run: run, weight: weight, version: version, sequence: sequence, offset: offset, count: count,
                          from: source, segments: &segments, into: &table)
        } else if case .summary(let run, let tag, let directory, let step, let wallTime, .histogram(.segment(let sequence, let offset, let count))) = decoded {
            guard let values = mapped(sequence: sequence, offset: offset, count: count, what: "histogram", from: source,
                                      segments: &segments, table: &table) else { return }
            table.deliverHistogram(run: run, tag: tag, directory: directory, step: step, wallTime: wallTime, values: values, from: source)
        } else if case .summary(let run, _, _, _, _, .inSegment(let sequence, let offset, let length)) = decoded {
            guard length <= UInt64(Int.max) - 3, let values = mapped(sequence: sequence, offset: offset, count: (length + 3) / 4,
                                                                    what: "summary", from: source, segments: &segments, table: &table)
            else { return }
            // Decoded (copied) out of the mapping, which is then let go.
            let inner: HookRecord
            do throws(RecordError) {
                inner = try values.withSpan { (floats) throws(RecordError) in
                    try floats.withUnsafeBytes { (bytes) throws(RecordError) in
                        try HookRecord(type: RecordType.summary, payload: UnsafeRawBufferPointer(rebasing: bytes[..<Int(length)]))
                    }
                }
            } catch {
                table.refused(source, error)
                return
            }
            guard case .summary(run, _, _, _, _, let value) = inner, !value.namesWeightSegment else {
                table.refused(source, reason: "summary in weight segment \(sequence): not a summary of run \(run) carried whole")
                return
            }
            table.deliver(inner, from: source)
        } else {
            table.deliver(decoded, from: source)
        }
    }

    /// The values a record names in a weight segment, mapped in place; `nil` (refused, naming
    /// `what`) when the segment cannot be mapped or does not hold them.
    private static func mapped(
        sequence: Int64, offset: UInt64, count: UInt64, what: String, from ring: String, segments: inout WeightSegments,
        table: inout RunTable
    ) -> WeightValues? {
        let segment: WeightSegment
        do {
            segment = try segments.named(ring: ring, sequence: sequence)
        } catch {
            table.refused(ring, reason: error.description)
            return nil
        }
        guard offset <= UInt64(Int.max), count <= UInt64(Int.max),
              let values = WeightValues.inSegment(segment, offset: Int(offset), count: Int(count)) else {
            table.refused(ring, reason: "\(what): values \(offset) + \(count) outside weight segment \(segment.path)")
            return nil
        }
        return values
    }

    /// Maps the segment a weight segment record names and hands its values to stage 2.
    private static func deliverWeight(
        run: UInt32, weight: UInt32, version: UInt64, sequence: Int64, offset: UInt64, count: UInt64, from ring: String,
        segments: inout WeightSegments, into table: inout RunTable
    ) {
        guard let values = mapped(sequence: sequence, offset: offset, count: count, what: "weight \(weight)", from: ring,
                                  segments: &segments, table: &table) else { return }
        table.deliverWeight(run: run, weight: weight, version: version, values: values, from: ring)
    }
}
