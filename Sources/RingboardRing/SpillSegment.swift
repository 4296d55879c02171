import Glibc
import SystemPackage
internal import CLZ4

/// Spill segments: where a producer's records go, in order, while its ring is full.
///
/// A segment is one file beside the ring, `<ring>.spill.<n>`, holding an LZ4 frame (block and
/// content checksums on, 64 KiB linked blocks) of records framed as in the ring:
/// `u32 length (header included), u16 type, u16 flags, payload`. The frame is flushed to the file
/// on every append, so a record is in the file (and survives its producer) by the time the append
/// returns. When the ring has room again the producer ends the frame and puts a marker record
/// (`RingRecordType.spillMarker`: `u64 segment, u64 records`) into the ring, so the consumer
/// reads the segment exactly where its records belong in the producer's order.
enum SpillSegment {
    static let recordHeaderSize = 8

    static func path(ring: String, index: Int64) -> String {
        "\(ring).spill.\(index)"
    }

    /// Appends records to one segment file.
    final class Writer {
        let path: String
        private let descriptor: FileDescriptor
        private var context: OpaquePointer?
        private var output: [UInt8]
        private var record: [UInt8] = []
        private(set) var records: Int64 = 0
        private var preferences: LZ4F_preferences_t

        init(path: String, maximumRecordLength: Int) throws(RingError) {
            self.path = path
            do {
                descriptor = try FileDescriptor.open(
                    FilePath(path), .writeOnly, options: [.create, .exclusiveCreate, .noFollow, .closeOnExec],
                    permissions: [.ownerReadWrite])
            } catch {
                throw .systemCall("open", path: path, error as? Errno ?? .ioError)
            }
            preferences = LZ4F_preferences_t()
            preferences.frameInfo.blockSizeID = LZ4F_max64KB
            preferences.frameInfo.blockMode = LZ4F_blockLinked
            preferences.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled
            preferences.frameInfo.blockChecksumFlag = LZ4F_blockChecksumEnabled
            preferences.autoFlush = 1
            output = [UInt8](repeating: 0, count: max(Int(LZ4F_HEADER_SIZE_MAX), LZ4F_compressBound(maximumRecordLength, &preferences)) + 64)
            guard LZ4F_isError(LZ4F_createCompressionContext(&context, UInt32(LZ4F_VERSION))) == 0 else {
                try? descriptor.close()
                throw .spill(path: path, reason: "LZ4F_createCompressionContext failed")
            }
            let written = output.withUnsafeMutableBytes { LZ4F_compressBegin(context, $0.baseAddress, $0.count, &preferences) }
            guard LZ4F_isError(written) == 0 else { throw .spill(path: path, reason: "LZ4F_compressBegin failed") }
            try writeOutput(written)
        }

        deinit {
            LZ4F_freeCompressionContext(context)
            try? descriptor.close()
        }

        /// Appends one record; it is in the file when this returns.
        func append(type: UInt16, flags: UInt16, length: Int, _ write: (UnsafeMutableRawBufferPointer) -> Void) throws(RingError) {
            let total = SpillSegment.recordHeaderSize + length
            if record.count < total { record = [UInt8](repeating: 0, count: total) }
            record.withUnsafeMutableBytes { bytes in
                bytes.storeBytes(of: UInt32(total).littleEndian, as: UInt32.self)
                bytes.storeBytes(of: type.littleEndian, toByteOffset: 4, as: UInt16.self)
                bytes.storeBytes(of: flags.littleEndian, toByteOffset: 6, as: UInt16.self)
                write(UnsafeMutableRawBufferPointer(rebasing: bytes[SpillSegment.recordHeaderSize..<total]))
            }
            let written = record.withUnsafeBytes { source in
                output.withUnsafeMutableBytes { LZ4F_compressUpdate(context, $0.baseAddress, $0.count, source.baseAddress, total, nil) }
            }
            guard LZ4F_isError(written) == 0 else { throw .spill(path: path, reason: "LZ4F_compressUpdate failed") }
            try writeOutput(written)
            records += 1
        }

        /// Ends the frame (its end mark and content checksum).
        func finish() throws(RingError) {
            let written = output.withUnsafeMutableBytes { LZ4F_compressEnd(context, $0.baseAddress, $0.count, nil) }
            guard LZ4F_isError(written) == 0 else { throw .spill(path: path, reason: "LZ4F_compressEnd failed") }
            try writeOutput(written)
        }

        private func writeOutput(_ count: Int) throws(RingError) {
            do {
                _ = try output.withUnsafeBytes { try descriptor.writeAll(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            } catch {
                throw .systemCall("write", path: path, error as? Errno ?? .ioError)
            }
        }
    }

    /// Reads every whole record of a segment. A segment whose producer died while writing it may
    /// end inside a block: the records before that block are delivered, the partial one is not
    /// (its append never returned).
    ///
    /// - Returns: The number of records delivered.
    static func read(
        path: String, maximumRecordLength: Int, _ handler: (UInt16, UInt16, UnsafeRawBufferPointer) -> Void
    ) throws(RingError) -> Int64 {
        let descriptor: FileDescriptor
        do {
            descriptor = try FileDescriptor.open(FilePath(path), .readOnly, options: [.noFollow, .closeOnExec])
        } catch {
            throw .systemCall("open", path: path, error as? Errno ?? .ioError)
        }
        defer { try? descriptor.close() }
        var context: OpaquePointer?
        guard LZ4F_isError(LZ4F_createDecompressionContext(&context, UInt32(LZ4F_VERSION))) == 0 else {
            throw .spill(path: path, reason: "LZ4F_createDecompressionContext failed")
        }
        defer { LZ4F_freeDecompressionContext(context) }
        var input = [UInt8](repeating: 0, count: 256 << 10)
        var decoded = [UInt8](repeating: 0, count: 256 << 10)
        var pending: [UInt8] = []
        var delivered: Int64 = 0
        var frameDone = false
        while !frameDone {
            let count: Int
            do {
                count = try input.withUnsafeMutableBytes { try descriptor.read(into: $0) }
            } catch {
                throw .systemCall("read", path: path, error as? Errno ?? .ioError)
            }
            if count == 0 { break }
            var offset = 0
            while offset < count {
                var sourceSize = count - offset
                var decodedSize = decoded.count
                let hint = input.withUnsafeBytes { source in
                    decoded.withUnsafeMutableBytes { destination in
                        LZ4F_decompress(context, destination.baseAddress, &decodedSize, source.baseAddress! + offset, &sourceSize, nil)
                    }
                }
                guard LZ4F_isError(hint) == 0 else {
                    throw .spill(path: path, reason: "damaged LZ4 frame: " + String(cString: LZ4F_getErrorName(hint)))
                }
                offset += sourceSize
                pending += decoded[0..<decodedSize]
                try deliverRecords(&pending, path: path, maximumRecordLength: maximumRecordLength) { type, flags, payload in
                    handler(type, flags, payload)
                    delivered += 1
                }
                if hint == 0 {
                    frameDone = true
                    break
                }
            }
        }
        return delivered
    }

    private static func deliverRecords(
        _ pending: inout [UInt8], path: String, maximumRecordLength: Int,
        _ handler: (UInt16, UInt16, UnsafeRawBufferPointer) -> Void
    ) throws(RingError) {
        var offset = 0
        while pending.count - offset >= recordHeaderSize {
            let length = pending.withUnsafeBytes { Int(UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: UInt32.self))) }
            guard length >= recordHeaderSize, length <= maximumRecordLength else {
                throw .spill(path: path, reason: "record length \(length) out of range")
            }
            guard pending.count - offset >= length else { break }
            pending.withUnsafeBytes { bytes in
                let type = UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt16.self))
                let flags = UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 6, as: UInt16.self))
                handler(type, flags, UnsafeRawBufferPointer(rebasing: bytes[(offset + recordHeaderSize)..<(offset + length)]))
            }
            offset += length
        }
        pending.removeFirst(offset)
    }
}
