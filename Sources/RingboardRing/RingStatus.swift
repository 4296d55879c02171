import Glibc
import SystemPackage

/// What a ring's header says, read without changing anything (for `ringboard status`).
public struct RingStatus: Sendable, Equatable {
    /// The ring file's name.
    public var name: String
    /// The producer's process id, and whether that process (same start time) still runs.
    public var producerID: Int32
    public var producerAlive: Bool
    /// Whether the producer closed the ring.
    public var closed: Bool
    /// Bytes in the data area.
    public var capacity: Int
    /// Bytes claimed by the producer, and bytes the consumer has committed.
    public var claimedBytes: Int64
    public var committedBytes: Int64
    /// Records the consumer has taken, spilled and dropped by the producer.
    public var consumedRecords: Int64
    public var spilledRecords: Int64
    public var droppedRecords: Int64
    /// The producer's last heartbeat, ns since the Unix epoch.
    public var heartbeat: Int64

    /// Bytes claimed but not yet committed by the consumer.
    public var lag: Int64 { claimedBytes - committedBytes }

    /// The status of every ring file in `directory`, sorted by name; files that are not rings of
    /// this version are left out.
    ///
    /// - Parameter directory: A ring directory.
    /// - Returns: One status per ring.
    /// - Throws: `RingError` when the directory cannot be listed.
    public static func all(in directory: String) throws(RingError) -> [RingStatus] {
        try DirectoryEntries.names(in: directory).filter { $0.hasSuffix(RingDirectory.ringSuffix) && !$0.hasPrefix(".") }
            .sorted().compactMap { read(directory + "/" + $0) }
    }

    /// Reads one ring's header (the first 4 KiB) with `pread`; `nil` if it is not a ring.
    static func read(_ path: String) -> RingStatus? {
        guard let descriptor = try? FileDescriptor.open(FilePath(path), .readOnly, options: [.noFollow, .closeOnExec]) else { return nil }
        defer { try? descriptor.close() }
        var header = [UInt8](repeating: 0, count: RingLayout.headerSize)
        guard let count = try? header.withUnsafeMutableBytes({ try descriptor.read(fromAbsoluteOffset: 0, into: $0) }),
              count == RingLayout.headerSize
        else { return nil }
        func load<T: FixedWidthInteger>(_ offset: Int, _: T.Type) -> T {
            header.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: T.self)) }
        }
        guard load(RingLayout.magicOffset, UInt64.self) == RingLayout.magic,
              RingLayout.readableVersions.contains(load(RingLayout.versionOffset, UInt32.self))
        else { return nil }
        let pid = Int32(truncatingIfNeeded: load(RingLayout.producerIDOffset, Int64.self))
        let startTime = load(RingLayout.producerStartTimeOffset, UInt64.self)
        let alive = startTime == 0 ? Syscalls.processExists(pid) : Syscalls.processStartTime(pid) == startTime
        return RingStatus(
            name: String(path.split(separator: "/").last ?? ""), producerID: pid, producerAlive: alive,
            closed: load(RingLayout.producerStateOffset, Int64.self) == 1,
            capacity: Int(load(RingLayout.capacityOffset, UInt64.self)),
            claimedBytes: load(RingLayout.tailOffset, Int64.self), committedBytes: load(RingLayout.headOffset, Int64.self),
            consumedRecords: load(RingLayout.consumedOffset, Int64.self), spilledRecords: load(RingLayout.spilledOffset, Int64.self),
            droppedRecords: load(RingLayout.droppedOffset, Int64.self), heartbeat: load(RingLayout.heartbeatOffset, Int64.self))
    }
}
