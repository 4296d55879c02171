import Glibc
import Synchronization
import SystemPackage
internal import RingboardSystem

/// Weight segments: where a trainer puts its weights' values at a histogram epoch, so that they
/// reach the aggregator without passing through the ring (no LZ4, no copy but the trainer's one).
///
/// A segment is one file beside its ring, `<ring>.weights.<sequence>`, written whole by the
/// producer (`WeightSegment.Writer`) before any ring record names it: a 64-byte header, then
/// each weight's values (Float32, little-endian, each at a 64-byte-aligned offset). Its records
/// (`weightSegment` hook records, `RingboardRecords`) name the sequence number, the byte offset
/// and the count of values, and are appended only once every value is in the file. The
/// aggregator maps the file read-only (`WeightSegment`) and reads the values where they are.
///
/// Header (little-endian):
///
///     0   u64  magic "RBWSEG01"
///     8   u32  layout version (`WeightSegment.version`)
///     12  u32  header size (64)
///     16  i64  sequence number (the one in the file name)
///     24  u64  bytes of values after the header
///     32  u64  sealed: 1 once every value is written (0 while the producer writes)
///     40  …    zero
///
/// A segment is immutable once sealed. Its lifetime (DESIGN §4): the producer never removes it;
/// the aggregator removes it once no checkpoint names it and no ring position it may read again
/// can (`RingboardAggregator`'s weight segment collection), and a retired ring's segments once
/// nothing names them. Instead of removing it, the aggregator may rename it a spare
/// (`<ring>.weights.spare.<sequence>`, at most `sparesPerRing` a ring): nothing names a spare, and
/// the producer takes one (renaming it to its next segment's name) to write that segment into
/// pages the file holds already, instead of a new file's fresh ones.
public final class WeightSegment: @unchecked Sendable {
    // @unchecked: every stored property is immutable, and the mapping is read-only.

    /// The file's magic, "RBWSEG01".
    public static let magic: UInt64 = 0x3130_4745_5357_4252
    /// The layout version; any change to the layout bumps it.
    public static let version: UInt32 = 1
    /// Bytes before the first value.
    public static let headerSize = 64
    /// Where each weight's values start, relative to the file: a multiple of this.
    public static let valueAlignment = 64
    static let magicOffset = 0
    static let versionOffset = 8
    static let headerSizeOffset = 12
    static let sequenceOffset = 16
    static let valueBytesOffset = 24
    static let sealedOffset = 32

    /// The infix between a ring's file name and a segment's sequence number.
    public static let nameInfix = ".weights."

    /// The file name of segment `sequence` of the ring whose file is named `ring`.
    public static func fileName(ring: String, sequence: Int64) -> String {
        ring + nameInfix + String(sequence)
    }

    /// The path of segment `sequence` of the ring file at `ring`: beside it.
    public static func path(ring: String, sequence: Int64) -> String {
        ring + nameInfix + String(sequence)
    }

    /// The infix between a ring's file name and a spare's former sequence number.
    public static let spareInfix = ".weights.spare."
    /// Spares the aggregator keeps for each ring: as many segments as a trainer writes while the
    /// aggregator reads the one before.
    public static let sparesPerRing = 2

    /// The file name of a spare of the ring whose file is named `ring`, once segment `sequence`.
    public static func spareFileName(ring: String, sequence: Int64) -> String {
        ring + spareInfix + String(sequence)
    }

    /// The ring file name a spare's file name holds, or `nil` when `name` is not a spare's
    /// (`<name>.ring.weights.spare.<n>`, `n` ≥ 0).
    public static func parseSpare(fileName name: String) -> String? {
        guard let cut = name.lastIndex(of: ".") else { return nil }
        let head = name[..<cut], digits = name[name.index(after: cut)...]
        let marker = RingDirectory.ringSuffix + spareInfix.dropLast()
        guard head.hasSuffix(marker), head.count > marker.count, !head.hasPrefix("."),
              !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return String(head.dropLast(spareInfix.count - 1))
    }

    /// Renames segment `sequence` of ring `ring` in `directory`, which nothing needs any more, a
    /// spare of that ring.
    ///
    /// - Returns: Whether it was renamed (not when it is gone).
    public static func makeSpare(directory: String, ring: String, sequence: Int64) -> Bool {
        if case .success = Syscalls.rename(directory + "/" + fileName(ring: ring, sequence: sequence),
                                           directory + "/" + spareFileName(ring: ring, sequence: sequence)) {
            return true
        }
        return false
    }

    /// The ring file name and sequence number a segment file name holds, or `nil` when `name`
    /// is not a segment's (`<name>.ring.weights.<n>`, `n` ≥ 0).
    public static func parse(fileName name: String) -> (ring: String, sequence: Int64)? {
        let marker = RingDirectory.ringSuffix + nameInfix
        guard let cut = name.lastIndex(of: "."), name[..<cut].hasSuffix(marker.dropLast()) else { return nil }
        let ring = String(name[..<cut].dropLast(nameInfix.count - 1))
        let digits = name[name.index(after: cut)...]
        guard !ring.hasPrefix("."), ring.count > RingDirectory.ringSuffix.count, !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
              let sequence = Int64(digits), String(sequence) == digits
        else { return nil }
        return (ring, sequence)
    }

    /// The segment files in `directory`, by ring file name and sequence number.
    ///
    /// - Parameter directory: The ring directory.
    /// - Throws: `RingError.systemCall` when it cannot be listed.
    public static func files(in directory: String) throws(RingError) -> [(name: String, ring: String, sequence: Int64)] {
        let names: [String]
        do {
            names = try DirectoryListing.names(in: directory)
        } catch {
            throw RingError(error)
        }
        return names.compactMap { name in parse(fileName: name).map { (name, $0.ring, $0.sequence) } }
    }

    /// Removes a segment file (nothing when it is gone already).
    ///
    /// - Parameter path: The segment's path.
    public static func remove(_ path: String) {
        _ = Syscalls.unlink(path)
    }

    /// The segment file.
    public let path: String
    /// The file name of its ring.
    public let ring: String
    /// The file name of the segment.
    public var fileName: String { WeightSegment.fileName(ring: ring, sequence: sequence) }
    /// The sequence number, as in its name and header.
    public let sequence: Int64
    /// Bytes of values after the header.
    public let valueByteCount: Int
    private let base: UnsafeRawPointer
    private let length: Int

    /// Maps segment `sequence` of ring file `ring` in `directory` read-only, after checking it:
    /// owned by this user and not writable by others, a regular file (not a link), whole
    /// (as long as its header says), sealed, and of this layout version and sequence number.
    ///
    /// - Parameters:
    ///   - directory: The ring directory.
    ///   - ring: The ring's file name.
    ///   - sequence: The segment's sequence number.
    /// - Throws: `RingError.weightSegment` naming the file and what is wrong with it;
    ///   `.notOwned` for a file of another user or one others can write; `.systemCall` when it
    ///   cannot be opened or mapped.
    public init(directory: String, ring: String, sequence: Int64) throws(RingError) {
        guard !ring.contains("/"), !ring.hasPrefix("."), ring.hasSuffix(RingDirectory.ringSuffix), sequence >= 0 else {
            throw .weightSegment(path: directory + "/" + ring, reason: "not a ring's segment name (sequence \(sequence))")
        }
        let path = directory + "/" + WeightSegment.fileName(ring: ring, sequence: sequence)
        self.path = path
        self.ring = ring
        self.sequence = sequence
        let descriptor: FileDescriptor
        do {
            descriptor = try FileDescriptor.open(FilePath(path), .readOnly, options: [.noFollow, .closeOnExec])
        } catch {
            throw .systemCall("open", path: path, error as? Errno ?? .ioError)
        }
        defer { try? descriptor.close() }  // the mapping outlives the descriptor
        let status: Syscalls.FileStatus
        switch Syscalls.status(descriptor) {
        case .success(let value): status = value
        case .failure(let error): throw .systemCall("fstat", path: path, error)
        }
        guard status.isRegular else { throw .notOwned(path: path, reason: "not a regular file") }
        if let problem = status.ownershipProblem { throw .notOwned(path: path, reason: problem) }
        guard status.size >= Int64(WeightSegment.headerSize) else {
            throw .weightSegment(path: path, reason: "\(status.size) bytes is shorter than a segment's header")
        }
        let length = Int(status.size)
        let base: UnsafeRawPointer
        switch Syscalls.mapReadOnly(descriptor, length: length) {
        case .success(let address): base = address
        case .failure(let error): throw .systemCall("mmap", path: path, error)
        }
        func header<T: FixedWidthInteger>(_ offset: Int, _: T.Type) -> T {
            T(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: T.self))
        }
        // The segment is immutable once a record names it (its producer wrote every byte before
        // appending the record, and the ring's releasing store of the record's length pairs with
        // the acquiring load in RingReader.poll): these are plain loads of settled bytes.
        let problem: String? = if header(WeightSegment.magicOffset, UInt64.self) != WeightSegment.magic {
            "not a weight segment (bad magic)"
        } else if header(WeightSegment.versionOffset, UInt32.self) != WeightSegment.version {
            "layout version \(header(WeightSegment.versionOffset, UInt32.self)), this build reads \(WeightSegment.version)"
        } else if header(WeightSegment.headerSizeOffset, UInt32.self) != UInt32(WeightSegment.headerSize) {
            "header size \(header(WeightSegment.headerSizeOffset, UInt32.self)), not \(WeightSegment.headerSize)"
        } else if header(WeightSegment.sequenceOffset, Int64.self) != sequence {
            "holds sequence number \(header(WeightSegment.sequenceOffset, Int64.self)), not \(sequence)"
        } else if header(WeightSegment.sealedOffset, UInt64.self) != 1 {
            "not sealed: its producer stopped before every value was written"
        } else if header(WeightSegment.valueBytesOffset, UInt64.self) > UInt64(length - WeightSegment.headerSize) {
            "truncated: \(length - WeightSegment.headerSize) bytes of values, its header says \(header(WeightSegment.valueBytesOffset, UInt64.self))"
        } else {
            nil
        }
        if let problem {
            Syscalls.unmap(UnsafeMutableRawPointer(mutating: base), length: length)
            throw .weightSegment(path: path, reason: problem)
        }
        self.base = base
        self.length = length
        self.valueByteCount = Int(header(WeightSegment.valueBytesOffset, UInt64.self))
    }

    deinit {
        Syscalls.unmap(UnsafeMutableRawPointer(mutating: base), length: length)
    }

    /// Whether `count` values from byte `offset` lie within the segment's values (and `offset`
    /// is a value's boundary): what a record naming them must satisfy.
    ///
    /// - Parameters:
    ///   - offset: The first value's byte offset in the file.
    ///   - count: The number of values.
    public func contains(offset: Int, count: Int) -> Bool {
        let end = WeightSegment.headerSize + valueByteCount
        guard offset >= WeightSegment.headerSize, offset <= end, offset % MemoryLayout<Float>.stride == 0, count >= 0 else { return false }
        return count <= (end - offset) / MemoryLayout<Float>.stride
    }

    /// Lends `count` values from byte `offset`, in place.
    ///
    /// - Parameters:
    ///   - offset: The first value's byte offset in the file.
    ///   - count: The number of values.
    ///   - body: Reads the values.
    /// - Returns: What `body` returns.
    /// - Precondition: `contains(offset:count:)`.
    /// - Warning: Do not escape the values from the closure: the mapping lives only as long as
    ///   this object.
    public func withValues<Result, Failure: Error>(
        offset: Int, count: Int, _ body: (Span<Float>) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        precondition(contains(offset: offset, count: count), "values \(offset) + \(count) outside segment \(path)")
        #if _endian(big)
        #error("weight segments hold little-endian Float32, read in place")
        #endif
        let values = UnsafeBufferPointer(start: (base + offset).assumingMemoryBound(to: Float.self), count: count)
        return try body(values.span)
    }
}

extension WeightSegment {
    /// Makes a ring's weight segments, one at a time, numbered in order.
    ///
    /// `write` holds a lock from making the file until `publish` has appended the records that
    /// name it, so that segments are named in the ring in the order of their sequence numbers:
    /// the aggregator relies on it to tell segments it may still read from those it never will.
    ///
    /// - Warning: Safe to use from any number of threads of one process; one per ring.
    public final class Writer: Sendable {
        /// The ring file the segments belong to.
        public let ringPath: String
        private let nextSequence = Mutex<Int64>(0)

        /// - Parameter ringPath: The ring file (`RingWriter.path`).
        public init(ringPath: String) {
            self.ringPath = ringPath
        }

        /// Writes the next segment, holding `valueCounts[i]` values of weight `i` that `fill`
        /// writes, and once it is whole and sealed, lets `publish` append the records naming it.
        ///
        /// The file is a spare of the ring when the aggregator left one (its pages allocated
        /// already), else a new one. It is allocated whole first (`fallocate`), so a full disk
        /// fails here, before any record names it; then each weight's values are written with
        /// one `pwrite` (the one copy; no mapping, so no page faults in the trainer), then the
        /// header's sealed word. A producer killed before `publish` leaves a segment no record names, which the
        /// aggregator removes when its ring retires; one killed while writing leaves it unsealed
        /// as well, which the aggregator would refuse.
        ///
        /// - Parameters:
        ///   - valueCounts: Each weight's number of values.
        ///   - fill: Called once per weight, in order, with its index and a closure that writes
        ///     its values (call it once with exactly `valueCounts[index]` values).
        ///   - publish: Called with the segment's sequence number and each weight's byte offset
        ///     in it, under the lock: appends the records naming it.
        /// - Throws: `RingError.systemCall` when the file cannot be made, allocated (a full disk)
        ///   or written; nothing was published then, and the file is gone.
        public func write(
            valueCounts: [Int],
            fill: (_ index: Int, _ write: (Span<Float>) throws(RingError) -> Void) throws(RingError) -> Void,
            publish: (_ sequence: Int64, _ offsets: [Int]) -> Void
        ) throws(RingError) {
            var offsets: [Int] = []
            var end = WeightSegment.headerSize
            for count in valueCounts {
                precondition(count >= 0)
                end = (end + WeightSegment.valueAlignment - 1) / WeightSegment.valueAlignment * WeightSegment.valueAlignment
                offsets.append(end)
                end += count * MemoryLayout<Float>.stride
            }
            let size = end
            try nextSequence.withLock { (next: inout Int64) throws(RingError) in
                let sequence = next
                next += 1
                let path = WeightSegment.path(ring: ringPath, sequence: sequence)
                let spare = Writer.takeSpare(ringPath: ringPath, as: path)
                try Writer.make(path: path, spare: spare, sequence: sequence, size: size, offsets: offsets, valueCounts: valueCounts, fill: fill)
                publish(sequence, offsets)
            }
        }

        /// Renames a spare of the ring at `ringPath` to `path`, when there is one.
        ///
        /// - Returns: Whether `path` is now a spare's file.
        private static func takeSpare(ringPath: String, as path: String) -> Bool {
            let directory = Paths.directory(of: ringPath), ring = Paths.lastComponent(of: ringPath)
            guard let names = try? DirectoryListing.names(in: directory) else { return false }
            for name in names where WeightSegment.parseSpare(fileName: name) == ring {
                // The aggregator may remove it meanwhile: the rename then fails, and the next is tried.
                if case .success = Syscalls.rename(directory + "/" + name, path) { return true }
            }
            return false
        }

        private static func make(
            path: String, spare: Bool, sequence: Int64, size: Int, offsets: [Int], valueCounts: [Int],
            fill: (Int, (Span<Float>) throws(RingError) -> Void) throws(RingError) -> Void
        ) throws(RingError) {
            let descriptor: FileDescriptor
            do {
                descriptor = try FileDescriptor.open(
                    FilePath(path), .writeOnly, options: spare ? [.noFollow, .closeOnExec] : [.create, .exclusiveCreate, .noFollow, .closeOnExec],
                    permissions: [.ownerReadWrite])
            } catch {
                throw .systemCall("open", path: path, error as? Errno ?? .ioError)
            }
            var done = false
            defer {
                try? descriptor.close()
                if !done { _ = Syscalls.unlink(path) }
            }
            // A spare keeps its pages up to `size` (its header is written again, unsealed, first).
            if spare, case .failure(let error) = Syscalls.truncate(descriptor, size) {
                throw .systemCall("ftruncate", path: path, error)
            }
            if case .failure(let error) = Syscalls.allocate(descriptor, length: size) {
                throw .systemCall("fallocate", path: path, error)
            }
            func writeAll(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(RingError) {
                do {
                    _ = try descriptor.writeAll(toAbsoluteOffset: Int64(offset), bytes)
                } catch {
                    throw .systemCall("pwrite", path: path, error as? Errno ?? .ioError)
                }
            }
            var header = [UInt8](repeating: 0, count: WeightSegment.headerSize)
            header.withUnsafeMutableBytes { bytes in
                bytes.storeBytes(of: WeightSegment.magic.littleEndian, toByteOffset: WeightSegment.magicOffset, as: UInt64.self)
                bytes.storeBytes(of: WeightSegment.version.littleEndian, toByteOffset: WeightSegment.versionOffset, as: UInt32.self)
                bytes.storeBytes(of: UInt32(WeightSegment.headerSize).littleEndian, toByteOffset: WeightSegment.headerSizeOffset, as: UInt32.self)
                bytes.storeBytes(of: sequence.littleEndian, toByteOffset: WeightSegment.sequenceOffset, as: Int64.self)
                bytes.storeBytes(of: UInt64(size - WeightSegment.headerSize).littleEndian, toByteOffset: WeightSegment.valueBytesOffset, as: UInt64.self)
            }
            // Unsealed until every value is in.
            try header.withUnsafeBytes { bytes in Result { () throws(RingError) in try writeAll(bytes, at: 0) } }.get()
            for index in offsets.indices {
                var written = false
                try fill(index) { (values: Span<Float>) throws(RingError) in
                    precondition(!written && values.count == valueCounts[index], "weight \(index): \(values.count) values, not \(valueCounts[index])")
                    written = true
                    try values.withUnsafeBytes { (bytes) throws(RingError) in try writeAll(bytes, at: offsets[index]) }
                }
                precondition(written, "weight \(index) was not written")
            }
            try withUnsafeBytes(of: UInt64(1).littleEndian) { bytes in
                Result { () throws(RingError) in try writeAll(bytes, at: WeightSegment.sealedOffset) }
            }.get()
            done = true
        }
    }
}
