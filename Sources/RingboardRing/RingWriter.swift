import Atomics
import Glibc
import Synchronization
import SystemPackage
internal import CRingboard
internal import RingboardSystem

/// The producer side of a ring: one per process, shared by its threads.
///
/// Appending claims space at the tail, writes the record, and publishes it with a release store of
/// its length. No lock, no system call and no allocation. The thread that owns the ring (the one
/// that appends, while no other does: `RingOwnership`) claims with a plain store of tail; once
/// several threads append, each claims with a compare-and-swap on tail, as Aeron's MPSC ring
/// buffer does (a CAS rather than a fetch-add, so that a full ring is seen before anything is
/// claimed and a claim never has to be undone).
///
/// - Warning: Safe to use from any number of threads of one process, but not from a signal
///   handler that interrupts an append. A record is visible to the consumer only once the call
///   that appends it has returned.
public final class RingWriter: @unchecked Sendable {
    /// How a ring is made.
    public struct Options: Sendable {
        /// Bytes in the data area: a power of two between 4 KiB and 16 GiB.
        public var capacity: Int = 16 << 20
        /// What `append` does when the ring is full.
        public var policy: RingPolicy = .spill
        /// Whether a thread may own the ring and claim without a compare-and-swap (where
        /// membarrier is available); off, every append takes the compare-and-swap path.
        var ownedAppends = true

        /// 16 MiB of data area, spilling when full.
        public init() {}

        /// Whether `capacity` is one a ring can have: a power of two between 4 KiB and 16 GiB.
        public static func isValid(capacity: Int) -> Bool {
            capacity >= RingLayout.minimumCapacity && capacity <= RingLayout.maximumCapacity && capacity & (capacity - 1) == 0
        }
    }

    /// What became of an append.
    public enum AppendResult: Equatable, Sendable {
        /// The record is in the ring; its position (bytes claimed before it).
        case appended(position: Int64)
        /// There was no room; nothing was written.
        case full
    }

    /// What became of an append under the ring's policy.
    public enum AppendOutcome: Equatable, Sendable {
        /// In the ring, at this position.
        case ring(position: Int64)
        /// In a spill segment, because the ring was full (`.spill`).
        case spilled
        /// Dropped and counted, because the ring was full (`.dropNewest`).
        case dropped
    }

    /// The ring file.
    public let path: String
    @usableFromInline let mapping: RingMapping
    /// Which thread may claim without a compare-and-swap.
    @usableFromInline let ownership: RingOwnership
    /// What `append` does on a full ring.
    public let policy: RingPolicy
    /// Whether appends currently go to a spill segment (so that later records follow earlier ones).
    @usableFromInline let spilling = Atomic<Bool>(false)
    /// The process's fork count (`CRingboard_forks`) and its value when this writer was
    /// made: a child of `fork()` shares the ring's mapping but not this writer's locks, spill
    /// state or thread ownership, so it appends nothing through it (`appendInForkedChild`).
    @usableFromInline let forkCount: UnsafePointer<UInt>
    @usableFromInline let madeAtForkCount: UInt
    /// The spill path's state: held by one thread at a time, the ring's owner inside its "in
    /// append" flag, or any thread under `spillLock` once the ring is shared (`withSpillState`).
    private let spill = SpillStorage()
    /// Guards `spill` once the ring is shared; never taken while a thread owns the ring.
    private let spillLock = Mutex(())
    /// Why spilling last failed, and whether that was said: read by any thread, so under a lock
    /// of its own (taken only when a spill fails or a spilled run ends).
    private let spillReport = Mutex(SpillReport())
    /// The consumer's position when a `waitForNextCommit` last timed out (-1: none did).
    private let stalledAt = Atomic<Int64>(-1)

    private struct SpillReport: Sendable {
        var lastError: RingError?
        /// Whether the current fall-back to waiting has been reported. Said again only after a
        /// spill has gone through whole since (a disk that stays full is reported once, not at
        /// every segment that fails on it).
        var reportedFallback = false
    }

    /// Where the spill state lives. Its exclusivity is not checked at run time: `withSpillState`
    /// is the only way in, and it lets one thread in at a time.
    private final class SpillStorage: @unchecked Sendable {
        @exclusivity(unchecked) var state = SpillState()
    }

    /// Sendable only as far as `withSpillState` makes it: nothing of it leaves that call.
    private struct SpillState: @unchecked Sendable {
        var segment: SpillSegment.Writer?
        /// Segments sealed (cut to their records) at `sealedSize` while the ring stayed full,
        /// waiting, in order, for their markers.
        var sealed: [(index: Int64, records: Int64, bytes: Int64)] = []
        /// The segment writers' memory, made at the first spill and kept.
        var buffers: SpillSegment.Buffers?
        var nextIndex: Int64 = 0
        /// Whether an append to the open segment failed.
        var segmentFailed = false
        /// The last `SpillSegment.spareCount` closed segments, oldest first, whose files (and
        /// mappings) are kept for reuse once the consumer has committed them: the same ones the
        /// consumer keeps once it has caught up.
        var kept: [SpillSegment.Writer] = []
        /// Head when the markers last found no room in the ring (-1: not since they last did).
        var headWithoutRoom: Int64 = -1

        /// Keeps a closed segment's file for reuse, letting the oldest kept one go.
        mutating func keep(_ segment: SpillSegment.Writer) {
            guard segment.isClosed else { return }
            kept.append(segment)
            if kept.count > SpillSegment.spareCount { kept.removeFirst() }
        }
    }
    /// The largest payload one record may carry.
    public let maximumPayloadLength: Int

    /// Creates this process's ring file in `directory` (prepared as `RingDirectory.prepare`
    /// requires) and maps it. The file appears under its final name only once its header is
    /// complete, so a consumer never sees a half-made ring.
    ///
    /// - Parameters:
    ///   - directory: The ring directory.
    ///   - options: The capacity.
    /// - Throws: `RingError` when the directory is unusable or the file cannot be made.
    public init(directory: String, options: Options = Options()) throws(RingError) {
        let capacity = options.capacity
        guard Options.isValid(capacity: capacity) else { throw .invalidCapacity(capacity) }
        try RingDirectory.prepare(directory)
        let pid = Syscalls.processID
        let startTime = Syscalls.processStartTime(pid) ?? 0
        // A process that closes its ring and opens another gets another name: a rename over
        // the closed one, which the consumer may still be draining, would put the new ring under
        // the old one's name (read as the old one, then removed with it).
        let serial = RingWriter.opened.wrappingAdd(1, ordering: .relaxed).oldValue
        let name = "\(pid)-\(startTime)\(serial == 0 ? "" : "-\(serial)")\(RingDirectory.ringSuffix)"
        let finalPath = directory + "/" + name
        let temporaryPath = directory + "/." + name + ".tmp"
        let descriptor: FileDescriptor
        do {
            descriptor = try FileDescriptor.open(
                FilePath(temporaryPath), .readWrite, options: [.create, .truncate, .noFollow, .closeOnExec],
                permissions: [.ownerReadWrite])
        } catch {
            throw .systemCall("open", path: temporaryPath, error as? Errno ?? .ioError)
        }
        // Sized, with every page allocated now: a page of a full tmpfs that a store first
        // touches raises SIGBUS in the producer (and the consumer zeroing it), where this fails
        // with ENOSPC.
        if case .failure(let error) = Syscalls.allocate(descriptor, length: RingLayout.headerSize + capacity) {
            try? descriptor.close()
            _ = Syscalls.unlink(temporaryPath)
            if error == .noSpace { throw .noRoomForRing(directory: directory, bytes: RingLayout.headerSize + capacity) }
            throw .systemCall("fallocate", path: temporaryPath, error)
        }
        let mapping: RingMapping
        do {
            mapping = try RingMapping(descriptor: descriptor, path: finalPath, capacity: capacity, populate: true)
        } catch {
            _ = Syscalls.unlink(temporaryPath)
            throw error
        }
        mapping.storeHeader(RingLayout.magic, at: RingLayout.magicOffset)
        mapping.storeHeader(RingLayout.version, at: RingLayout.versionOffset)
        mapping.storeHeader(UInt32(RingLayout.headerSize), at: RingLayout.headerSizeOffset)
        mapping.storeHeader(UInt64(capacity), at: RingLayout.capacityOffset)
        mapping.storeHeader(Int64(pid), at: RingLayout.producerIDOffset)
        mapping.storeHeader(startTime, at: RingLayout.producerStartTimeOffset)
        mapping.storeHeader(Syscalls.wallClockNanoseconds(), at: RingLayout.createdWallTimeOffset)
        mapping.heartbeat.store(Syscalls.wallClockNanoseconds(), ordering: .releasing)
        if case .failure(let error) = Syscalls.rename(temporaryPath, finalPath) {
            _ = Syscalls.unlink(temporaryPath)
            throw .systemCall("rename", path: finalPath, error)
        }
        mapping.storeHeader(options.policy.rawValue, at: RingLayout.policyOffset)
        self.path = finalPath
        self.mapping = mapping
        self.ownership = RingOwnership(enabled: options.ownedAppends && Membarrier.ownedAppendsAvailable && !RingWriter.ownedAppendsTurnedOff)
        CRingboard_watch_forks()
        self.forkCount = CRingboard_fork_count_address()
        self.madeAtForkCount = CRingboard_forks()
        self.policy = options.policy
        self.maximumPayloadLength = RingLayout.maximumRecordLength(capacity: capacity) - RingLayout.recordHeaderSize
    }

    /// Rings this process has opened.
    private static let opened = Atomic<Int>(0)

    /// `RINGBOARD_OWNED_APPENDS=off` in the environment: every thread claims with a
    /// compare-and-swap, owner or not (to compare the two paths on a machine).
    static var ownedAppendsTurnedOff: Bool {
        guard let value = getenv("RINGBOARD_OWNED_APPENDS") else { return false }
        return ["off", "0", "no", "false"].contains(String(cString: value).lowercased())
    }

    /// Claims room for a record of `length` payload bytes, lets `write` fill the payload in place
    /// (no copy), and publishes it.
    ///
    /// - Parameters:
    ///   - type: The record type, `RingRecordType.firstUser` or above.
    ///   - flags: Sixteen bits the ring carries for its user.
    ///   - length: The payload length, at most `maximumPayloadLength`.
    ///   - write: Fills the payload; it must write every byte and must not fail.
    /// - Returns: `.appended` with the record's position, or `.full` when the ring had no room.
    /// - Warning: Do not escape the pointer from the closure for later use.
    @inlinable @inline(__always)
    public func tryClaim(
        type: UInt16, flags: UInt16 = 0, length: Int, _ write: (UnsafeMutableRawBufferPointer) -> Void
    ) -> AppendResult {
        precondition(type >= RingRecordType.firstUser, "record types below \(RingRecordType.firstUser) belong to the ring")
        return tryClaimRing(type: type, flags: flags, length: length, write)
    }

    @inlinable @inline(__always)
    func tryClaimRing(
        type: UInt16, flags: UInt16, length: Int, _ write: (UnsafeMutableRawBufferPointer) -> Void
    ) -> AppendResult {
        precondition(length >= 0 && length <= maximumPayloadLength, "payload of \(length) bytes exceeds \(maximumPayloadLength)")
        // relaxed: only the owner itself stores its own word (a stale one is caught in tryClaimOwned).
        let word = ownership.owner.load(ordering: .relaxed)
        if RingOwnership.names(word, RingOwnership.currentThread),
           let result = tryClaimOwned(word, type: type, flags: flags, length: length, write) {
            return result
        }
        return tryClaimUnowned(type: type, flags: flags, length: length, write)
    }

    /// The owner's append: claims with plain stores, inside its generation's "in append" flag.
    /// `nil` when the ring was taken over since `word` was read.
    @inlinable @inline(__always)
    func tryClaimOwned(
        _ word: UInt, type: UInt16, flags: UInt16, length: Int, _ write: (UnsafeMutableRawBufferPointer) -> Void
    ) -> AppendResult? {
        let generation = Int(word & RingOwnership.generationMask)
        // relaxed, then a compiler-only barrier (no instruction on x86): the Dekker pair with the
        // taker's store of `taking`, membarrier and acquiring load of this flag in
        // RingOwnership.settle; the membarrier orders this store before the load below.
        ownership.inAppend[generation].store(true, ordering: .relaxed)
        Synchronization.atomicMemoryFence(ordering: .acquiringAndReleasing)
        guard ownership.owner.load(ordering: .relaxed) == word else {
            // Taken over: the taker waits for this flag only if it saw it set.
            ownership.inAppend[generation].store(false, ordering: .relaxed)
            return nil
        }
        let result = claim(owned: true, type: type, flags: flags, length: length, write)
        // releasing: pairs with the acquiring load of this flag in RingOwnership.settle; hands
        // this append's stores of tail to the thread that takes the ring over.
        ownership.inAppend[generation].store(false, ordering: .releasing)
        return result
    }

    /// The append of a thread that does not own the ring: settles ownership (claiming the ring,
    /// taking it over or finding it shared), then claims as the owner or with a compare-and-swap.
    @usableFromInline @inline(never)
    func tryClaimUnowned(
        type: UInt16, flags: UInt16, length: Int, _ write: (UnsafeMutableRawBufferPointer) -> Void
    ) -> AppendResult {
        let thread = RingOwnership.currentThread
        while true {
            let word = ownership.settle(thread: thread)
            if word == RingOwnership.shared { return claim(owned: false, type: type, flags: flags, length: length, write) }
            if let result = tryClaimOwned(word, type: type, flags: flags, length: length, write) { return result }
        }
    }

    /// Claims room, writes the record and publishes it: with plain stores of tail when `owned`
    /// (the caller is inside its "in append" flag), else with a compare-and-swap.
    @inlinable @inline(__always)
    func claim(
        owned: Bool, type: UInt16, flags: UInt16, length: Int, _ write: (UnsafeMutableRawBufferPointer) -> Void
    ) -> AppendResult {
        let recordLength = RingLayout.recordHeaderSize + length
        let aligned = RingLayout.aligned(recordLength)
        let capacity = mapping.capacity
        var tail: Int64
        var padding: Int
        while true {
            // relaxed: the owner is the only thread storing tail; a compare-and-swap checks it.
            tail = mapping.tail.load(ordering: .relaxed)
            let index = Int(tail) & mapping.mask
            let toEnd = capacity - index
            padding = aligned > toEnd ? toEnd : 0
            let required = Int64(padding + aligned)
            // relaxed: only a hint; a stale value makes us look at head itself below.
            var head = mapping.headCache.load(ordering: .relaxed)
            if tail + required - head > Int64(capacity) {
                // acquiring: pairs with the releasing store of head in RingReader.commit, so the
                // zeroed bytes behind head are seen zeroed before we write over them.
                head = mapping.head.load(ordering: .acquiring)
                if tail + required - head > Int64(capacity) { return .full }
                mapping.headCache.store(head, ordering: .relaxed)
            }
            if owned {
                // The claim, by the owner: no other thread moves tail while it owns the ring.
                // releasing: pairs with the acquiring load of tail in RingReader.poll (a bound
                // only: each record is published by its length below).
                mapping.tail.store(tail + required, ordering: .releasing)
                break
            }
            // The claim: whoever moves tail first owns [tail, tail + required). Sequentially
            // consistent (a locked instruction on x86 in any case): with the doorbell load below it
            // forms the Dekker pair that RingMapping.waitForRecords relies on.
            if mapping.tail.weakCompareExchange(
                expected: tail, desired: tail + required, successOrdering: .sequentiallyConsistent, failureOrdering: .relaxed
            ).exchanged { break }
        }
        var index = Int(tail) & mapping.mask
        if padding > 0 {
            mapping.storeRecordType(RingRecordType.padding, flags: 0, at: index)
            // releasing: pairs with the acquiring load of length in RingReader.poll.
            mapping.recordLength(at: index).store(Int32(padding), ordering: .releasing)
            index = 0
        }
        let lengthWord = mapping.recordLength(at: index)
        // Marks the claim as in progress: a producer that dies from here on leaves a record the
        // consumer can measure and skip.
        lengthWord.store(-Int32(recordLength), ordering: .relaxed)
        mapping.storeRecordType(type, flags: flags, at: index)
        mapping.withData(at: index + RingLayout.recordHeaderSize, count: length, write)
        // releasing: pairs with the acquiring load of length in RingReader.poll; publishes the
        // type and payload written above.
        lengthWord.store(Int32(recordLength), ordering: .releasing)
        let doorbell: UInt32
        if owned {
            // The owner's side of the doorbell pair: its store of tail is plain, so nothing here
            // keeps the CPU from loading the doorbell first. The consumer going to sleep stores
            // the doorbell, then runs membarrier on every registered producer (Membarrier
            // .fenceProducers in RingMapping.waitForRecords), then loads tail: either this load
            // comes after the barrier on this CPU and sees the doorbell, or the store of tail came
            // before it and the consumer sees the claim. The fence only keeps the compiler from
            // moving this load above the store (no instruction on x86).
            Synchronization.atomicMemoryFence(ordering: .acquiringAndReleasing)
            doorbell = mapping.doorbell.load(ordering: .relaxed)
        } else {
            // Pairs with the sequentially consistent doorbell store and tail load of a consumer going
            // to sleep: either it sees our claim, or we see its doorbell and wake it.
            doorbell = mapping.doorbell.load(ordering: .sequentiallyConsistent)
        }
        if doorbell != 0 { mapping.ringDoorbell() }
        return .appended(position: tail + Int64(padding))
    }

    /// Appends a record, applying the ring's policy when it is full: `.spill` writes it, in order,
    /// to a spill segment; `.block` waits (spinning, then sleeping briefly) until the consumer makes
    /// room; `.dropNewest` drops and counts it.
    ///
    /// The common case is one `tryClaim`: no lock, no system call, no allocation. Once a record has
    /// spilled, later records take the spill path too (under a lock) until the ring has room for
    /// the marker that ends the segment, so the consumer sees every thread's records in order.
    ///
    /// - Parameters:
    ///   - type: The record type, `RingRecordType.firstUser` or above.
    ///   - flags: Sixteen bits for the ring's user.
    ///   - length: The payload length, at most `maximumPayloadLength`.
    ///   - write: Fills the payload; called once, and it must write every byte.
    /// - Returns: Where the record went.
    /// - Warning: Do not escape the pointer from the closure for later use.
    @inlinable @inline(__always)
    public func append(
        type: UInt16, flags: UInt16 = 0, length: Int, _ write: (UnsafeMutableRawBufferPointer) -> Void
    ) -> AppendOutcome {
        guard forkCount.pointee == madeAtForkCount else { return appendInForkedChild() }
        if !spilling.load(ordering: .relaxed), case .appended(let position) = tryClaim(type: type, flags: flags, length: length, write) {
            return .ring(position: position)
        }
        return appendWhenFull(type: type, flags: flags, length: length, write)
    }

    /// Whether this process is a child of `fork()` made after this writer: it must not append
    /// through it (or wait on it, or close it), and makes a writer of its own.
    @inlinable public var isInheritedFromParent: Bool { forkCount.pointee != madeAtForkCount }

    /// An append in a child of `fork()` through its parent's writer: dropped, and said once. (Its
    /// claims would race the parent's, which stores tail plainly as the ring's owner thread, and
    /// the thread it forked from looks like that owner here.)
    @usableFromInline @inline(never)
    func appendInForkedChild() -> AppendOutcome {
        if !RingWriter.reportedForkedAppend.exchange(true, ordering: .relaxed) {
            let message = Array(("ringboard: \(path): a ring writer made before fork() is not used in the child process (pid \(getpid())); "
                                 + "its records are dropped: make the callback or SummaryWriter in the process that uses it\n").utf8)
            _ = message.withUnsafeBytes { Glibc.write(STDERR_FILENO, $0.baseAddress, $0.count) }
        }
        return .dropped
    }

    /// Whether a forked child's append was reported (once per process).
    private static let reportedForkedAppend = Atomic<Bool>(false)

    @usableFromInline @inline(never)
    func appendWhenFull(
        type: UInt16, flags: UInt16, length: Int, _ write: (UnsafeMutableRawBufferPointer) -> Void
    ) -> AppendOutcome {
        switch policy {
        case .dropNewest:
            countDropped()
            return .dropped
        case .block:
            return .ring(position: appendBlocking(type: type, flags: flags, length: length, write))
        case .spill:
            precondition(type >= RingRecordType.firstUser, "record types below \(RingRecordType.firstUser) belong to the ring")
            let spilled = withSpillState { state, owned in spillAppend(&state, owned: owned, type: type, flags: flags, length: length, write) }
            if let spilled { return spilled }
            return appendWhenSpillFails(type: type, flags: flags, length: length, write)
        }
    }

    /// `appendWhenFull` when the spill path cannot take the record: it waits for room instead.
    /// (Kept out of `appendWhenFull`, every spilled append's path: `endSpilledRun`'s optional
    /// deadline, a resilient type, cost that path a metadata lookup and a stack allocation.)
    @inline(never)
    private func appendWhenSpillFails(
        type: UInt16, flags: UInt16, length: Int, _ write: (UnsafeMutableRawBufferPointer) -> Void
    ) -> AppendOutcome {
        reportSpillFallback()
        // Keep the order: the open segment's marker must be in the ring before this record.
        _ = endSpilledRun(before: nil)
        return .ring(position: appendBlocking(type: type, flags: flags, length: length, write))
    }

    /// The spill path under the lock: ends the spilled run with its markers once the consumer
    /// made room, else appends to the open segment (sealing a full one, reusing or making the
    /// next). `nil` when the segment cannot take the record (`lastError` says why).
    ///
    /// - Parameter owned: Whether the caller owns the ring (inside its "in append" flag): ring
    ///   space is then claimed as the owner claims it, else with a compare-and-swap.
    @inline(__always)
    private func spillAppend(
        _ state: inout SpillState, owned: Bool, type: UInt16, flags: UInt16, length: Int, _ write: (UnsafeMutableRawBufferPointer) -> Void
    ) -> AppendOutcome? {
        if state.segment != nil || !state.sealed.isEmpty {
            // Markers wait for room, and only the consumer moving head makes room (tail only
            // grows): while head stays where it was when they last found none, they are not
            // tried again. relaxed: a hint only; the marker's claim loads head itself (acquiring).
            let head = mapping.head.load(ordering: .relaxed)
            if head != state.headWithoutRoom { state.headWithoutRoom = endSegmentIfRoom(&state, owned: owned) ? -1 : head }
        }
        // Sealed before a record would take it past `sealedSize` (with the frame's end):
        // the file is allocated in doublings up to that size, and one byte more would
        // double it again, faulting in pages that sealing cuts off at once.
        if let segment = state.segment, segment.records > 0,
           segment.bytes + Int64(SpillSegment.storedSize(payload: length) + SpillSegment.frameEndSize) > RingWriter.sealedSize {
            // A long spell of a full ring goes into segments of bounded size, so that the
            // consumer takes them one at a time, in turn with other rings.
            do {
                try segment.seal()
            } catch {
                noteSpillError(error)
                return nil
            }
            state.sealed.append((segment.index, segment.records, segment.bytes))
            state.keep(segment)
            state.segment = nil
        }
        if state.segment == nil {
            if state.sealed.isEmpty, case .appended(let position) = claim(owned: owned, type: type, flags: flags, length: length, write) {
                return .ring(position: position)
            }
            do {
                try openSegment(&state)
            } catch {
                noteSpillError(error)
                return nil
            }
        }
        let bytes: Int64
        do {
            bytes = try state.segment!.append(type: type, flags: flags, length: length, write)
        } catch {
            // The segment cannot take it (a full disk, say): the records already in it
            // keep their place; this one and later ones wait for room in the ring.
            noteSpillError(error)
            state.segmentFailed = true
            return nil
        }
        // releasing: pairs with the acquiring load of open spill size in
        // RingReader.pollUnmarkedSpill; the record's bytes are in the file before it counts them.
        mapping.openSpillSize.store(bytes, ordering: .releasing)
        // Only ever changed here, by one thread at a time: no read-modify-write needed.
        mapping.spilled.store(mapping.spilled.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
        return .spilled
    }

    /// Begins segment `nextIndex`: in the file of a closed segment the consumer is done with,
    /// renamed, when there is one, else in a new file.
    private func openSegment(_ state: inout SpillState) throws(RingError) {
        let index = state.nextIndex
        let segmentPath = SpillSegment.path(ring: path, index: index)
        // Named before the file exists (under this name), for a consumer reading it after this
        // process died: it reads as many bytes of it as the header says were written. releasing:
        // pairs with the acquiring loads of both in RingReader.pollUnmarkedSpill.
        mapping.openSpillSize.store(0, ordering: .releasing)
        mapping.openSpill.store(index + 1, ordering: .releasing)
        // acquiring: pairs with the releasing store of spill committed in RingReader.commit: the
        // consumer's reads of a segment below it are over before it is written again.
        let committed = mapping.spillCommitted.load(ordering: .acquiring)
        var segment: SpillSegment.Writer?
        while segment == nil, let oldest = state.kept.first, oldest.index < committed {
            state.kept.removeFirst()
            // The consumer removes a committed segment's file once `spareCount` later ones are
            // committed: one that far behind may be gone already, and is let go.
            guard oldest.index + SpillSegment.spareCount >= committed else { continue }
            if (try? oldest.reuse(path: segmentPath, index: index)) != nil { segment = oldest }
        }
        if segment == nil {
            let buffers = state.buffers ?? SpillSegment.Buffers(maximumRecordLength: maximumPayloadLength + SpillSegment.recordHeaderSize)
            state.buffers = buffers
            segment = try SpillSegment.Writer(path: segmentPath, index: index, buffers: buffers)
        }
        state.segment = segment
        state.nextIndex += 1
        state.segmentFailed = false
        spilling.store(true, ordering: .relaxed)
    }

    /// Says once, on standard error, that spilling failed and appends now wait for room: the
    /// trainer slows down rather than lose a record, and its user should know why.
    private func reportSpillFallback() {
        let error: RingError? = spillReport.locked { report in
            guard !report.reportedFallback, let error = report.lastError else { return nil }
            report.reportedFallback = true
            return error
        }
        if let error {
            let message = Array("ringboard: \(path): cannot spill (\(error)); waiting for the aggregator to make room in the ring instead\n".utf8)
            _ = message.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
        }
    }

    private func noteSpillError(_ error: RingError) {
        spillReport.locked { $0.lastError = error }
    }

    /// Runs `body` with the spill state, no other thread holding it: as the ring's owner, inside
    /// its "in append" flag (no lock and no locked instruction: a thread taking the ring over
    /// waits for the flag, in `RingOwnership.settle`), or under `spillLock` once the ring is
    /// shared. A thread that does not own the ring settles ownership first, so the two never
    /// overlap: the ring becomes shared only once its last owner is out of its last append, and
    /// after that nobody owns it.
    ///
    /// - Parameter body: Gets the state, and whether the caller owns the ring (see `spillAppend`).
    @inline(__always)
    private func withSpillState<R>(_ body: (inout SpillState, _ owned: Bool) -> R) -> R {
        let thread = RingOwnership.currentThread
        // relaxed: only the owner itself stores its own word (a stale one is caught below).
        var word = ownership.owner.load(ordering: .relaxed)
        while true {
            if RingOwnership.names(word, thread), let result = withOwnedSpillState(word, body) { return result }
            word = ownership.settle(thread: thread)
            if word == RingOwnership.shared {
                return spillLock.locked { _ in body(&spill.state, false) }
            }
        }
    }

    /// `body` run as the owner named by `word`, inside its generation's "in append" flag, as
    /// `tryClaimOwned` claims; `nil` when the ring was taken over since `word` was read. (The
    /// same steps as there, written out again: one generic helper for both cost a spilled
    /// append 2 ns more, measured.)
    @inline(__always)
    private func withOwnedSpillState<R>(_ word: UInt, _ body: (inout SpillState, Bool) -> R) -> R? {
        let generation = Int(word & RingOwnership.generationMask)
        // relaxed, then a compiler-only barrier: the Dekker pair with the taker's store of
        // `taking`, membarrier and acquiring load of this flag in RingOwnership.settle.
        ownership.inAppend[generation].store(true, ordering: .relaxed)
        Synchronization.atomicMemoryFence(ordering: .acquiringAndReleasing)
        guard ownership.owner.load(ordering: .relaxed) == word else {
            ownership.inAppend[generation].store(false, ordering: .relaxed)
            return nil
        }
        let result = body(&spill.state, true)
        // releasing: pairs with the acquiring load of this flag in RingOwnership.settle; hands
        // the spill state, and this thread's stores of tail, to the thread that takes over.
        ownership.inAppend[generation].store(false, ordering: .releasing)
        return result
    }

    /// Puts the markers of the sealed segments, then of the open one (ending it), into the ring,
    /// in order, as far as the ring has room for them.
    ///
    /// - Returns: Whether every marker is in (the ring takes records again).
    @discardableResult
    private func endSegmentIfRoom(_ state: inout SpillState, owned: Bool) -> Bool {
        while let first = state.sealed.first {
            guard mark(first.index, records: first.records, bytes: first.bytes, owned: owned) else { return false }
            state.sealed.removeFirst()
        }
        guard let segment = state.segment else {
            spilling.store(false, ordering: .relaxed)
            return true
        }
        guard mark(segment.index, records: segment.records, bytes: segment.bytes, owned: owned) else { return false }
        if (try? segment.finish()) != nil, !state.segmentFailed { state.keep(segment) }
        state.segment = nil
        if !state.segmentFailed { spillReport.locked { $0.reportedFallback = false } }
        spilling.store(false, ordering: .relaxed)
        return true
    }

    /// Puts every spill segment's marker into the ring, waiting (with a growing pause, up to
    /// 1 ms) for the consumer to make room for them.
    ///
    /// - Parameter deadline: When to give up; `nil` to wait as long as it takes.
    /// - Returns: Whether the spilled run ended (`false`: the deadline passed first).
    private func endSpilledRun(before deadline: ContinuousClock.Instant?) -> Bool {
        var attempt = 0
        while withSpillState({ state, owned in
            endSegmentIfRoom(&state, owned: owned)
            return state.segment != nil || !state.sealed.isEmpty
        }) {
            if let deadline, ContinuousClock.now >= deadline { return false }
            attempt += 1
            usleep(UInt32(min(1000, 1 << min(attempt, 10))))
        }
        return true
    }

    /// A marker record for segment `index`, if the ring has room for it.
    private func mark(_ index: Int64, records: Int64, bytes: Int64, owned: Bool) -> Bool {
        let marked = claim(owned: owned, type: RingRecordType.spillMarker, flags: 0, length: 24) { payload in
            payload.storeBytes(of: index.littleEndian, as: Int64.self)
            payload.storeBytes(of: records.littleEndian, toByteOffset: 8, as: Int64.self)
            payload.storeBytes(of: bytes.littleEndian, toByteOffset: 16, as: Int64.self)
        }
        if case .appended = marked { return true }
        return false
    }

    /// The most bytes a spill segment takes before it is sealed and the next one begun while the
    /// ring stays full (a record longer than that has a segment to itself). The consumer reads a segment whole: under `.mean` a rank's segment waits, queued,
    /// for the other ranks' hooks of the same steps, so a smaller segment keeps those queues in
    /// cache (4 MiB queued tens of thousands of hooks per rank).
    static let sealedSize: Int64 = 1 << 20

    /// Waits for room: spins briefly, then sleeps on the ring's space doorbell, which the
    /// consumer rings when it commits (with a 10 ms timeout, so a consumer that died cannot leave
    /// the producer asleep for good; it goes on waiting for room all the same).
    private func appendBlocking(
        type: UInt16, flags: UInt16, length: Int, _ write: (UnsafeMutableRawBufferPointer) -> Void
    ) -> Int64 {
        var attempt = 0
        while true {
            if case .appended(let position) = tryClaim(type: type, flags: flags, length: length, write) { return position }
            attempt += 1
            if attempt < 64 { continue }
            let needed = Int64(RingLayout.aligned(RingLayout.recordHeaderSize + length))
            mapping.waitForRoom(timeout: 10_000_000) {
                let tail = mapping.tail.load(ordering: .relaxed)
                let head = mapping.head.load(ordering: .sequentiallyConsistent)
                // Room for the record, and for padding at the wrap in the worst case.
                return tail - head + 2 * needed > Int64(mapping.capacity)
            }
        }
    }

    /// The error that made the spill path fall back to waiting, if any.
    public var lastSpillError: RingError? {
        spillReport.locked { $0.lastError }
    }

    /// Records spilled so far.
    public var spilledCount: Int64 { mapping.spilled.load(ordering: .relaxed) }

    /// Appends a record holding a copy of `payload`.
    ///
    /// - Parameters:
    ///   - type: The record type, `RingRecordType.firstUser` or above.
    ///   - flags: Sixteen bits for the ring's user.
    ///   - payload: The payload, at most `maximumPayloadLength` bytes.
    /// - Returns: `.appended` or `.full`.
    public func tryAppend(type: UInt16, flags: UInt16 = 0, _ payload: [UInt8]) -> AppendResult {
        payload.withUnsafeBytes { source in
            tryClaim(type: type, flags: flags, length: source.count) { destination in
                if let from = source.baseAddress, let to = destination.baseAddress {
                    to.copyMemory(from: from, byteCount: source.count)
                }
            }
        }
    }

    /// Counts a record the caller dropped because the ring was full.
    public func countDropped() {
        mapping.dropped.wrappingIncrement(ordering: .relaxed)
    }

    /// Records dropped so far.
    public var droppedCount: Int64 { mapping.dropped.load(ordering: .relaxed) }

    /// Tells the consumer this producer is done: once it has drained the ring, it may remove the
    /// file. Appending after `close()` is a programming error.
    /// An open spill segment is ended with its marker when the ring has room; otherwise the
    /// consumer reads it after the ring.
    public func close() {
        guard !isInheritedFromParent else { return }  // the parent's ring, not this process's
        withSpillState { state, owned in _ = endSegmentIfRoom(&state, owned: owned) }
        mapping.producerState.store(1, ordering: .releasing)
    }

    /// Waits until the consumer has committed every record appended so far, in the ring or
    /// spilled: a consumer commits a record only once what it produced is written, so then
    /// everything this producer sent is in its event files. A spilled run's segments are ended
    /// first (their markers go into the ring as soon as it has room).
    ///
    /// - Parameter timeout: How long to wait at most.
    /// - Returns: Whether everything was committed in time (`false`: no consumer, or a slow one).
    public func waitUntilCommitted(timeout: Duration) -> Bool {
        guard !isInheritedFromParent else { return false }
        let deadline = ContinuousClock.now + timeout
        guard endSpilledRun(before: deadline) else { return false }
        // acquiring: every claim before this call is in it (this thread's, or another's that
        // returned before this call began).
        let target = mapping.tail.load(ordering: .acquiring)
        return waitForHead(until: deadline) { $0 >= target }
    }

    /// Waits until the consumer's head satisfies `reached`, or `deadline` passes, sleeping on the
    /// space doorbell (10 ms at a time, so a consumer that died cannot leave this asleep).
    ///
    /// - Returns: Whether head reached it in time.
    private func waitForHead(until deadline: ContinuousClock.Instant, _ reached: (Int64) -> Bool) -> Bool {
        while true {
            // sequentially consistent, as the consumer's store of head in RingReader.commit.
            if reached(mapping.head.load(ordering: .sequentiallyConsistent)) { return true }
            let left = deadline - ContinuousClock.now
            guard left > .zero else { return false }
            mapping.waitForRoom(timeout: min(left, .milliseconds(10)).inNanoseconds) {
                !reached(mapping.head.load(ordering: .sequentiallyConsistent))
            }
        }
    }

    /// Waits until the consumer commits more of the ring than it had when this was called, or
    /// `timeout` passes.
    ///
    /// A consumer that let a wait time out (one stopped, or none) is not waited for again until
    /// it commits: later calls return `false` at once while it has not.
    ///
    /// - Parameter timeout: How long to wait at most.
    /// - Returns: Whether it committed in time; `false` at once when it had committed every
    ///   record appended so far, or has not committed since a wait timed out.
    public func waitForNextCommit(timeout: Duration) -> Bool {
        let deadline = ContinuousClock.now + timeout
        // sequentially consistent, as the consumer's store of head in RingReader.commit.
        let start = mapping.head.load(ordering: .sequentiallyConsistent)
        // acquiring: every claim before this call is in it.
        guard start < mapping.tail.load(ordering: .acquiring), stalledAt.load(ordering: .relaxed) != start else { return false }
        let committed = waitForHead(until: deadline) { $0 != start }
        if !committed { stalledAt.store(start, ordering: .relaxed) }
        return committed
    }

    /// Stamps the heartbeat with the current time (not needed for liveness, which the consumer
    /// checks by process id and start time; shown by `ringboard status`).
    public func beat() {
        mapping.heartbeat.store(Syscalls.wallClockNanoseconds(), ordering: .relaxed)
    }
}
