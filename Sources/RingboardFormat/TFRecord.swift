internal import CRingboard

/// TFRecord framing (tensorflow/core/lib/io/record_writer.cc): every record is
/// `uint64 length (LE) · uint32 masked_crc32c(length bytes) · data · uint32 masked_crc32c(data)`.
enum TFRecord {
    /// Bytes before the data: the length and its checksum.
    static let headerSize = 12
    /// Bytes after the data: its checksum.
    static let footerSize = 4
    /// Bytes a record adds around its data.
    static let overhead = headerSize + footerSize

    /// Appends one record whose data `encodeData` appends, then its length and both checksums.
    @inline(__always)
    static func append(to buffer: inout WireBuffer, _ encodeData: (inout WireBuffer) -> Void) {
        let header = buffer.appendPlaceholder(headerSize)
        encodeData(&buffer)
        buffer.store(UInt64(buffer.count - header - headerSize), at: header)
        _ = buffer.appendPlaceholder(footerSize)
        fillChecksums(in: &buffer, from: header)
    }

    /// Fills in the checksums of the records in `buffer` from `start` on, which are framed with
    /// their lengths but not their checksums (`append`, `ScalarTag.writeUnchecksummedRecord`).
    /// Done for a batch of records at once, the checksums read bytes stored long before, not
    /// bytes still in the CPU's store buffer (see `CRingboard_tfrecord_fill_checksums`).
    static func fillChecksums(in buffer: inout WireBuffer, from start: Int) {
        let filled = buffer.withUnsafeMutableBytes(in: start..<buffer.count) {
            CRingboard_tfrecord_fill_checksums($0.baseAddress, $0.count)
        }
        precondition(filled == 0, "a record's length runs past the records")
    }

    /// One framed record holding `data`.
    ///
    /// - Parameter data: The record's data.
    /// - Returns: The framed bytes.
    static func frame(_ data: [UInt8]) -> [UInt8] {
        var buffer = WireBuffer(capacity: data.count + overhead)
        append(to: &buffer) { $0.append(data) }
        return buffer.bytes
    }
}
