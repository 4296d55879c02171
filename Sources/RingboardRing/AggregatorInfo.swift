import Glibc
import SystemPackage
internal import RingboardSystem

/// What the aggregator serving a ring directory tells trainers and `ringboard status` about
/// itself, in `aggregator.info` there: its process, its log root (runs outside it are refused,
/// so a trainer checks its `log_dir` when the callback is made) and who started it.
///
/// The file is written whole (to a temporary name, then renamed) once the aggregator holds the
/// directory's consumer lock, and removed when it exits. It is believed only while the lock is
/// held (`RingDirectory.isServed`): one left by an aggregator that was killed says nothing.
public struct AggregatorInfo: Sendable, Equatable {
    /// The aggregator's process id.
    public var processID: Int32
    /// The log root it confines runs to; `nil` when it writes any run directory its user may.
    public var logRoot: String?
    /// The trainer process that started it (`ringboard aggregate --started-by`); `nil` when it
    /// was started by hand.
    public var startedBy: Int32?
    /// Where it logs, when it logs to a file.
    public var logFile: String?

    /// The file's name in the ring directory.
    public static let fileName = "aggregator.info"

    /// Describes an aggregator.
    ///
    /// - Parameters:
    ///   - processID: Its process id.
    ///   - logRoot: Its log root, if any.
    ///   - startedBy: The trainer that started it, if any.
    ///   - logFile: Its log file, if any.
    public init(processID: Int32, logRoot: String?, startedBy: Int32?, logFile: String?) {
        self.processID = processID
        self.logRoot = logRoot
        self.startedBy = startedBy
        self.logFile = logFile
    }

    /// Writes the file into `directory`, replacing any earlier one whole.
    ///
    /// - Parameter directory: The ring directory (whose consumer lock the caller holds).
    /// - Throws: `RingError.systemCall` when the file cannot be written.
    public func write(in directory: String) throws(RingError) {
        var fields = ["pid=\(processID)"]
        if let logRoot { fields.append("log_root=\(logRoot)") }
        if let startedBy { fields.append("started_by=\(startedBy)") }
        if let logFile { fields.append("log_file=\(logFile)") }
        // NUL-separated: a path holds any byte but NUL.
        let bytes = Array(fields.joined(separator: "\0").utf8) + [0]
        do {
            try AtomicFile.replace(AggregatorInfo.fileName, under: directory, with: [bytes], permissions: [.ownerReadWrite])
        } catch {
            throw RingError(error)
        }
    }

    /// Removes the file from `directory` if it is this process's.
    ///
    /// - Parameter directory: The ring directory.
    public static func remove(in directory: String) {
        if read(in: directory)?.processID == Syscalls.processID { _ = Syscalls.unlink(directory + "/" + fileName) }
    }

    /// The file in `directory`, or `nil` when there is none or it cannot be read as one. Fields
    /// it does not know are skipped.
    ///
    /// - Parameter directory: The ring directory.
    public static func read(in directory: String) -> AggregatorInfo? {
        let path = directory + "/" + fileName
        guard let descriptor = try? FileDescriptor.open(FilePath(path), .readOnly, options: [.noFollow, .closeOnExec]) else { return nil }
        defer { try? descriptor.close() }
        var bytes = [UInt8](repeating: 0, count: 3 * 4096)
        guard let count = try? bytes.withUnsafeMutableBytes({ try descriptor.read(fromAbsoluteOffset: 0, into: $0) }),
              count < bytes.count
        else { return nil }
        var info = AggregatorInfo(processID: 0, logRoot: nil, startedBy: nil, logFile: nil)
        for field in bytes[..<count].split(separator: 0) {
            guard let equals = field.firstIndex(of: UInt8(ascii: "=")) else { continue }
            let key = String(decoding: field[..<equals], as: UTF8.self)
            let value = String(decoding: field[(equals + 1)...], as: UTF8.self)
            switch key {
            case "pid": info.processID = Int32(value) ?? 0
            case "log_root": info.logRoot = value
            case "started_by": info.startedBy = Int32(value)
            case "log_file": info.logFile = value
            default: break
            }
        }
        return info.processID > 0 ? info : nil
    }
}

extension RingDirectory {
    /// The name of the lock file whose exclusive lock the serving aggregator holds.
    public static let consumerLockName = "consumer.lock"

    /// Whether an aggregator holds `directory`'s consumer lock now.
    ///
    /// Looks by taking a shared lock for a moment. An aggregator starting in that moment waits
    /// it out (`RingConsumer` retries a held lock briefly before it gives up).
    ///
    /// - Parameter directory: The ring directory.
    /// - Returns: `true` when the lock is held by another open file.
    public static func isServed(_ directory: String) -> Bool {
        let path = directory + "/" + consumerLockName
        let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        if case .failure(let error) = valueOrErrno({ flock(descriptor, LOCK_SH | LOCK_NB) }) {
            return error == .wouldBlock
        }
        _ = flock(descriptor, LOCK_UN)
        return false
    }
}
