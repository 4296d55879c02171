internal import RingboardSystem
import SystemPackage

/// Reads an event file record by record, checking both CRCs of every record.
///
/// It tells apart the three ways a file ends: cleanly after a whole record, in the middle of a
/// record (a file still being written, or cut short: `.truncated`), and at a record whose checksum
/// or contents are wrong (`.corrupt`). After `.truncated`, calling `next()` again once the file
/// has grown picks up from the same record.
///
/// - Warning: Not thread-safe.
public final class EventFileReader {
    /// What one step of reading found.
    public enum Item: Equatable, Sendable {
        /// A whole record with valid checksums: its byte offset in the file and its data.
        case record(offset: Int64, data: [UInt8])
        /// The file ends after a whole record.
        case end(offset: Int64)
        /// The file ends inside the record starting at `offset`.
        case truncated(offset: Int64)
        /// The record starting at `offset` is damaged.
        case corrupt(offset: Int64, Corruption)
    }

    /// How a record is damaged.
    public enum Corruption: Equatable, Sendable, CustomStringConvertible {
        /// The length's checksum does not match the length.
        case lengthChecksum
        /// The data's checksum does not match the data.
        case dataChecksum
        /// The data is not a valid `Event`.
        case malformedEvent(ProtobufError)

        /// A short description.
        public var description: String {
            switch self {
            case .lengthChecksum: "bad length CRC"
            case .dataChecksum: "bad data CRC"
            case .malformedEvent(let error): "not an Event: \(error)"
            }
        }
    }

    /// The file being read.
    public let path: String
    private let descriptor: FileDescriptor
    /// File offset of the next record.
    public private(set) var offset: Int64 = 0
    /// Bytes read ahead, starting at file offset `bufferStart`.
    private var buffer: [UInt8] = []
    private var bufferStart: Int64 = 0
    private static let readSize = 1 << 20

    /// Opens an event file for reading.
    ///
    /// - Parameter path: The file.
    /// - Throws: `EventFileError` when it cannot be opened or is not a regular file.
    public init(path: String) throws(EventFileError) {
        self.path = path
        do {
            // Non-blocking, so a FIFO or device named like an event file cannot stall the open.
            descriptor = try FileDescriptor.open(FilePath(path), .readOnly, options: [.closeOnExec, .nonBlocking])
        } catch {
            throw .systemCall("open", path: path, error as? Errno ?? .ioError)
        }
        switch Syscalls.status(descriptor) {
        case .success(let info) where !info.isRegular:
            try? descriptor.close()
            throw .notAnEventFile(path: path, reason: "not a regular file")
        case .success:
            break
        case .failure(let error):
            try? descriptor.close()
            throw .systemCall("fstat", path: path, error)
        }
    }

    deinit {
        try? descriptor.close()
    }

    /// Reads the next record.
    ///
    /// - Returns: The record, or how the file ends there. `.end`, `.truncated` and `.corrupt` do
    ///   not move past the record, so they repeat until the file changes.
    /// - Throws: `EventFileError` when reading fails.
    public func next() throws(EventFileError) -> Item {
        let start = offset
        guard try available(from: start, count: TFRecord.headerSize) else {
            return try available(from: start, count: 1) ? .truncated(offset: start) : .end(offset: start)
        }
        let header = bytes(at: start, count: TFRecord.headerSize)
        let length = header.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 0, as: UInt64.self).littleEndian }
        let lengthCRC = header.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 8, as: UInt32.self).littleEndian }
        let computed = header.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<8])) }
        guard CRC32C.mask(computed) == lengthCRC else { return .corrupt(offset: start, .lengthChecksum) }
        // The length is checked; it can still exceed what the file holds (a record being written).
        guard length <= UInt64(Int64.max - start - Int64(TFRecord.overhead)),
            try available(from: start, count: Int(length) + TFRecord.overhead)
        else { return .truncated(offset: start) }
        let dataStart = start + Int64(TFRecord.headerSize)
        let data = bytes(at: dataStart, count: Int(length))
        let footer = bytes(at: dataStart + Int64(length), count: TFRecord.footerSize)
        let dataCRC = footer.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self).littleEndian }
        guard CRC32C.mask(CRC32C.checksum(data)) == dataCRC else { return .corrupt(offset: start, .dataChecksum) }
        offset = dataStart + Int64(length) + Int64(TFRecord.footerSize)
        discardConsumed()
        return .record(offset: start, data: data)
    }

    /// The result of reading one event.
    public enum EventItem: Equatable, Sendable {
        /// A valid event at a byte offset.
        case event(Event, offset: Int64)
        /// The file ends after a whole record.
        case end(offset: Int64)
        /// The file ends inside the record starting at `offset`.
        case truncated(offset: Int64)
        /// The record starting at `offset` is damaged or is not an `Event`.
        case corrupt(offset: Int64, Corruption)
    }

    /// Reads the next record and decodes it as an `Event`.
    ///
    /// - Returns: The event, or how the file ends there.
    /// - Throws: `EventFileError` when reading fails.
    public func nextEvent() throws(EventFileError) -> EventItem {
        switch try next() {
        case .record(let start, let data):
            do {
                return .event(try Event(serializedBytes: data), offset: start)
            } catch {
                return .corrupt(offset: start, .malformedEvent(error))
            }
        case .end(let at): return .end(offset: at)
        case .truncated(let at): return .truncated(offset: at)
        case .corrupt(let at, let why): return .corrupt(offset: at, why)
        }
    }

    /// Whether the file holds `count` bytes from `start`, reading ahead as needed.
    private func available(from start: Int64, count: Int) throws(EventFileError) -> Bool {
        let needEnd = start + Int64(count)
        if bufferStart + Int64(buffer.count) >= needEnd { return true }
        // Read only what the file holds, so a huge claimed length is never allocated.
        let fileSize: Int64
        switch Syscalls.status(descriptor) {
        case .success(let info): fileSize = info.size
        case .failure(let error): throw .systemCall("fstat", path: path, error)
        }
        guard fileSize >= needEnd else { return false }
        while bufferStart + Int64(buffer.count) < needEnd {
            let readOffset = bufferStart + Int64(buffer.count)
            let want = Int(min(fileSize - readOffset, max(Int64(EventFileReader.readSize), needEnd - readOffset)))
            let chunk: [UInt8]
            do {
                chunk = try [UInt8](unsafeUninitializedCapacity: want) { storage, initialized in
                    initialized = try descriptor.read(
                        fromAbsoluteOffset: readOffset, into: UnsafeMutableRawBufferPointer(storage),
                        retryOnInterrupt: true)
                }
            } catch {
                throw .systemCall("read", path: path, error as? Errno ?? .ioError)
            }
            if chunk.isEmpty { return false }
            buffer.append(contentsOf: chunk)
        }
        return true
    }

    private func bytes(at start: Int64, count: Int) -> [UInt8] {
        let from = Int(start - bufferStart)
        return Array(buffer[from..<(from + count)])
    }

    /// Drops bytes before `offset` once they make up most of the buffer.
    private func discardConsumed() {
        let consumed = Int(offset - bufferStart)
        if consumed > EventFileReader.readSize / 2 && consumed * 2 > buffer.count {
            buffer.removeFirst(consumed)
            bufferStart = offset
        }
    }
}
