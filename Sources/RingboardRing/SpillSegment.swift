import Glibc
import Synchronization
import SystemPackage
internal import CLZ4
internal import RingboardSystem

/// Spill segments: where a producer's records go, in order, while its ring is full.
///
/// A segment is one file beside the ring, `<ring>.spill.<n>`: an LZ4 frame of records framed as
/// in the ring (`u32 length (header included), u16 type, u16 flags, payload`), each in LZ4
/// uncompressed blocks of up to 4 MiB, without checksums (a record's completeness never rested on
/// them: it is counted only once all its bytes are in, and validated by its reader). A spilled
/// append is on the trainer's hot path: compressing each record cost two to four times the rest
/// of it, so records are stored as they are. Segments of layout versions 1 and 2 hold
/// compressed frames too (with block and content checksums), which are read as before.
///
/// The producer maps the segment file and allocates it ahead of its records (`fallocate`, so a
/// full disk is an error on append, not a fault on a store), and writes each record in place: it
/// is in the file (and survives its producer) by the time the append returns, with no system call
/// per record. The file is longer than its records; how much of it to read is in the marker record
/// that the producer puts into the ring when the ring has room again
/// (`RingRecordType.spillMarker`: `u64 segment, u64 records, u64 bytes`), so the consumer reads
/// the segment exactly where its records belong in the producer's order, or, for the segment a
/// producer was writing when it died, in the ring header ("open spill size"). Segments of layout
/// versions 1 and 2 were written with `write`, and end where their files do (their markers have no
/// byte count).
enum SpillSegment {
    static let recordHeaderSize = 8
    /// The block size of the frames (`LZ4F_max4MB`).
    static let storedBlockSize = 4 << 20
    /// Bytes a record of `length` payload bytes takes in a segment: its header and payload, and
    /// a length word per stored block.
    static func storedSize(payload length: Int) -> Int {
        let total = recordHeaderSize + length
        return total + 4 * ((total + storedBlockSize - 1) / storedBlockSize)
    }
    /// The frame's end mark (no content checksum).
    static let frameEndSize = 4

    static func path(ring: String, index: Int64) -> String {
        "\(ring).spill.\(index)"
    }

    /// The memory segment writers work in, kept from one segment to the next.
    final class Buffers {
        let maximumRecordLength: Int
        /// A record longer than one block, before it is cut into blocks.
        fileprivate var record: [UInt8] = []
        /// A frame's header or end.
        fileprivate var output = [UInt8](repeating: 0, count: Int(LZ4F_HEADER_SIZE_MAX) + 16)

        /// - Parameter maximumRecordLength: The longest record (its header included).
        init(maximumRecordLength: Int) {
            self.maximumRecordLength = maximumRecordLength
        }
    }

    /// How many consumed segments each side keeps for reuse: the producer keeps the files (and its
    /// mappings) of this many closed segments, and the consumer removes a committed segment's file
    /// only once this many later segments are committed too, so that the producer can take it back
    /// (renamed to its next segment's name) instead of making a new file. Either side may act first:
    /// a rename of a file the consumer removed fails, and the producer makes a new one.
    static let spareCount: Int64 = 4

    /// Appends records to one segment file, through a mapping of it.
    final class Writer {
        /// The file, named for `index`.
        private(set) var path: String
        /// The segment's index in the producer's order.
        private(set) var index: Int64
        private let descriptor: FileDescriptor
        private var context: OpaquePointer?
        private let buffers: Buffers
        /// The longest record (its header included).
        private let maximumRecordLength: Int
        private(set) var records: Int64 = 0
        /// Bytes of whole records (and the frame's header and end) in the file.
        private(set) var bytes: Int64 = 0
        /// The file mapped: `window` bytes of address space, of which the first `allocated` are
        /// allocated in the file (only those are touched: a store past the file's end would fault).
        private var mapped: UnsafeMutableRawPointer?
        private var window = 0
        private var allocated = 0
        /// The address space a segment is first mapped with.
        static let firstWindow = 1 << 30
        /// The first allocation; each later one doubles the file, up to `largestGrowth` more.
        static let firstAllocation = 256 << 10
        static let largestGrowth = 64 << 20
        /// The frame is begun (its header written) and not yet ended.
        private var frameOpen = false
        /// Whether its frame is ended (or was never begun): it takes no more records until reused.
        var isClosed: Bool { !frameOpen }
        /// Where sealing cut the file (to its records): it is allocated again before it is reused.
        private var cut: Int?
        private static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

        init(path: String, index: Int64, buffers: Buffers) throws(RingError) {
            self.path = path
            self.index = index
            self.buffers = buffers
            self.maximumRecordLength = buffers.maximumRecordLength
            do {
                descriptor = try FileDescriptor.open(
                    FilePath(path), .readWrite, options: [.create, .exclusiveCreate, .noFollow, .closeOnExec],
                    permissions: [.ownerReadWrite])
            } catch {
                throw .systemCall("open", path: path, error as? Errno ?? .ioError)
            }
            guard LZ4F_isError(LZ4F_createCompressionContext(&context, UInt32(LZ4F_VERSION))) == 0 else {
                try? descriptor.close()
                throw .spill(path: path, reason: "LZ4F_createCompressionContext failed")
            }
        }

        deinit {
            LZ4F_freeCompressionContext(context)
            if let mapped { Syscalls.unmap(mapped, length: window) }
            try? descriptor.close()
        }

        private static var preferences: LZ4F_preferences_t {
            var preferences = LZ4F_preferences_t()
            preferences.autoFlush = 1
            preferences.frameInfo.blockSizeID = LZ4F_max4MB
            preferences.frameInfo.blockMode = LZ4F_blockIndependent
            preferences.frameInfo.contentChecksumFlag = LZ4F_noContentChecksum
            preferences.frameInfo.blockChecksumFlag = LZ4F_noBlockChecksum
            return preferences
        }

        /// Appends one record; it is in the file when this returns, and `bytes` counts it.
        ///
        /// - Returns: `bytes`, counting the record.
        @inline(__always) @discardableResult
        func append(type: UInt16, flags: UInt16, length: Int, _ write: (UnsafeMutableRawBufferPointer) -> Void) throws(RingError) -> Int64 {
            let total = SpillSegment.recordHeaderSize + length
            let end = Int(bytes) + 4 + total
            // The common case, kept small enough to inline: the frame is begun, the file allocated
            // past the record, and the record fits in one stored block.
            if frameOpen, end <= allocated, total <= SpillSegment.storedBlockSize, let mapped {
                precondition(total <= maximumRecordLength, "record of \(total) bytes exceeds \(maximumRecordLength)")
                let destination = UnsafeMutableRawBufferPointer(start: mapped + Int(bytes), count: 4 + total)
                // One uncompressed block (its length with the top bit set), the record written in place.
                destination.storeBytes(of: (UInt32(total) | 0x8000_0000).littleEndian, as: UInt32.self)
                Writer.frameRecord(into: UnsafeMutableRawBufferPointer(rebasing: destination[4...]), type: type, flags: flags, write)
                // Counted once every byte is in: a producer that dies before this never appended it.
                bytes = Int64(end)
                records += 1
                return bytes
            }
            try appendBeginningOrGrowing(type: type, flags: flags, length: length, write)
            return bytes
        }

        /// `append` when the frame is to begin, the file to grow, or the record spans blocks.
        @inline(never)
        private func appendBeginningOrGrowing(
            type: UInt16, flags: UInt16, length: Int, _ write: (UnsafeMutableRawBufferPointer) -> Void
        ) throws(RingError) {
            let total = SpillSegment.recordHeaderSize + length
            precondition(total <= maximumRecordLength, "record of \(total) bytes exceeds \(maximumRecordLength)")
            if !frameOpen {
                var preferences = Writer.preferences
                let begun = buffers.output.withUnsafeMutableBytes { LZ4F_compressBegin(context, $0.baseAddress!, $0.count, &preferences) }
                guard LZ4F_isError(begun) == 0 else { throw .spill(path: path, reason: "LZ4F_compressBegin failed") }
                try writeOutput(begun)
                frameOpen = true
            }
            let end = Int(bytes) + SpillSegment.storedSize(payload: length)
            if end > allocated { try allocate(atLeast: end) }
            let destination = UnsafeMutableRawBufferPointer(start: mapped! + Int(bytes), count: end - Int(bytes))
            if total <= SpillSegment.storedBlockSize {
                // One uncompressed block (its length with the top bit set), the record written in place.
                destination.storeBytes(of: (UInt32(total) | 0x8000_0000).littleEndian, as: UInt32.self)
                Writer.frameRecord(into: UnsafeMutableRawBufferPointer(rebasing: destination[4...]), type: type, flags: flags, write)
            } else {
                if buffers.record.count < total { buffers.record = [UInt8](repeating: 0, count: total) }
                buffers.record.withUnsafeMutableBytes { record in
                    Writer.frameRecord(into: UnsafeMutableRawBufferPointer(rebasing: record[0..<total]), type: type, flags: flags, write)
                    Writer.storeBlocks(UnsafeRawBufferPointer(rebasing: record[0..<total]), into: destination)
                }
            }
            // Counted once every byte is in: a producer that dies before this never appended it.
            bytes = Int64(end)
            records += 1
        }

        /// Ends the frame and cuts the file to what it holds, so that it reads whole to its end
        /// without a length: a segment sealed before its marker is in the ring. The mapping stays,
        /// for `reuse`; nothing past the new end is touched until then.
        func seal() throws(RingError) {
            try finish()
            if case .failure(let error) = Syscalls.truncate(descriptor, Int(bytes)) {
                throw .systemCall("ftruncate", path: path, error)
            }
            cut = Int(bytes)
        }

        /// Makes this closed segment's file segment `index`, at `path`, empty: renames the file
        /// (the consumer is done with it: its index is below the ring's "spill committed") and
        /// starts over at its beginning, keeping its allocation and mapping. Its old bytes stay
        /// until written over; no reader looks past the lengths the producer publishes.
        ///
        /// - Throws: `RingError.systemCall` when the file is gone (the consumer removed it) or
        ///   cannot be allocated again; the caller then makes a new segment.
        func reuse(path newPath: String, index newIndex: Int64) throws(RingError) {
            precondition(!frameOpen, "a segment is reused only once it is closed")
            if let cut {
                // Sealing freed the whole pages past its cut: allocate them again and fault them
                // in (before the rename, so that a failure leaves no file under the new name).
                if case .failure(let error) = Syscalls.allocate(descriptor, length: allocated) {
                    throw .systemCall("fallocate", path: path, error)
                }
                let kept = cut & ~(Writer.pageSize - 1)
                if let mapped, kept < allocated { Syscalls.populateForWriting(mapped + kept, length: allocated - kept) }
                self.cut = nil
            }
            if case .failure(let error) = Syscalls.rename(path, newPath) {
                throw .systemCall("rename", path: path, error)
            }
            (path, index, records, bytes) = (newPath, newIndex, 0, 0)
        }

        /// Ends the frame (its end mark).
        func finish() throws(RingError) {
            guard frameOpen else { return }
            let written = buffers.output.withUnsafeMutableBytes { LZ4F_compressEnd(context, $0.baseAddress!, $0.count, nil) }
            guard LZ4F_isError(written) == 0 else { throw .spill(path: path, reason: "LZ4F_compressEnd failed") }
            frameOpen = false
            try writeOutput(written)
        }

        /// A record's header, then its payload from `write`.
        @inline(__always)
        private static func frameRecord(
            into bytes: UnsafeMutableRawBufferPointer, type: UInt16, flags: UInt16, _ write: (UnsafeMutableRawBufferPointer) -> Void
        ) {
            bytes.storeBytes(of: UInt32(bytes.count).littleEndian, as: UInt32.self)
            bytes.storeBytes(of: type.littleEndian, toByteOffset: 4, as: UInt16.self)
            bytes.storeBytes(of: flags.littleEndian, toByteOffset: 6, as: UInt16.self)
            write(UnsafeMutableRawBufferPointer(rebasing: bytes[SpillSegment.recordHeaderSize...]))
        }

        /// `source` as uncompressed blocks of at most `storedBlockSize` bytes.
        private static func storeBlocks(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer) {
            var (read, written) = (0, 0)
            while read < source.count {
                let count = min(SpillSegment.storedBlockSize, source.count - read)
                destination.storeBytes(of: (UInt32(count) | 0x8000_0000).littleEndian, toByteOffset: written, as: UInt32.self)
                UnsafeMutableRawBufferPointer(rebasing: destination[(written + 4)..<(written + 4 + count)])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: source[read..<(read + count)]))
                (read, written) = (read + count, written + 4 + count)
            }
        }

        /// Copies the first `count` bytes of the output into the file, allocating more of it first
        /// when they do not fit.
        private func writeOutput(_ count: Int) throws(RingError) {
            guard count > 0 else { return }
            let end = Int(bytes) + count
            if end > allocated { try allocate(atLeast: end) }
            let offset = Int(bytes)
            buffers.output.withUnsafeBytes { output in
                (mapped! + offset).copyMemory(from: output.baseAddress!, byteCount: count)
            }
            bytes = Int64(end)
        }

        /// Grows the file (allocated, not sparse) to hold `size` bytes, and faults in the pages
        /// added in one system call rather than one fault each.
        private func allocate(atLeast size: Int) throws(RingError) {
            var grown = max(allocated, Writer.firstAllocation)
            while grown < size { grown += min(grown, Writer.largestGrowth) }
            if case .failure(let error) = Syscalls.allocate(descriptor, length: grown) {
                throw .systemCall("fallocate", path: path, error)
            }
            if grown > window {
                var larger = max(window, Writer.firstWindow)
                while larger < grown { larger *= 2 }
                switch Syscalls.map(descriptor, length: larger, populate: false) {
                case .success(let address):
                    if let mapped { Syscalls.unmap(mapped, length: window) }
                    (mapped, window) = (address, larger)
                case .failure(let error):
                    throw .systemCall("mmap", path: path, error)
                }
            }
            Syscalls.populateForWriting(mapped! + allocated, length: grown - allocated)
            allocated = grown
        }
    }

    /// Opens a segment file read-only (not through a symbolic link).
    private static func openForReading(_ path: String) throws(RingError) -> FileDescriptor {
        do {
            return try FileDescriptor.open(FilePath(path), .readOnly, options: [.noFollow, .closeOnExec])
        } catch {
            throw .systemCall("open", path: path, error as? Errno ?? .ioError)
        }
    }

    /// The frame header layout 3 writers begin each frame with: the magic, then FLG (version 1,
    /// independent blocks, no checksums, no content size, no dictionary) and BD (4 MiB blocks); its
    /// seventh byte is the header checksum, which covers only these two.
    static let frameMagic: UInt32 = 0x184D_2204
    static let frameFlags: UInt8 = 0x60
    static let frameBlockDescriptor: UInt8 = 0x70
    static let frameHeaderSize = 7

    /// Reads every whole record of a layout 3 segment in place, through a read-only mapping: its
    /// frames hold only stored blocks (the writer never compresses), so each record is handed out
    /// where it lies in the file, and only one longer than a block is put together in a buffer.
    /// Reads as `read` does: the first `length` bytes (all of the file for `nil`), the records
    /// before a block that `length` cuts, and an error for damage.
    ///
    /// - Warning: The file must not shrink while it is read (its producer is done with it: the
    ///   consumer reads a segment after its marker, or after its producer closed or died).
    /// - Returns: The number of records delivered.
    /// - Throws: `RingError.spill` for a damaged segment, one shorter than `length`, or one with a
    ///   compressed block.
    static func readStored(
        path: String, maximumRecordLength: Int, length: Int64?, _ handler: (UInt16, UInt16, UnsafeRawBufferPointer) -> Void
    ) throws(RingError) -> Int64 {
        if length == 0 { return 0 }
        if let length, length < 0 { throw .spill(path: path, reason: "a length of \(length) bytes") }
        let descriptor = try openForReading(path)
        defer { try? descriptor.close() }
        let size: Int64
        switch Syscalls.status(descriptor) {
        case .success(let status): size = status.size
        case .failure(let error): throw .systemCall("fstat", path: path, error)
        }
        if let length, length > size {
            throw .spill(path: path, reason: "the segment ends \(length - size) bytes before its \(length)")
        }
        let end = Int(length ?? size)
        if end == 0 { return 0 }
        let base: UnsafeRawPointer
        switch Syscalls.mapReadOnly(descriptor, length: end, populate: true) {
        case .success(let address): base = address
        case .failure(let error): throw .systemCall("mmap", path: path, error)
        }
        defer { Syscalls.unmap(base, length: end) }
        var reader = StoredRecords(path: path, bytes: UnsafeRawBufferPointer(start: base, count: end), maximumRecordLength: maximumRecordLength)
        return try reader.deliver(handler)
    }

    /// Walks the stored frames of a mapped segment, handing out whole records.
    private struct StoredRecords {
        let path: String
        let bytes: UnsafeRawBufferPointer
        let maximumRecordLength: Int
        /// A record longer than its block, put together from the blocks it spans.
        var pending: [UInt8] = []
        var pendingLength = 0

        init(path: String, bytes: UnsafeRawBufferPointer, maximumRecordLength: Int) {
            self.path = path
            self.bytes = bytes
            self.maximumRecordLength = maximumRecordLength
        }

        func word(at offset: Int) -> UInt32 {
            UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
        }

        func recordLength(at offset: Int) throws(RingError) -> Int {
            let length = Int(word(at: offset))
            guard length >= recordHeaderSize, length <= maximumRecordLength else {
                throw .spill(path: path, reason: "record length \(length) out of range")
            }
            return length
        }

        /// Hands a whole record to `handler`: its type, flags and payload. (Not a closure over
        /// `deliver`'s count: a captured variable costs an exclusivity check per record.)
        @inline(__always)
        static func hand(_ record: UnsafeRawBufferPointer, _ handler: (UInt16, UInt16, UnsafeRawBufferPointer) -> Void) {
            let type = UInt16(littleEndian: record.loadUnaligned(fromByteOffset: 4, as: UInt16.self))
            let flags = UInt16(littleEndian: record.loadUnaligned(fromByteOffset: 6, as: UInt16.self))
            handler(type, flags, UnsafeRawBufferPointer(rebasing: record[recordHeaderSize...]))
        }

        mutating func deliver(_ handler: (UInt16, UInt16, UnsafeRawBufferPointer) -> Void) throws(RingError) -> Int64 {
            let end = bytes.count
            var delivered: Int64 = 0
            var offset = 0
            frames: while offset < end {
                // A frame's header; a segment cut inside it (its producer died there) holds no more.
                guard end - offset >= frameHeaderSize else { break }
                guard word(at: offset) == frameMagic, bytes[offset + 4] == frameFlags, bytes[offset + 5] == frameBlockDescriptor else {
                    throw .spill(path: path, reason: "not a stored LZ4 frame at byte \(offset)")
                }
                offset += frameHeaderSize
                while true {
                    guard end - offset >= 4 else { break frames }
                    let block = word(at: offset)
                    if block == 0 {
                        // The frame's end: a record never spans two frames.
                        guard pendingLength == 0 else {
                            throw .spill(path: path, reason: "a record of the segment is cut by the end of its frame")
                        }
                        offset += 4
                        continue frames
                    }
                    guard block & 0x8000_0000 != 0 else {
                        throw .spill(path: path, reason: "a compressed block at byte \(offset) of a stored segment")
                    }
                    let count = Int(block & 0x7FFF_FFFF)
                    guard count <= storedBlockSize else { throw .spill(path: path, reason: "block of \(count) bytes") }
                    // A block cut by the segment's end: its records were never counted.
                    guard end - offset - 4 >= count else { break frames }
                    var position = offset + 4
                    let blockEnd = position + count
                    offset = blockEnd
                    while position < blockEnd {
                        if pendingLength > 0 {
                            let take = min(pendingLength - pending.count, blockEnd - position)
                            pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[position..<(position + take)]))
                            position += take
                            if pending.count == pendingLength {
                                pending.withUnsafeBytes { StoredRecords.hand($0, handler) }
                                delivered += 1
                                (pending, pendingLength) = ([], 0)
                            }
                            continue
                        }
                        // A record begins in a block with its whole header (the writer's blocks
                        // are whole records, or a long record's 4 MiB pieces).
                        let available = blockEnd - position
                        guard available >= recordHeaderSize else {
                            throw .spill(path: path, reason: "a record header split across blocks at byte \(position)")
                        }
                        let length = try recordLength(at: position)
                        if length <= available {
                            StoredRecords.hand(UnsafeRawBufferPointer(rebasing: bytes[position..<(position + length)]), handler)
                            delivered += 1
                            position += length
                            continue
                        }
                        pendingLength = length
                        pending = Array(UnsafeRawBufferPointer(rebasing: bytes[position..<blockEnd]))
                        pending.reserveCapacity(length)
                        position = blockEnd
                    }
                }
            }
            return delivered
        }
    }

    /// Reads every whole record of a segment. A segment whose producer died while writing it may
    /// end inside a block: the records before that block are delivered, the partial one is not
    /// (its append never returned).
    ///
    /// - Parameters:
    ///   - length: The bytes of the segment to read (the rest of the file was allocated ahead);
    ///     `nil` for all of them.
    /// - Returns: The number of records delivered.
    /// - Throws: `RingError.spill` for a damaged segment, or one shorter than `length`.
    static func read(
        path: String, maximumRecordLength: Int, length: Int64? = nil, _ handler: (UInt16, UInt16, UnsafeRawBufferPointer) -> Void
    ) throws(RingError) -> Int64 {
        // The buffers of the last read, if no other thread has them: a consumer reads segment
        // after segment, and each would otherwise fault in a record's worth of fresh memory.
        let buffers = ReadBuffers.spare.locked { $0.take() } ?? ReadBuffers()
        defer {
            // Not kept when it grew for huge records: those are rare, and their memory is better given back.
            if buffers.decoded.capacity <= ReadBuffers.largestKept { ReadBuffers.spare.locked { $0 = buffers } }
        }
        let descriptor = try openForReading(path)
        defer { try? descriptor.close() }
        var context: OpaquePointer?
        guard LZ4F_isError(LZ4F_createDecompressionContext(&context, UInt32(LZ4F_VERSION))) == 0 else {
            throw .spill(path: path, reason: "LZ4F_createDecompressionContext failed")
        }
        defer { LZ4F_freeDecompressionContext(context) }
        buffers.decoded.reset(path: path, maximumRecordLength: maximumRecordLength)
        var delivered: Int64 = 0
        var remaining = length ?? .max
        while remaining > 0 {
            let count: Int
            do {
                count = try buffers.input.withUnsafeMutableBytes { input in
                    try descriptor.read(into: UnsafeMutableRawBufferPointer(rebasing: input[0..<Int(min(Int64(input.count), remaining))]))
                }
            } catch {
                throw .systemCall("read", path: path, error as? Errno ?? .ioError)
            }
            if count == 0 {
                if let length, remaining > 0 {
                    throw .spill(path: path, reason: "the segment ends \(remaining) bytes before its \(length)")
                }
                break
            }
            remaining -= Int64(count)
            var offset = 0
            while offset < count {
                try buffers.decoded.makeRoom()
                var sourceSize = count - offset
                var hint = 0
                let produced = buffers.decoded.decode { destination in
                    var decodedSize = destination.count
                    buffers.input.withUnsafeBytes { source in
                        hint = LZ4F_decompress(context, destination.baseAddress, &decodedSize, source.baseAddress! + offset, &sourceSize, nil)
                    }
                    return LZ4F_isError(hint) == 0 ? decodedSize : 0
                }
                guard LZ4F_isError(hint) == 0 else {
                    throw .spill(path: path, reason: "damaged LZ4 frame: " + String(cString: LZ4F_getErrorName(hint)))
                }
                guard sourceSize > 0 || produced > 0 else { throw .spill(path: path, reason: "LZ4 frame makes no progress") }
                offset += sourceSize
                try buffers.decoded.deliver { type, flags, payload in
                    handler(type, flags, payload)
                    delivered += 1
                }
                // A record never spans two frames: bytes left at a frame's end are damage.
                if hint == 0 && buffers.decoded.pendingCount > 0 {
                    throw .spill(path: path, reason: "a record of the segment is cut by the end of its frame")
                }
            }
        }
        return delivered
    }

    /// The memory segments are read in: file bytes, and the records decoded from them.
    ///
    /// - Warning: Used by one thread at a time: `read` takes it from `spare` and puts it back.
    fileprivate final class ReadBuffers: @unchecked Sendable {
        static let spare = Mutex<ReadBuffers?>(nil)
        static let largestKept = 64 << 20
        fileprivate var input = [UInt8](repeating: 0, count: 256 << 10)
        fileprivate var decoded = RecordBuffer()
    }

    /// Decoded bytes of a segment, handed out as whole records where they were decoded: only the
    /// start of a record cut by the end of a decoding step moves (to the front), and the buffer
    /// grows to hold the longest record.
    fileprivate struct RecordBuffer {
        private var path = ""
        private var maximumRecordLength = 0
        private var storage = [UInt8](repeating: 0, count: 256 << 10)
        /// The first byte not handed out, and one past the last byte decoded.
        private var start = 0
        private var end = 0

        /// Empties the buffer for the segment at `path`.
        mutating func reset(path: String, maximumRecordLength: Int) {
            self.path = path
            self.maximumRecordLength = maximumRecordLength
            (start, end) = (0, 0)
        }

        /// Bytes of a record not yet whole.
        var pendingCount: Int { end - start }

        /// The bytes it holds before it grows.
        var capacity: Int { storage.count }

        /// Makes sure there is room to decode into after the pending bytes.
        mutating func makeRoom() throws(RingError) {
            guard end == storage.count else { return }
            if start > 0 {
                let (from, count) = (start, end - start)
                storage.withUnsafeMutableBytes { bytes in
                    bytes.baseAddress!.copyMemory(from: bytes.baseAddress! + from, byteCount: count)
                }
                (start, end) = (0, count)
                return
            }
            // One record fills the buffer: grow to its length (checked by `deliver`), at least doubling.
            let length = try recordLength(at: 0) ?? 0
            let capacity = max(2 * storage.count, length + (64 << 10))
            var grown = [UInt8](repeating: 0, count: capacity)
            grown.replaceSubrange(0..<end, with: storage[0..<end])
            storage = grown
        }

        /// Lets `body` decode into the free space and returns the bytes it reports written.
        mutating func decode(_ body: (UnsafeMutableRawBufferPointer) -> Int) -> Int {
            let from = end
            let written = storage.withUnsafeMutableBytes { body(UnsafeMutableRawBufferPointer(rebasing: $0[from...])) }
            precondition(written >= 0 && written <= storage.count - from)
            end += written
            return written
        }

        /// Hands out every whole record, in order.
        mutating func deliver(_ handler: (UInt16, UInt16, UnsafeRawBufferPointer) -> Void) throws(RingError) {
            while let length = try recordLength(at: start), end - start >= length {
                let from = start
                storage.withUnsafeBytes { bytes in
                    let type = UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: from + 4, as: UInt16.self))
                    let flags = UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: from + 6, as: UInt16.self))
                    handler(type, flags, UnsafeRawBufferPointer(rebasing: bytes[(from + recordHeaderSize)..<(from + length)]))
                }
                start += length
            }
            if start == end { (start, end) = (0, 0) }
        }

        /// The length of the record at `offset`, checked, or `nil` when its header is not all here.
        private func recordLength(at offset: Int) throws(RingError) -> Int? {
            guard end - offset >= recordHeaderSize else { return nil }
            let length = storage.withUnsafeBytes { Int(UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: UInt32.self))) }
            guard length >= recordHeaderSize, length <= maximumRecordLength else {
                throw .spill(path: path, reason: "record length \(length) out of range")
            }
            return length
        }
    }
}
