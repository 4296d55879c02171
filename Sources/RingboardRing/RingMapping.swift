import Atomics
import Glibc
import SystemPackage
internal import CRingboard
internal import RingboardSystem

/// The memory map of one ring file: the only type in this module that holds a pointer into it.
/// `RingWriter` and `RingReader` reach the shared words only through the named atomics and the
/// bounds-checked accessors here.
///
/// - Warning: The mapping lives as long as this object; nothing it lends out may outlive a call.
@usableFromInline
final class RingMapping: @unchecked Sendable {
    let path: String
    /// Bytes in the data area; a power of two.
    @usableFromInline let capacity: Int
    @usableFromInline let mask: Int
    @usableFromInline let base: UnsafeMutableRawPointer
    private let length: Int
    private let descriptor: FileDescriptor

    @usableFromInline let tail: UnsafeAtomic<Int64>
    @usableFromInline let headCache: UnsafeAtomic<Int64>
    @usableFromInline let head: UnsafeAtomic<Int64>
    @usableFromInline let doorbell: UnsafeAtomic<UInt32>
    let heartbeat: UnsafeAtomic<Int64>
    let spilled: UnsafeAtomic<Int64>
    let dropped: UnsafeAtomic<Int64>
    let consumed: UnsafeAtomic<Int64>
    let producerState: UnsafeAtomic<Int64>
    /// The highest spill segment index whose records were consumed and committed, plus one
    /// (0: none), so that a fresh file reads as "nothing committed".
    let spillCommitted: UnsafeAtomic<Int64>
    /// 1 while a `.block` producer sleeps waiting for room.
    let spaceDoorbell: UnsafeAtomic<UInt32>
    /// The spill segment being written, plus 1 (0: none), and the bytes of whole records in it.
    let openSpill: UnsafeAtomic<Int64>
    let openSpillSize: UnsafeAtomic<Int64>

    /// Maps `descriptor` (a file of `RingLayout.headerSize + capacity` bytes) and takes ownership
    /// of it: the descriptor is closed when the mapping goes.
    ///
    /// - Parameter populate: Fault every page in now. The producer does, so its hot path takes
    ///   no page fault on the first lap; the consumer does not, so finding a large ring does not
    ///   stall it (it faults in, a few pages at a time, only what it reads).
    init(descriptor: FileDescriptor, path: String, capacity: Int, populate: Bool) throws(RingError) {
        self.path = path
        self.capacity = capacity
        self.mask = capacity - 1
        self.length = RingLayout.headerSize + capacity
        self.descriptor = descriptor
        let base: UnsafeMutableRawPointer
        switch Syscalls.map(descriptor, length: length, populate: populate) {
        case .success(let address): base = address
        case .failure(let error):
            try? descriptor.close()
            throw .systemCall("mmap", path: path, error)
        }
        self.base = base
        func int64(_ offset: Int) -> UnsafeAtomic<Int64> {
            UnsafeAtomic(at: (base + offset).assumingMemoryBound(to: Int64.AtomicRepresentation.self))
        }
        tail = int64(RingLayout.tailOffset)
        headCache = int64(RingLayout.headCacheOffset)
        head = int64(RingLayout.headOffset)
        doorbell = UnsafeAtomic(at: (base + RingLayout.doorbellOffset).assumingMemoryBound(to: UInt32.AtomicRepresentation.self))
        heartbeat = int64(RingLayout.heartbeatOffset)
        spilled = int64(RingLayout.spilledOffset)
        dropped = int64(RingLayout.droppedOffset)
        consumed = int64(RingLayout.consumedOffset)
        producerState = int64(RingLayout.producerStateOffset)
        spillCommitted = int64(RingLayout.spillCommittedOffset)
        spaceDoorbell = UnsafeAtomic(at: (base + RingLayout.spaceDoorbellOffset).assumingMemoryBound(to: UInt32.AtomicRepresentation.self))
        openSpill = int64(RingLayout.openSpillOffset)
        openSpillSize = int64(RingLayout.openSpillSizeOffset)
    }

    deinit {
        Syscalls.unmap(base, length: length)
        try? descriptor.close()
    }

    // MARK: Header identity (written once, before the file is published under its name)

    func loadHeader<T: FixedWidthInteger>(_ offset: Int, as type: T.Type) -> T {
        precondition(offset >= 0 && offset + MemoryLayout<T>.size <= RingLayout.slotSize)
        return T(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    func storeHeader<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        precondition(offset >= 0 && offset + MemoryLayout<T>.size <= RingLayout.slotSize)
        base.storeBytes(of: value.littleEndian, toByteOffset: offset, as: T.self)
    }

    // MARK: Records in the data area

    /// The length word of the record at data index `index` (8-byte aligned).
    @inlinable @inline(__always)
    func recordLength(at index: Int) -> UnsafeAtomic<Int32> {
        precondition(index & 7 == 0 && index >= 0 && index + RingLayout.recordHeaderSize <= capacity)
        return UnsafeAtomic(at: (base + RingLayout.headerSize + index).assumingMemoryBound(to: Int32.AtomicRepresentation.self))
    }

    @inline(__always)
    func recordType(at index: Int) -> (type: UInt16, flags: UInt16) {
        precondition(index & 7 == 0 && index >= 0 && index + RingLayout.recordHeaderSize <= capacity)
        let at = base + RingLayout.headerSize + index
        return (at.load(fromByteOffset: RingLayout.typeOffset, as: UInt16.self),
                at.load(fromByteOffset: RingLayout.flagsOffset, as: UInt16.self))
    }

    @inlinable @inline(__always)
    func storeRecordType(_ type: UInt16, flags: UInt16, at index: Int) {
        precondition(index & 7 == 0 && index >= 0 && index + RingLayout.recordHeaderSize <= capacity)
        let at = base + RingLayout.headerSize + index
        at.storeBytes(of: type, toByteOffset: RingLayout.typeOffset, as: UInt16.self)
        at.storeBytes(of: flags, toByteOffset: RingLayout.flagsOffset, as: UInt16.self)
    }

    /// Lends the `count` bytes at data index `index`, which must lie inside the data area.
    ///
    /// - Warning: Do not escape the pointer from the closure for later use.
    @inlinable @inline(__always)
    func withData<R>(at index: Int, count: Int, _ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        precondition(index >= 0 && count >= 0 && index + count <= capacity)
        return try body(UnsafeMutableRawBufferPointer(start: base + RingLayout.headerSize + index, count: count))
    }

    /// Zeroes the data between two positions (the consumer's duty once records are taken, so
    /// that a claimed but unwritten slot always reads as length 0).
    func zero(from start: Int64, to end: Int64) {
        precondition(start <= end && end - start <= Int64(capacity))
        var position = start
        while position < end {
            let index = Int(position) & mask
            let count = min(Int(end - position), capacity - index)
            (base + RingLayout.headerSize + index).initializeMemory(as: UInt8.self, repeating: 0, count: count)
            position += Int64(count)
        }
    }

    // MARK: Doorbell

    /// Wakes a consumer sleeping on this ring's doorbell: the producer's slow path, taken only
    /// when the consumer marked itself asleep.
    @usableFromInline @inline(never)
    func ringDoorbell() {
        if doorbell.exchange(0, ordering: .sequentiallyConsistent) != 0 {
            _ = CRingboard_futex_wake((base + RingLayout.doorbellOffset).assumingMemoryBound(to: UInt32.self), 1)
        }
    }

    /// Sleeps until the consumer commits (making room) or `timeout` passes: the `.block` policy's
    /// wait. The flag is set before the caller looks for room again, and the consumer looks at it
    /// after moving head, so a commit in between is never missed for longer than the timeout.
    ///
    /// The first waiter to set the flag also wakes a consumer lingering on it (`linger`), so that
    /// what the producer waits for is read and committed at once; later waiters find it set and
    /// wake no one, so waiting threads do not wake each other in turn.
    func waitForRoom(timeout nanoseconds: Int64, stillFull: () -> Bool) {
        if spaceDoorbell.exchange(1, ordering: .sequentiallyConsistent) == 0 {
            _ = CRingboard_futex_wake((base + RingLayout.spaceDoorbellOffset).assumingMemoryBound(to: UInt32.self), Int32.max)
        }
        guard stillFull() else { return }
        _ = CRingboard_futex_wait((base + RingLayout.spaceDoorbellOffset).assumingMemoryBound(to: UInt32.self), 1, nanoseconds)
    }

    /// Wakes producers waiting for room (after the consumer moved head).
    func wakeWaitingProducers() {
        if spaceDoorbell.load(ordering: .sequentiallyConsistent) != 0,
           spaceDoorbell.exchange(0, ordering: .sequentiallyConsistent) != 0 {
            _ = CRingboard_futex_wake((base + RingLayout.spaceDoorbellOffset).assumingMemoryBound(to: UInt32.self), Int32.max)
        }
    }

    /// Sleeps until a producer of any of `mappings` appends, or `timeout` passes. Returns at once
    /// when a ring already has records past `positions` (the consumer's read positions).
    ///
    /// Each doorbell is set (sequentially consistent) before the ring's tail is looked at; a
    /// producer claims with a compare-and-swap (sequentially consistent) before it looks at the
    /// doorbell. So either the consumer sees the claim and stays awake, or the producer sees the
    /// doorbell and wakes it. A producer thread that owns its ring claims with a plain store and
    /// no fence (RingWriter.claim): for it, membarrier between the doorbell stores and the tail
    /// loads here puts a full barrier on the producer's CPU, with the same outcome. Where this
    /// process cannot run membarrier, such a producer may miss the doorbell: its record is not
    /// lost, and is seen when this wait times out.
    static func waitForRecords(_ mappings: [RingMapping], after positions: [Int64], timeout: Duration) {
        precondition(mappings.count == positions.count)
        guard !mappings.isEmpty else {
            sleep(timeout)
            return
        }
        for mapping in mappings { mapping.doorbell.store(1, ordering: .sequentiallyConsistent) }
        defer { for mapping in mappings { mapping.doorbell.store(0, ordering: .relaxed) } }
        // The slow side of the owners' asymmetric fence: pairs with the compiler-only fence
        // between the store of tail and the doorbell load in RingWriter.claim.
        Membarrier.fenceProducers()
        for (mapping, position) in zip(mappings, positions)
        where mapping.tail.load(ordering: .sequentiallyConsistent) > position {
            return
        }
        let nanoseconds = max(1, timeout.inNanoseconds)
        // futex_waitv takes at most 128 words: with more rings, the first 128 ring the doorbell
        // and the rest are seen on the next wake-up or timeout.
        let batch = mappings.prefix(128)
        var words: [UnsafeMutablePointer<UInt32>?] = batch.map { ($0.base + RingLayout.doorbellOffset).assumingMemoryBound(to: UInt32.self) }
        var expected = [UInt32](repeating: 1, count: batch.count)
        let status = CRingboard_futex_waitv(&words, &expected, UInt32(batch.count), nanoseconds)
        if status == -ENOSYS {
            // Kernels before 5.16: wait on the first ring's doorbell, briefly.
            _ = CRingboard_futex_wait(words[0]!, 1, min(nanoseconds, 10_000_000))
        }
    }

    /// Sleeps up to `timeout` while records gather in `mappings`. Appends do not end it (no
    /// doorbell is set, so producers append without a system call); a producer that starts
    /// waiting for room or for a commit does (`waitForRoom` wakes the space doorbell), and so
    /// does one already waiting when this begins.
    static func linger(_ mappings: [RingMapping], timeout: Duration) {
        let nanoseconds = max(1, timeout.inNanoseconds)
        guard !mappings.isEmpty else {
            sleep(timeout)
            return
        }
        // futex_waitv takes at most 128 words: a producer of a later ring waits out the linger.
        let batch = mappings.prefix(128)
        var words: [UnsafeMutablePointer<UInt32>?] = batch.map { ($0.base + RingLayout.spaceDoorbellOffset).assumingMemoryBound(to: UInt32.self) }
        var expected = [UInt32](repeating: 0, count: batch.count)
        if CRingboard_futex_waitv(&words, &expected, UInt32(batch.count), nanoseconds) == -ENOSYS {
            // Kernels before 5.16: a plain sleep, which a waiting producer cannot cut short.
            sleep(timeout)
        }
    }

    private static func sleep(_ duration: Duration) {
        var word: UInt32 = 0
        let nanoseconds = max(1, duration.inNanoseconds)
        _ = CRingboard_futex_wait(&word, 0, nanoseconds)
    }

    // MARK: Checkpoint slots

    /// Lends checkpoint slot 0 or 1.
    ///
    /// - Warning: Do not escape the pointer from the closure for later use.
    func withCheckpointSlot<R>(_ slot: Int, _ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        precondition(slot == 0 || slot == 1)
        let start = base + RingLayout.checkpointOffset + slot * RingLayout.checkpointSlotSize
        return try body(UnsafeMutableRawBufferPointer(start: start, count: RingLayout.checkpointSlotSize))
    }
}
