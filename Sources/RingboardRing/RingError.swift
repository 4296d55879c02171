internal import RingboardSystem
import SystemPackage

/// What went wrong creating, opening or reading a ring.
public enum RingError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A system call failed: its name, the path it concerned and the error number.
    case systemCall(String, path: String, Errno)
    /// A ring file or directory that this user does not own, or that others can write.
    case notOwned(path: String, reason: String)
    /// A file that is not a ring of this version, or a damaged header.
    case invalidHeader(path: String, reason: String)
    /// A record that breaks the layout: a bad length, alignment or type.
    case corruptRecord(path: String, position: Int64, reason: String)
    /// A capacity that is not a power of two within the allowed range.
    case invalidCapacity(Int)
    /// A record larger than the ring allows.
    case recordTooLarge(length: Int, maximum: Int)
    /// A spill segment could not be written or read.
    case spill(path: String, reason: String)
    /// A weight segment that cannot be used: truncated, unsealed, or not a segment of this
    /// layout and sequence number.
    case weightSegment(path: String, reason: String)
    /// Another consumer holds the directory's lock.
    case consumerRunning(directory: String)
    /// A checkpoint larger than a checkpoint slot holds.
    case checkpointTooLarge(length: Int, maximum: Int)
    /// The ring directory's file system has no room for a ring's pages (a container's small
    /// `/dev/shm`, say): the ring is not made, rather than made to fault its producer later.
    case noRoomForRing(directory: String, bytes: Int)

    /// A one-line description.
    public var description: String {
        switch self {
        case .systemCall(let call, let path, let errno): SystemCallError(call, path: path, errno).description
        case .notOwned(let path, let reason): "\(path): refused: \(reason)"
        case .invalidHeader(let path, let reason): "\(path): not a usable ring: \(reason)"
        case .corruptRecord(let path, let position, let reason): "\(path): corrupt record at position \(position): \(reason)"
        case .invalidCapacity(let capacity): "ring capacity \(capacity) is not a power of two between 4 KiB and 16 GiB"
        case .recordTooLarge(let length, let maximum): "record of \(length) bytes exceeds the ring's maximum of \(maximum)"
        case .spill(let path, let reason): "\(path): spill segment: \(reason)"
        case .weightSegment(let path, let reason): "\(path): weight segment refused: \(reason)"
        case .consumerRunning(let directory): "another consumer is already serving \(directory)"
        case .checkpointTooLarge(let length, let maximum): "checkpoint of \(length) bytes exceeds the maximum of \(maximum)"
        case .noRoomForRing(let directory, let bytes):
            "\(directory): no room for a ring of \(bytes >> 20) MiB: give its file system more space (a container's "
                + "/dev/shm: docker run --shm-size), or choose another ring directory or a smaller ring"
        }
    }
}

extension RingError {
    /// A failed system call, as a ring error (the same call, path and error number).
    ///
    /// - Parameter error: The failure.
    init(_ error: SystemCallError) {
        self = .systemCall(error.call, path: error.path ?? "", error.errno)
    }
}
