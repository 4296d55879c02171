import RingboardRecords
import RingboardRing

/// Stage 1: reads what the rings hold and decodes each record into a typed hook for stage 2.
/// Batch hooks, the most frequent records, are decoded into one `BatchRecord` whose storage is
/// kept from record to record, so a batch hook's way through allocates nothing; every other
/// record becomes a `HookRecord`. A record that does not decode is refused (counted and
/// reported), never passed on.
struct RecordDecoder {
    private var batch = BatchRecord()

    /// Decodes every record the rings hold now into `table`.
    ///
    /// - Returns: The number of records read.
    mutating func drain(_ consumer: RingConsumer, into table: inout RunTable) -> Int {
        consumer.poll { source, record in
            RecordDecoder.decode(record, from: source.name, batch: &batch, into: &table)
        }
    }

    /// One record of ring `source` into `table`; a batch hook decoded into `batch`, which the
    /// table borrows (as a parameter of its own, it is lent without a copy).
    private static func decode(_ record: RingRecord, from source: String, batch: inout BatchRecord, into table: inout RunTable) {
        if record.type == RecordType.batch {
            do throws(RecordError) {
                try batch.decode(record.payload)
            } catch {
                table.refused(source, error)
                return
            }
            table.deliver(batch, from: source)
        } else {
            let decoded: HookRecord
            do throws(RecordError) {
                decoded = try HookRecord(type: record.type, payload: record.payload)
            } catch {
                table.refused(source, error)
                return
            }
            table.deliver(decoded, from: source)
        }
    }
}
