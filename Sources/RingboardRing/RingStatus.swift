import Glibc
import SystemPackage
internal import RingboardSystem

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

    /// Why the header cannot be trusted (sizes or positions no producer and consumer could have
    /// stored), as `RingReader` would refuse it; `nil` for a sound ring. The counters of a
    /// damaged ring are zero.
    public var damage: String?

    /// Bytes claimed but not yet committed by the consumer (0 for a damaged ring).
    public var lag: Int64 { damage == nil ? claimedBytes - committedBytes : 0 }

    /// The status of every ring file in `directory`, sorted by name; files that are not rings of
    /// this version are left out, and a ring with a damaged header is listed with its `damage`.
    ///
    /// - Parameter directory: A ring directory.
    /// - Returns: One status per ring.
    /// - Throws: `RingError` when the directory cannot be listed.
    public static func all(in directory: String) throws(RingError) -> [RingStatus] {
        let names: [String]
        do {
            names = try DirectoryListing.names(in: directory)
        } catch {
            throw RingError(error)
        }
        return names.filter { $0.hasSuffix(RingDirectory.ringSuffix) && !$0.hasPrefix(".") }.sorted().compactMap { read(directory + "/" + $0) }
    }

    /// Reads one ring's header (the first 4 KiB) with `pread`; `nil` if it is not a ring (not a
    /// regular file, or not this magic and a version this build reads).
    static func read(_ path: String) -> RingStatus? {
        // Non-blocking, so that a FIFO given a ring's name cannot hold the open.
        guard let descriptor = try? FileDescriptor.open(FilePath(path), .readOnly, options: [.noFollow, .closeOnExec, .nonBlocking])
        else { return nil }
        defer { try? descriptor.close() }
        guard case .success(let status) = Syscalls.status(descriptor), status.isRegular else { return nil }
        var header = [UInt8](repeating: 0, count: RingLayout.headerSize)
        func load<T: FixedWidthInteger>(_ offset: Int, _: T.Type) -> T {
            header.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: T.self)) }
        }
        var damage: String?
        // A live ring's counters move while they are copied (tail is copied before head), so a
        // header that looks damaged is read again: real damage stays, a moving ring does not.
        for _ in 0..<3 {
            guard let count = try? header.withUnsafeMutableBytes({ try descriptor.read(fromAbsoluteOffset: 0, into: $0) }),
                  count >= RingLayout.versionOffset + MemoryLayout<UInt32>.size
            else { return nil }
            guard load(RingLayout.magicOffset, UInt64.self) == RingLayout.magic,
                  RingLayout.readableVersions.contains(load(RingLayout.versionOffset, UInt32.self))
            else { return nil }
            // The checks RingReader makes before it reads a ring (its file's size, its header's
            // sizes, then its positions), so that status calls damaged what the aggregator refuses.
            let capacityField = load(RingLayout.capacityOffset, UInt64.self)
            damage = count < RingLayout.headerSize
                ? "\(status.size) bytes is smaller than a ring"
                : RingLayout.sizesProblem(capacityField: capacityField, headerSizeField: load(RingLayout.headerSizeOffset, UInt32.self),
                                          fileSize: status.size)
                    ?? RingLayout.positionsProblem(
                        head: load(RingLayout.headOffset, Int64.self), tail: load(RingLayout.tailOffset, Int64.self), capacity: Int(capacityField))
            if damage == nil { break }
        }
        let name = String(path.split(separator: "/").last ?? "")
        let pid = Int32(truncatingIfNeeded: load(RingLayout.producerIDOffset, Int64.self))
        let startTime = load(RingLayout.producerStartTimeOffset, UInt64.self)
        let alive = pid > 0 && (startTime == 0 ? Syscalls.processExists(pid) : Syscalls.processStartTime(pid) == startTime)
        if let damage {
            return RingStatus(
                name: name, producerID: pid, producerAlive: alive, closed: false, capacity: 0, claimedBytes: 0, committedBytes: 0,
                consumedRecords: 0, spilledRecords: 0, droppedRecords: 0, heartbeat: 0, damage: damage)
        }
        return RingStatus(
            name: name, producerID: pid, producerAlive: alive,
            closed: load(RingLayout.producerStateOffset, Int64.self) == 1,
            capacity: Int(load(RingLayout.capacityOffset, UInt64.self)),
            claimedBytes: load(RingLayout.tailOffset, Int64.self), committedBytes: load(RingLayout.headOffset, Int64.self),
            consumedRecords: load(RingLayout.consumedOffset, Int64.self), spilledRecords: load(RingLayout.spilledOffset, Int64.self),
            droppedRecords: load(RingLayout.droppedOffset, Int64.self), heartbeat: load(RingLayout.heartbeatOffset, Int64.self))
    }
}
