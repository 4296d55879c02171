import Atomics
import SystemPackage
internal import RingboardSystem

/// One record as the consumer sees it.
public struct RingRecord {
    /// The record's type.
    public var type: UInt16
    /// The producer's sixteen bits.
    public var flags: UInt16
    /// Its position in the ring: bytes claimed before it.
    public var position: Int64
    /// The payload, valid only during the call that delivers the record. A record read from a
    /// spill segment is handed out where it lies in the segment file: its payload need not be
    /// aligned (read it with `loadUnaligned`).
    ///
    /// - Warning: Do not keep the pointer after the handler returns: the consumer zeroes and
    ///   reuses the memory once the record is committed.
    public var payload: UnsafeRawBufferPointer
}

/// The consumer side of one ring file.
///
/// `poll` delivers committed records in order from the read position; `commit` hands the space
/// back to the producer (zeroing it) and stores, together with the new position, up to
/// `RingReader.maximumCheckpointLength` bytes of the consumer's own state, so a consumer killed
/// and restarted resumes exactly where its last commit left it. Everything read from the file is
/// checked before use: a producer cannot make the consumer read outside the mapping.
///
/// - Warning: Not thread-safe; one consumer thread per ring.
public final class RingReader {
    /// The ring file.
    public let path: String
    let mapping: RingMapping
    /// The producer's process id.
    public let producerID: Int32
    /// The ring's layout version (`RingLayout.readableVersions`).
    let version: UInt32
    private let producerStartTime: UInt64
    /// The next record `poll` delivers.
    public private(set) var readPosition: Int64
    /// The position of the last commit; the producer may reuse everything before it.
    public private(set) var committedPosition: Int64
    private var checkpointGeneration: Int64
    /// The consumer state stored by the last commit (empty for a new ring).
    public private(set) var checkpoint: [UInt8]
    /// Records delivered by this reader.
    public private(set) var recordsRead: Int64 = 0
    /// Claims the producer made but never completed, skipped after it died.
    public private(set) var tornClaimsSkipped = 0
    /// Spill segments delivered and not yet committed: removed once a commit passes `position`.
    private var deliveredSegments: [(position: Int64, index: Int64, path: String)] = []

    /// The most consumer state one commit stores.
    public static let maximumCheckpointLength = RingLayout.checkpointCapacity

    /// Opens a ring file for consuming, after checking that this user owns it, that nobody else
    /// can write it, and that its header is one this version reads.
    ///
    /// - Parameter path: The ring file.
    /// - Throws: `RingError.notOwned`, `.invalidHeader` or `.systemCall`.
    public init(path: String) throws(RingError) {
        self.path = path
        let descriptor: FileDescriptor
        do {
            descriptor = try FileDescriptor.open(FilePath(path), .readWrite, options: [.noFollow, .closeOnExec, .nonBlocking])
        } catch {
            throw .systemCall("open", path: path, error as? Errno ?? .ioError)
        }
        let status: Syscalls.FileStatus
        switch Syscalls.status(descriptor) {
        case .success(let value): status = value
        case .failure(let error):
            try? descriptor.close()
            throw .systemCall("fstat", path: path, error)
        }
        func refuse(_ error: RingError) -> RingError {
            try? descriptor.close()
            return error
        }
        guard status.isRegular else { throw refuse(.notOwned(path: path, reason: "not a regular file")) }
        if let problem = status.ownershipProblem { throw refuse(.notOwned(path: path, reason: problem)) }
        guard status.size > Int64(RingLayout.headerSize) else {
            throw refuse(.invalidHeader(path: path, reason: "\(status.size) bytes is smaller than a ring"))
        }
        if let problem = RingLayout.fileSizeProblem(status.size) { throw refuse(.invalidHeader(path: path, reason: problem)) }
        let capacity = Int(status.size) - RingLayout.headerSize
        let mapping = try RingMapping(descriptor: descriptor, path: path, capacity: capacity, populate: false)
        guard mapping.loadHeader(RingLayout.magicOffset, as: UInt64.self) == RingLayout.magic else {
            throw .invalidHeader(path: path, reason: "bad magic")
        }
        let version = mapping.loadHeader(RingLayout.versionOffset, as: UInt32.self)
        guard RingLayout.readableVersions.contains(version) else {
            throw .invalidHeader(path: path, reason: "layout version \(version), this build reads \(RingLayout.readableVersions)")
        }
        if let problem = RingLayout.sizesProblem(
            capacityField: mapping.loadHeader(RingLayout.capacityOffset, as: UInt64.self),
            headerSizeField: mapping.loadHeader(RingLayout.headerSizeOffset, as: UInt32.self), fileSize: status.size) {
            throw .invalidHeader(path: path, reason: problem)
        }
        self.mapping = mapping
        self.version = version
        self.producerID = Int32(truncatingIfNeeded: mapping.loadHeader(RingLayout.producerIDOffset, as: Int64.self))
        self.producerStartTime = mapping.loadHeader(RingLayout.producerStartTimeOffset, as: UInt64.self)

        // Resume from the newest valid checkpoint. A consumer killed between writing a checkpoint
        // and moving head left head behind it: finish that commit now.
        var head = mapping.head.load(ordering: .acquiring)
        let tail = mapping.tail.load(ordering: .acquiring)
        let (generation, position, state) = RingReader.latestCheckpoint(mapping)
        // Every position a producer or a consumer stores is a record boundary, 8-byte aligned;
        // anything else (a damaged or forged header) would have the reader index between records.
        if let problem = RingLayout.positionsProblem(head: head, tail: tail, capacity: capacity) {
            throw .invalidHeader(path: path, reason: problem)
        }
        // Each commit numbers its checkpoint one past the last: the largest has no successor.
        guard generation < Int64.max else {
            throw .invalidHeader(path: path, reason: "checkpoint generation \(generation) leaves no room for another commit")
        }
        guard generation == 0 || position % Int64(RingLayout.recordAlignment) == 0 else {
            throw .invalidHeader(path: path, reason: "checkpoint \(position) (head \(head), tail \(tail)) is not a record boundary")
        }
        if generation > 0 {
            guard position >= head, position <= tail, position - head <= Int64(capacity) else {
                throw .invalidHeader(path: path, reason: "checkpoint position \(position) outside head \(head) … tail \(tail)")
            }
            if position > head {
                mapping.zero(from: head, to: position)
                mapping.head.store(position, ordering: .releasing)
                head = position
            }
        }
        self.readPosition = head
        self.committedPosition = head
        self.checkpointGeneration = generation
        self.checkpoint = state
    }

    /// Delivers committed records in order, at most `limit` of them, stopping at the first record
    /// still being written.
    ///
    /// - Parameters:
    ///   - limit: The most records to deliver.
    ///   - handler: Called with each record.
    /// - Returns: The number of records delivered.
    /// - Throws: `RingError.corruptRecord` when a record breaks the layout; the read position
    ///   stays at that record.
    @discardableResult
    public func poll(limit: Int = .max, _ handler: (RingRecord) -> Void) throws(RingError) -> Int {
        // acquiring: pairs with the producer's claim; bounds what may be read.
        let tail = mapping.tail.load(ordering: .acquiring)
        guard tail >= readPosition, tail - committedPosition <= Int64(mapping.capacity) else {
            throw .corruptRecord(path: path, position: readPosition, reason: "tail \(tail) is outside the ring")
        }
        guard tail % Int64(RingLayout.recordAlignment) == 0 else {
            throw .corruptRecord(path: path, position: readPosition, reason: "tail \(tail) is not a record boundary")
        }
        var delivered = 0
        var position = readPosition
        defer {
            readPosition = position
            recordsRead += Int64(delivered)
        }
        while delivered < limit && position < tail {
            let index = Int(position) & mapping.mask
            // acquiring: pairs with the releasing store of length in RingWriter.tryClaim.
            let length = Int(mapping.recordLength(at: index).load(ordering: .acquiring))
            if length <= 0 { break }
            let aligned = RingLayout.aligned(length)
            guard length >= RingLayout.recordHeaderSize, aligned <= mapping.capacity - index,
                  Int64(aligned) <= tail - position
            else { throw .corruptRecord(path: path, position: position, reason: "length \(length) does not fit") }
            let (type, flags) = mapping.recordType(at: index)
            if type == RingRecordType.padding {
                guard index + aligned == mapping.capacity else {
                    throw .corruptRecord(path: path, position: position, reason: "padding that does not reach the end")
                }
            } else if type == RingRecordType.spillMarker {
                // Layout 3 markers add the segment's length; earlier segments end with their files.
                guard length == RingLayout.recordHeaderSize + 24 || (version < 3 && length == RingLayout.recordHeaderSize + 16) else {
                    throw .corruptRecord(path: path, position: position, reason: "spill marker of \(length) bytes")
                }
                let (segment, count, bytes) = mapping.withData(at: index + RingLayout.recordHeaderSize, count: length - RingLayout.recordHeaderSize) { payload in
                    (Int64(littleEndian: payload.loadUnaligned(as: Int64.self)),
                     Int64(littleEndian: payload.loadUnaligned(fromByteOffset: 8, as: Int64.self)),
                     payload.count == 24 ? Int64(littleEndian: payload.loadUnaligned(fromByteOffset: 16, as: Int64.self)) : nil)
                }
                if let bytes, bytes < 0 {
                    throw .corruptRecord(path: path, position: position, reason: "spill segment \(segment) of \(bytes) bytes")
                }
                let segmentPath = SpillSegment.path(ring: path, index: segment)
                let read = try deliverSegment(segmentPath, position: position, length: bytes, handler)
                guard read == count else {
                    throw .corruptRecord(path: path, position: position, reason: "spill segment \(segment) holds \(read) of \(count) records")
                }
                delivered += Int(read)
                deliveredSegments.append((position + Int64(aligned), segment, segmentPath))
            } else {
                guard type >= RingRecordType.firstUser else {
                    throw .corruptRecord(path: path, position: position, reason: "reserved record type \(type)")
                }
                mapping.withData(at: index + RingLayout.recordHeaderSize, count: length - RingLayout.recordHeaderSize) { payload in
                    handler(RingRecord(type: type, flags: flags, position: position, payload: UnsafeRawBufferPointer(payload)))
                }
                delivered += 1
            }
            position += Int64(aligned)
        }
        return delivered
    }

    /// Hands the space of every record read so far (or up to `position`) back to the producer and
    /// stores `checkpoint` with that position. Records before it are never delivered again, even
    /// to a consumer that opens the ring after this one was killed.
    ///
    /// The checkpoint goes to the older of two slots before head moves, so a crash at any point
    /// leaves either the previous commit or this one complete.
    ///
    /// - Parameters:
    ///   - position: Where to commit to: a record boundary between the last commit and the read
    ///     position; `nil` for the read position.
    ///   - checkpoint: The consumer's state as of `position`.
    /// - Throws: `RingError.checkpointTooLarge` for more than `maximumCheckpointLength` bytes.
    public func commit(through position: Int64? = nil, checkpoint state: [UInt8] = []) throws(RingError) {
        let target = position ?? readPosition
        precondition(target >= committedPosition && target <= readPosition, "commit position outside what was read")
        guard state.count <= RingReader.maximumCheckpointLength else {
            throw .checkpointTooLarge(length: state.count, maximum: RingReader.maximumCheckpointLength)
        }
        let generation = checkpointGeneration + 1
        mapping.withCheckpointSlot(Int(generation & 1)) { slot in
            slot.storeBytes(of: Int64(0).littleEndian, toByteOffset: 0, as: Int64.self)  // invalid while written
            slot.storeBytes(of: target.littleEndian, toByteOffset: 8, as: Int64.self)
            slot.storeBytes(of: UInt32(state.count).littleEndian, toByteOffset: 16, as: UInt32.self)
            slot.storeBytes(of: RingReader.checksum(state, position: target).littleEndian, toByteOffset: 20, as: UInt32.self)
            state.withUnsafeBytes { bytes in
                UnsafeMutableRawBufferPointer(rebasing: slot[RingLayout.checkpointHeaderSize...]).copyMemory(from: bytes)
            }
            slot.storeBytes(of: generation.littleEndian, toByteOffset: 0, as: Int64.self)
        }
        mapping.zero(from: committedPosition, to: target)
        // Releases the zeroed bytes to the acquiring load of head in RingWriter.tryClaim, and
        // (sequentially consistent) forms the Dekker pair with a blocked producer's space
        // doorbell: either it sees the new head, or we see its doorbell and wake it.
        mapping.head.store(target, ordering: .sequentiallyConsistent)
        mapping.wakeWaitingProducers()
        // Spill segments whose records are now committed: noted first, then removed, so a crash
        // in between never delivers them again. The files of the last `SpillSegment.spareCount`
        // stay, for the producer to reuse (renamed); a segment's file goes once that many later
        // ones are committed too, unless the producer took it first (then there is nothing to
        // remove). No segment below "spill committed" is read again, so neither a name the
        // producer reuses nor one removed here is ever a live segment's.
        let done = deliveredSegments.filter { $0.position <= target }
        if let highest = done.map(\.index).max() {
            // releasing: pairs with the acquiring load of spill committed in RingWriter's
            // reuseOrMakeSegment: this consumer's reads of those segments come before the
            // producer writes over them.
            mapping.spillCommitted.store(max(mapping.spillCommitted.load(ordering: .relaxed), highest + 1), ordering: .releasing)
            for segment in done where segment.index >= SpillSegment.spareCount {
                _ = Syscalls.unlink(SpillSegment.path(ring: path, index: segment.index - SpillSegment.spareCount))
            }
            deliveredSegments.removeAll { $0.position <= target }
        }
        mapping.consumed.store(recordsRead, ordering: .relaxed)
        committedPosition = target
        checkpointGeneration = generation
        checkpoint = state
    }

    /// One past the highest spill segment delivered so far (or committed by an earlier consumer):
    /// with `readPosition`, what a consumer keeps in its own checkpoint to `skip` back to.
    public var spillSegmentsDelivered: Int64 {
        max(mapping.spillCommitted.load(ordering: .acquiring), (deliveredSegments.map(\.index).max() ?? -1) + 1)
    }

    /// Moves the read position forward to `position` without delivering the records before it,
    /// for a consumer whose own checkpoint is ahead of the ring's (it saved its state and was
    /// killed before committing). Spill segments below `spillSegments` that no marker in the ring
    /// names count as delivered too. A later `commit` removes them as usual.
    ///
    /// - Parameters:
    ///   - position: A record boundary at or after the read position, up to the tail.
    ///   - spillSegments: `spillSegmentsDelivered` as the checkpoint saved it.
    /// - Returns: The number of records skipped.
    /// - Throws: `RingError.corruptRecord` when `position` is not a record boundary the ring
    ///   reaches, or a record on the way breaks the layout.
    @discardableResult
    public func skip(to position: Int64, spillSegments: Int64) throws(RingError) -> Int {
        var skipped = 0
        while readPosition < position {
            let before = readPosition
            skipped += try poll(limit: 1) { _ in }
            guard readPosition > before, readPosition <= position else {
                throw .corruptRecord(path: path, position: readPosition, reason: "checkpointed position \(position) is not a record boundary here")
            }
        }
        let committed = mapping.spillCommitted.load(ordering: .acquiring)
        let delivered = Set(deliveredSegments.map(\.index))
        for index in unmarkedSegmentIndexes() where index >= committed && index < spillSegments && !delivered.contains(index) {
            deliveredSegments.append((readPosition, index, SpillSegment.path(ring: path, index: index)))
        }
        return skipped
    }

    /// Whether the producer process still runs (same pid and start time).
    public var producerIsAlive: Bool {
        guard producerStartTime != 0 else { return Syscalls.processExists(producerID) }
        return Syscalls.processStartTime(producerID) == producerStartTime
    }

    /// Whether the producer said it is done (`RingWriter.close()`).
    public var producerClosed: Bool {
        mapping.producerState.load(ordering: .acquiring) == 1
    }

    /// Whether every claimed byte has been read.
    public var isDrained: Bool {
        readPosition >= mapping.tail.load(ordering: .acquiring)
    }

    /// Bytes claimed by the producer but not yet read.
    public var lag: Int64 {
        // Saturating: the tail is the producer's word, whatever a damaged file holds.
        let (difference, overflow) = mapping.tail.load(ordering: .acquiring).subtractingReportingOverflow(readPosition)
        return overflow ? .max : max(difference, 0)
    }

    /// Records the producer counted as dropped.
    public var droppedCount: Int64 { mapping.dropped.load(ordering: .relaxed) }

    /// Skips the claim at the read position that a dead producer never completed: a record whose
    /// length is still negative (its size is known) or still zero (then the next record, if any,
    /// is the first nonzero length word after it, since free space is always zeroed).
    ///
    /// - Precondition: The producer is dead (`producerIsAlive` is false); a live producer may
    ///   still be writing that record.
    /// - Returns: Whether a torn claim was skipped.
    public func skipTornClaim() -> Bool {
        let tail = mapping.tail.load(ordering: .acquiring)
        guard readPosition < tail, tail % Int64(RingLayout.recordAlignment) == 0 else { return false }
        let index = Int(readPosition) & mapping.mask
        let length = Int(mapping.recordLength(at: index).load(ordering: .acquiring))
        guard length <= 0 else { return false }
        var next = readPosition + Int64(RingLayout.recordAlignment)
        if length < 0, RingLayout.aligned(-length) <= mapping.capacity - index {
            next = readPosition + min(Int64(RingLayout.aligned(-length)), tail - readPosition)
        } else {
            while next < tail && mapping.recordLength(at: Int(next) & mapping.mask).load(ordering: .acquiring) == 0 {
                next += Int64(RingLayout.recordAlignment)
            }
        }
        readPosition = min(next, tail)
        tornClaimsSkipped += 1
        return true
    }

    /// Delivers the records of the oldest spill segment the producer never ended with a marker
    /// (it died, or closed while the ring was full); call again while `hasUnmarkedSpill`. Call
    /// once the ring is drained and the producer is gone or closed: those segments hold its last
    /// records, after everything in the ring.
    ///
    /// - Parameter handler: Called with each record.
    /// - Returns: The number of records delivered.
    /// - Throws: `RingError.spill` for a damaged segment.
    @discardableResult
    public func pollUnmarkedSpill(_ handler: (RingRecord) -> Void) throws(RingError) -> Int {
        let committed = mapping.spillCommitted.load(ordering: .acquiring)
        let delivered = Set(deliveredSegments.map(\.index))
        var count = 0
        // One segment per call, so that the consumer takes the rings' in turn.
        for index in unmarkedSegmentIndexes() where index >= committed && !delivered.contains(index) {
            let segmentPath = SpillSegment.path(ring: path, index: index)
            // Layout 3: the segment the producer was writing is allocated beyond its records, and
            // the header says how much of it they fill; the header names it before its file is
            // made. Segments before it were sealed: cut to their records, read to their end.
            var length: Int64?
            if version >= 3 {
                // Index + 1, 0 for none; a header of any other value (a damaged or crafted
                // file) names none either.
                let open = max(mapping.openSpill.load(ordering: .acquiring), 0) - 1
                if index == open {
                    length = mapping.openSpillSize.load(ordering: .acquiring)
                } else if index > open {
                    length = 0  // not named yet: nothing in it was ever appended
                }
            }
            count += Int(try deliverSegment(segmentPath, position: readPosition, length: length, handler))
            deliveredSegments.append((readPosition, index, segmentPath))
            break
        }
        recordsRead += Int64(count)
        return count
    }

    /// Whether spill segments without a marker are waiting (see `pollUnmarkedSpill`).
    public var hasUnmarkedSpill: Bool {
        let committed = mapping.spillCommitted.load(ordering: .acquiring)
        let delivered = Set(deliveredSegments.map(\.index))
        return unmarkedSegmentIndexes().contains { $0 >= committed && !delivered.contains($0) }
    }

    /// Removes every spill segment file of this ring (when it is retired).
    func removeSpillFiles() {
        for index in unmarkedSegmentIndexes() { _ = Syscalls.unlink(SpillSegment.path(ring: path, index: index)) }
    }

    /// Indexes of this ring's spill segment files, ascending.
    private func unmarkedSegmentIndexes() -> [Int64] {
        let prefix = Paths.lastComponent(of: path) + ".spill."
        let names = (try? DirectoryListing.names(in: Paths.directory(of: path))) ?? []
        return names.compactMap { name in name.hasPrefix(prefix) ? Int64(name.dropFirst(prefix.count)) : nil }.sorted()
    }

    private func deliverSegment(
        _ segmentPath: String, position: Int64, length: Int64?, _ handler: (RingRecord) -> Void
    ) throws(RingError) -> Int64 {
        // Found by the handler, and reported once the segment is read. A class's property, not a
        // local variable: the handler capturing a variable costs an exclusivity check per record.
        final class BadType { var type: UInt16? }
        let found = BadType()
        let maximumRecordLength = RingLayout.maximumRecordLength(capacity: mapping.capacity)
        func deliver(_ type: UInt16, _ flags: UInt16, _ payload: UnsafeRawBufferPointer) {
            guard type >= RingRecordType.firstUser else {
                found.type = type
                return
            }
            handler(RingRecord(type: type, flags: flags, position: position, payload: payload))
        }
        // Layout 3 segments hold stored blocks only: read in place. Earlier ones may be compressed.
        let read = version >= 3
            ? try SpillSegment.readStored(path: segmentPath, maximumRecordLength: maximumRecordLength, length: length, deliver)
            : try SpillSegment.read(path: segmentPath, maximumRecordLength: maximumRecordLength, length: length, deliver)
        if let badType = found.type {
            throw .spill(path: segmentPath, reason: "reserved record type \(badType)")
        }
        return read
    }

    private static func latestCheckpoint(_ mapping: RingMapping) -> (generation: Int64, position: Int64, state: [UInt8]) {
        var best: (Int64, Int64, [UInt8]) = (0, 0, [])
        for slot in 0..<2 {
            mapping.withCheckpointSlot(slot) { bytes in
                let generation = Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: 0, as: Int64.self))
                let position = Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: 8, as: Int64.self))
                let length = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 16, as: UInt32.self)))
                let sum = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 20, as: UInt32.self))
                guard generation > best.0, length <= RingLayout.checkpointCapacity else { return }
                let state = Array(bytes[RingLayout.checkpointHeaderSize..<(RingLayout.checkpointHeaderSize + length)])
                guard checksum(state, position: position) == sum else { return }
                best = (generation, position, state)
            }
        }
        return best
    }

    /// FNV-1a over the position and the state: enough to tell a torn checkpoint from a whole one.
    private static func checksum(_ state: [UInt8], position: Int64) -> UInt32 {
        var hash: UInt32 = 2_166_136_261
        withUnsafeBytes(of: position.littleEndian) { for byte in $0 { hash = (hash ^ UInt32(byte)) &* 16_777_619 } }
        for byte in state { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        return hash
    }
}
