/// The layout of a ring file, version 3: one 4 KiB header page, then the data area.
///
/// ```
/// 0     identity (written once by the producer before the file gets its final name)
/// 128   tail            i64  bytes ever claimed by the producer            (producer writes)
/// 256   head cache      i64  the producer's last look at head              (producer writes)
/// 384   head            i64  bytes consumed and zeroed: the checkpoint     (consumer writes)
/// 512   doorbell        u32  futex word, 1 while the consumer sleeps       (both)
/// 640   heartbeat       i64  producer wall clock, ns since the Unix epoch  (producer writes)
/// 768   spilled         i64  records that went to the spill file           (producer writes)
/// 896   dropped         i64  records dropped on a full ring                (producer writes)
/// 1024  consumed        i64  records the consumer has taken                (consumer writes)
/// 1152  producer state  i64  0 open, 1 closed cleanly                      (producer writes)
/// 1280  spill committed i64  highest spill segment index consumed, plus 1  (consumer writes)
/// 1408  space doorbell  u32  futex word, 1 while a producer waits for room  (both)
/// 1536  open spill      i64  index of the spill segment being written, plus 1 (0: none)
///                                                                          (producer writes)
/// 1664  open spill size i64  bytes of whole records in that segment so far (producer writes)
/// 2048  checkpoints     2 × 1 KiB, double-buffered consumer state, see RingReader.commit
/// 4096  data            capacity bytes, a power of two
/// ```
///
/// Every shared counter has a 128-byte slot of its own, as Aeron pads its ring descriptor, so
/// the producer and the consumer never write the same cache line pair. Records are 8-byte
/// aligned: `i32 length` (header included; negative while being written, 0 where nothing has
/// been claimed), `u16 type`, `u16 flags`, then the payload.
///
/// Any change to these numbers bumps `version`.
@usableFromInline
enum RingLayout {
    /// `RBRING01` as a little-endian u64.
    @usableFromInline static let magic: UInt64 = 0x3130_474E_4952_4252
    /// 3: the segment being written is a file mapped in the producer, allocated ahead of its
    /// records, so a producer that dies leaves it longer than what it wrote: "open spill" and
    /// "open spill size" say how much of it to read. 2: spill segments may hold several LZ4
    /// frames, some of uncompressed blocks (`SpillSegment`). Version 1 wrote one compressed frame
    /// per segment. Otherwise their headers and data areas are the same.
    @usableFromInline static let version: UInt32 = 3
    /// The versions this build reads: the segments of versions 1 and 2 end where their files do.
    static let readableVersions: ClosedRange<UInt32> = 1...3

    // Identity, at the start of the header.
    @usableFromInline static let magicOffset = 0  // u64
    @usableFromInline static let versionOffset = 8  // u32
    @usableFromInline static let headerSizeOffset = 12  // u32
    @usableFromInline static let capacityOffset = 16  // u64
    @usableFromInline static let producerIDOffset = 24  // i64: the producer's pid
    @usableFromInline static let producerStartTimeOffset = 32  // u64: its start time, clock ticks after boot (/proc/<pid>/stat field 22)
    @usableFromInline static let createdWallTimeOffset = 40  // i64: ns since the Unix epoch
    @usableFromInline static let policyOffset = 48  // u32: RingPolicy raw value

    // Shared counters, one 128-byte slot each.
    @usableFromInline static let slotSize = 128
    @usableFromInline static let tailOffset = 128
    @usableFromInline static let headCacheOffset = 256
    @usableFromInline static let headOffset = 384
    @usableFromInline static let doorbellOffset = 512
    @usableFromInline static let heartbeatOffset = 640
    @usableFromInline static let spilledOffset = 768
    @usableFromInline static let droppedOffset = 896
    @usableFromInline static let consumedOffset = 1024
    @usableFromInline static let producerStateOffset = 1152
    @usableFromInline static let spillCommittedOffset = 1280
    @usableFromInline static let spaceDoorbellOffset = 1408
    @usableFromInline static let openSpillOffset = 1536
    @usableFromInline static let openSpillSizeOffset = 1664

    // Consumer checkpoints: two slots, each `i64 generation, i64 position, u32 length, u32 crc, bytes`.
    @usableFromInline static let checkpointOffset = 2048
    @usableFromInline static let checkpointSlotSize = 1024
    @usableFromInline static let checkpointHeaderSize = 24
    /// The most consumer state a checkpoint holds.
    @usableFromInline static let checkpointCapacity = checkpointSlotSize - checkpointHeaderSize

    @usableFromInline static let headerSize = 4096

    // Records.
    @usableFromInline static let recordHeaderSize = 8
    @usableFromInline static let recordAlignment = 8
    @usableFromInline static let lengthOffset = 0  // i32
    @usableFromInline static let typeOffset = 4  // u16
    @usableFromInline static let flagsOffset = 6  // u16

    /// The smallest and largest data areas a ring may have.
    @usableFromInline static let minimumCapacity = 4096
    @usableFromInline static let maximumCapacity = 1 << 34

    @inlinable @inline(__always)
    static func aligned(_ length: Int) -> Int {
        (length + recordAlignment - 1) & ~(recordAlignment - 1)
    }

    /// The largest record (header included) a ring of `capacity` bytes takes: an eighth of it,
    /// as Aeron allows, so one record never fills the ring.
    @usableFromInline
    static func maximumRecordLength(capacity: Int) -> Int {
        capacity / 8
    }
}

/// Record types the ring itself uses; the types of its users start at `RingRecordType.firstUser`.
public enum RingRecordType {
    /// Fills the rest of the data area at the wrap, so a record never straddles the end.
    @usableFromInline static let padding: UInt16 = 1
    /// Marks where a spill segment's records belong: `u64 segment index, u64 record count`.
    @usableFromInline static let spillMarker: UInt16 = 2
    /// The first type a user of the ring may give its records.
    public static let firstUser: UInt16 = 16
}

/// What a producer does when the ring is full.
public enum RingPolicy: UInt32, Sendable {
    /// Refuse the record and count it (`dropped`).
    case dropNewest = 1
    /// Spin for a bounded time, then wait on the consumer, until there is room.
    case block = 2
    /// Append the record, in order, to a compressed overflow file the consumer drains first.
    case spill = 3
}
