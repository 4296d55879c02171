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
    /// The file's mapping, which a later segment in the same file (a spare's next life) may
    /// reuse (`init(directory:ring:sequence:reusing:)`).
    public let mapping: SegmentMapping
    private var base: UnsafeRawPointer { UnsafeRawPointer(mapping.base) }

    /// Maps segment `sequence` of ring file `ring` in `directory` read-only, after checking it:
    /// owned by this user and not writable by others, a regular file (not a link), whole
    /// (as long as its header says), sealed, and of this layout version and sequence number.
    ///
    /// - Parameters:
    ///   - directory: The ring directory.
    ///   - ring: The ring's file name.
    ///   - sequence: The segment's sequence number.
    ///   - kept: Mappings of earlier segments: one of the same file (device and inode) that
    ///     covers it is used instead of a new mapping, whose pages would each fault on the first
    ///     read (a trainer writes its next segments into the files of its last ones).
    /// - Throws: `RingError.weightSegment` naming the file and what is wrong with it;
    ///   `.notOwned` for a file of another user or one others can write; `.systemCall` when it
    ///   cannot be opened or mapped.
    public init(directory: String, ring: String, sequence: Int64, reusing kept: [SegmentMapping] = []) throws(RingError) {
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
        let mapping: SegmentMapping
        if let reused = kept.first(where: { $0.device == status.device && $0.inode == status.inode && $0.length >= length }) {
            // Longer than the file, maybe (a spare is truncated to its next segment's size):
            // only its first `length` bytes are read.
            mapping = reused
        } else {
            do throws(Errno) {
                // Not nil: the file is at least a header long.
                mapping = try SegmentMapping(descriptor, length: length, status: status, writable: false)!
            } catch {
                throw .systemCall("mmap", path: path, error)
            }
        }
        let base = mapping.base
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
            throw .weightSegment(path: path, reason: problem)
        }
        self.mapping = mapping
        self.valueByteCount = Int(header(WeightSegment.valueBytesOffset, UInt64.self))
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
    ///   this object (or another segment that reuses it).
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
        private let state = Mutex<State>(State())

        private struct State {
            /// The next segment's sequence number.
            var next: Int64 = 0
            /// Mappings of the spares this writer has written into, the latest first.
            var mappings: [SegmentMapping] = []
        }

        /// Spares whose mappings a writer keeps: as many as the aggregator keeps for a ring, and
        /// one more for the segment it has not made a spare yet.
        static let mappingsKept = WeightSegment.sparesPerRing + 1

        /// - Parameter ringPath: The ring file (`RingWriter.path`).
        public init(ringPath: String) {
            self.ringPath = ringPath
        }

        /// Writes the next segment, holding `valueCounts[i]` values of weight `i` that `fill`
        /// writes, and once it is whole and sealed, lets `publish` append the records naming it.
        ///
        /// The file is a spare of the ring when the aggregator left one (its pages allocated
        /// already), else a new one. It is allocated whole first (`fallocate`), so a full disk
        /// fails here, before any record names it; then the header is written unsealed, each
        /// weight's values with one copy, then the header's sealed word. The copy is a `pwrite`
        /// into a new file, and a `memcpy` into a spare through the mapping this writer keeps of
        /// it (`SegmentMapping`; 32 MiB took 3 ms that way against 7–9 ms with `pwrite` into
        /// tmpfs). A producer killed before `publish` leaves a segment no record names, which the
        /// aggregator removes when its ring retires; one killed while writing leaves it unsealed
        /// as well, which the aggregator would refuse.
        ///
        /// - Parameters:
        ///   - valueCounts: Each weight's number of values.
        ///   - fill: Called once per weight, in order, with its index and a closure that writes
        ///     its values (call it once with exactly `valueCounts[index]` values).
        ///   - publish: Called with the segment's sequence number and each weight's byte offset
        ///     in it, under the lock: appends the records naming it.
        ///   - waitForCommit: Waits at most the given time for the consumer's next commit
        ///     (`RingWriter.waitForNextCommit`), and tells whether it came. Called while there is
        ///     no spare and `segmentsAhead` segments of the ring are still the aggregator's: it
        ///     makes segments spares just before it commits. So a trainer that runs ahead waits a
        ///     little for a spare rather than allocating fresh pages for every segment, which on
        ///     tmpfs costs more than the wait (7–18 ms for 32 MiB here), and a lagging aggregator
        ///     does not leave a trail of segments in memory. After `spareWait` it makes a new file
        ///     all the same.
        /// - Throws: `RingError.systemCall` when the file cannot be made, allocated (a full disk)
        ///   or written; nothing was published then, and the file is gone.
        public func write(
            valueCounts: [Int],
            fill: (_ index: Int, _ write: (Span<Float>) throws(RingError) -> Void) throws(RingError) -> Void,
            publish: (_ sequence: Int64, _ offsets: [Int]) -> Void,
            waitForCommit: ((Duration) -> Bool)? = nil
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
            try state.locked { (state: inout State) throws(RingError) in
                let sequence = state.next
                state.next += 1
                let path = WeightSegment.path(ring: ringPath, sequence: sequence)
                var spare = Writer.takeSpare(ringPath: ringPath, as: path)
                if let waitForCommit {
                    let deadline = ContinuousClock.now + Writer.spareWait
                    while !spare.taken, spare.segments >= Writer.segmentsAhead, deadline > .now,
                          waitForCommit(deadline - .now) {
                        spare = Writer.takeSpare(ringPath: ringPath, as: path)
                    }
                }
                try Writer.make(path: path, spare: spare.taken, mappings: &state.mappings, sequence: sequence, size: size, offsets: offsets,
                                valueCounts: valueCounts, fill: fill)
                publish(sequence, offsets)
            }
        }

        /// Segments of a ring the aggregator may hold before a writer waits for a spare instead
        /// of making a new file: the last one the checkpoint names (the model's current
        /// weights, until the next epoch's replace them), the one it is reading, and the one the
        /// writer wrote meanwhile. So the trainer writes an epoch's weights while the aggregator
        /// makes the last epoch's histograms, and once it is further ahead, waits.
        static let segmentsAhead = 3

        /// The longest wait for a spare (`write`'s `waitForCommit`).
        static let spareWait: Duration = .milliseconds(100)

        /// Renames a spare of the ring at `ringPath` to `path`, when there is one.
        ///
        /// - Returns: Whether `path` is now a spare's file, and how many segments of the ring
        ///   (not spares) the directory held.
        private static func takeSpare(ringPath: String, as path: String) -> (taken: Bool, segments: Int) {
            let directory = Paths.directory(of: ringPath), ring = Paths.lastComponent(of: ringPath)
            guard let names = try? DirectoryListing.names(in: directory) else { return (false, 0) }
            var segments = 0
            for name in names {
                if WeightSegment.parseSpare(fileName: name) == ring {
                    // The aggregator may remove it meanwhile: the rename then fails, and the next is tried.
                    if case .success = Syscalls.rename(directory + "/" + name, path) { return (true, segments) }
                } else if WeightSegment.parse(fileName: name)?.ring == ring {
                    segments += 1
                }
            }
            return (false, segments)
        }

        private static func make(
            path: String, spare: Bool, mappings: inout [SegmentMapping], sequence: Int64, size: Int, offsets: [Int], valueCounts: [Int],
            fill: (Int, (Span<Float>) throws(RingError) -> Void) throws(RingError) -> Void
        ) throws(RingError) {
            let descriptor: FileDescriptor
            do {
                // Read and write: a spare is mapped, and a shared writable mapping needs both.
                descriptor = try FileDescriptor.open(
                    FilePath(path), spare ? .readWrite : .writeOnly,
                    options: spare ? [.noFollow, .closeOnExec] : [.create, .exclusiveCreate, .noFollow, .closeOnExec],
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
            let status = spare ? try? Syscalls.status(descriptor).get() : nil
            // A spare with every page allocated already needs no fallocate, which on tmpfs walks
            // every page all the same (1–5 ms for 32 MiB here).
            if (status?.allocatedBytes ?? 0) < Int64(size), case .failure(let error) = Syscalls.allocate(descriptor, length: size) {
                throw .systemCall("fallocate", path: path, error)
            }
            // A spare is written through a mapping this writer keeps (the file keeps its inode
            // through its renames): copies into pages mapped already, with no system call and no
            // page fault. The first time a spare comes back its mapping is made, its pages
            // populated. A new file is written with pwrite: its fresh pages, mapped, would each
            // fault.
            let mapping = status.flatMap { Writer.mapping(of: descriptor, status: $0, size: size, kept: &mappings) }
            func writeAll(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(RingError) {
                if let mapping {
                    mapping.copy(bytes, to: offset)
                    return
                }
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

extension WeightSegment.Writer {
    /// The mapping of the spare open at `descriptor` (`status`), now `size` bytes long: the one kept from
    /// an earlier segment in the same file, when it covers `size` bytes, or a new one, kept for
    /// the next time (the oldest kept is unmapped past `mappingsKept`). `nil` when it cannot be
    /// mapped: the segment is then written with `pwrite`.
    fileprivate static func mapping(
        of descriptor: FileDescriptor, status: Syscalls.FileStatus, size: Int, kept: inout [SegmentMapping]
    ) -> SegmentMapping? {
        var found: SegmentMapping?
        if let index = kept.firstIndex(where: { $0.device == status.device && $0.inode == status.inode }) {
            let mapping = kept.remove(at: index)
            if mapping.length >= size { found = mapping }
        }
        guard let mapping = found ?? (try? SegmentMapping(descriptor, length: size, status: status, writable: true)) ?? nil else { return nil }
        kept.insert(mapping, at: 0)
        if kept.count > mappingsKept { kept.removeLast() }
        return mapping
    }
}

/// A shared mapping of a weight segment file, kept across the file's lives: a trainer writes its
/// next segment into a spare, the file of an earlier segment, and a kept mapping writes it (the
/// writer's) or reads it (the aggregator's) again without a page fault. The mapping holds the
/// file, so no other file takes its device and inode numbers while it lives, and it outlives the
/// file's names and descriptors.
///
/// A spare is truncated to its next segment's size, so a kept mapping may be longer than the
/// file: only the file's current bytes are read or written (a page past the end of the file
/// would fault with SIGBUS).
public final class SegmentMapping: @unchecked Sendable {
    // @unchecked: a read-only mapping is never written; a writable one is written only under its
    // writer's lock (`WeightSegment.Writer.state`), and read by others only once a ring record
    // names the segment.

    /// The file's identity.
    public let device: UInt64
    public let inode: UInt64
    /// Bytes mapped, from the file's start.
    public let length: Int
    /// Whether `copy` may write through it.
    let isWritable: Bool
    fileprivate let base: UnsafeMutableRawPointer

    /// Maps `length` bytes of the file open at `descriptor`: read-only, or read and write with
    /// its pages populated; `nil` when it cannot be mapped.
    init?(_ descriptor: FileDescriptor, length: Int, status: Syscalls.FileStatus, writable: Bool) throws(Errno) {
        guard length > 0 else { return nil }
        let mapped = writable
            ? Syscalls.map(descriptor, length: length, populate: true)
            : Syscalls.mapReadOnly(descriptor, length: length).map { UnsafeMutableRawPointer(mutating: $0) }
        switch mapped {
        case .success(let base): self.base = base
        case .failure(let error): throw error
        }
        self.length = length
        isWritable = writable
        device = status.device
        inode = status.inode
    }

    deinit {
        Syscalls.unmap(base, length: length)
    }

    /// Copies `bytes` to byte `offset` of the file.
    ///
    /// - Precondition: The mapping is writable, and they lie within it.
    func copy(_ bytes: UnsafeRawBufferPointer, to offset: Int) {
        precondition(isWritable && offset >= 0 && bytes.count <= length - offset,
                     "\(bytes.count) bytes at \(offset) outside a \(length)-byte \(isWritable ? "" : "read-only ")mapping")
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        (base + offset).copyMemory(from: source, byteCount: bytes.count)
    }
}
